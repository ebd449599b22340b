/* SPDX-License-Identifier: MIT */
/*
 * test_rules.c: loading rule files: every YAML-level error and every
 * validation rule with its exact position and message, the fields each key
 * fills, defaults, directories, the byte pre-checks (with two public
 * libfyaml fuzz inputs) and seeded random inputs that must never crash,
 * hang or leak.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/rules.h"
#include "tests/support/test_support.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

/* lines: every diagnostic as "LINE:COL: MESSAGE\n" (file name left out
 * when it is t.yaml, kept otherwise). */
static const char *
lines(const cep_diag *d)
{
	static char text[16384];
	size_t      len = 0;

	text[0] = '\0';
	for (size_t i = 0; i < cep_diag_count(d, -1); i++) {
		const cep_diag_item *it = cep_diag_get(d, i);
		int                  n;

		if (it->loc.file != NULL &&
		    strcmp(it->loc.file, "t.yaml") != 0) {
			n = snprintf(text + len, sizeof(text) - len,
			    "%s:", it->loc.file);
			len += n > 0 ? (size_t) n : 0;
		}
		n = snprintf(text + len, sizeof(text) - len, "%u:%u: %s\n",
		    it->loc.line, it->loc.col, it->message);
		len += n > 0 ? (size_t) n : 0;
		ck_assert_uint_lt(len, sizeof(text));
	}
	return (text);
}

/* load_ok loads text that must be valid. */
static srv_rules *
load_ok(const char *yaml)
{
	cep_diag  *d = cep_diag_create();
	srv_rules *r = NULL;
	cep_err    rv;

	rv = srv_rules_load_text("t.yaml", yaml, strlen(yaml), &r, d);
	ck_assert_msg(rv == CEP_OK, "load failed (%s):\n%s", cep_errname(rv),
	    cep_test_diag_text(d));
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(cep_diag_count(d, -1), 0);
	cep_diag_destroy(d);
	return (r);
}

/* expect_n: loading n bytes fails with exactly `want` (see lines). */
static void
expect_n(const char *yaml, size_t n, const char *want)
{
	cep_diag  *d = cep_diag_create();
	srv_rules *r = NULL;

	CEP_ASSERT_ERR(
	    srv_rules_load_text("t.yaml", yaml, n, &r, d), CEP_EINVAL);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(lines(d), want);
	cep_diag_destroy(d);
}

static void
expect(const char *yaml, const char *want)
{
	expect_n(yaml, strlen(yaml), want);
}

/* A pattern around one step list; `extra` goes before `sequence`. */
static char *
pat(const char *extra, const char *steps)
{
	static char buf[8192];

	// Line 3 is `extra` (a filler when empty): steps start on line 5.
	snprintf(buf, sizeof(buf),
	    "patterns:\n"
	    "  - name: p\n"
	    "%s"
	    "    sequence:\n"
	    "%s",
	    extra[0] != '\0' ? extra : "    shadow: false\n", steps);
	return (buf);
}

/* ------------------------------------------------------------------ */
/* YAML-level errors                                                  */
/* ------------------------------------------------------------------ */

START_TEST(yaml_syntax_error_is_reported_at_its_position)
{
	expect("patterns: [a\n",
	    "2:1: flow sequence without a closing bracket\n");
}
END_TEST

START_TEST(yaml_alias_is_refused)
{
	expect("patterns:\n"
	       "  - &p {name: a, sequence: [{begin: x}]}\n"
	       "  - *p\n",
	    "3:5: aliases are not allowed\n");
}
END_TEST

START_TEST(yaml_tag_is_refused)
{
	expect("patterns: !!seq []\n", "1:11: tags are not allowed\n");
}
END_TEST

START_TEST(yaml_second_document_is_refused)
{
	expect("patterns: []\n---\npatterns: []\n",
	    "2:1: a rule file holds one YAML document; this is a second "
	    "one\n");
}
END_TEST

START_TEST(yaml_duplicate_key_is_reported_at_the_second)
{
	expect("patterns: []\npatterns: []\n",
	    "2:1: duplicate key 'patterns' (first at 1:1)\n");
	expect(pat("",
	           "      - begin: a\n"
	           "        optional: true\n"
	           "        optional: false\n"),
	    "7:9: duplicate key 'optional' (first at 6:9)\n");
}
END_TEST

START_TEST(yaml_key_that_is_not_a_scalar_is_refused)
{
	expect("? [a]\n: 1\npatterns: []\n", "1:3: a key must be a scalar\n");
}
END_TEST

START_TEST(yaml_nesting_is_bounded)
{
	char   buf[256];
	size_t n = 0;

	n += (size_t) snprintf(buf, sizeof(buf), "patterns: ");
	for (int i = 0; i < 70; i++) {
		buf[n++] = '[';
	}
	for (int i = 0; i < 70; i++) {
		buf[n++] = ']';
	}
	buf[n++] = '\n';
	buf[n]   = '\0';
	expect(buf, "1:74: nesting deeper than 64 levels\n");
}
END_TEST

START_TEST(top_level_must_be_a_mapping)
{
	expect(
	    "- a\n", "1:1: a rule file must be a mapping with 'patterns'\n");
}
END_TEST

START_TEST(top_level_needs_patterns)
{
	expect("defaults: {within: 1m}\n",
	    "1:1: a rule file needs 'patterns' (a list of patterns)\n");
	expect("", "1:1: a rule file needs 'patterns' (a list of patterns)\n");
	expect(
	    "patterns: {}\n", "1:11: 'patterns' must be a list of patterns\n");
}
END_TEST

START_TEST(streams_load_with_their_windows_and_aggregates)
{
	srv_rules *r = load_ok(
	    "defaults: {time: t}\n"
	    "streams:\n"
	    "  - name: rate\n"
	    "    where: kind == \"http\"\n"
	    "    key: src.ip\n"
	    "    max_delay: 2s\n"
	    "    window: {tumble: 1s}\n"
	    "    aggregate: {n: count(), bytes: sum(size), d: "
	    "count_distinct(path)}\n"
	    "  - name: slow\n"
	    "    from: rate\n"
	    "    window: {slide: 10s, every: 1s}\n"
	    "    aggregate: {peak: max(n), mean: avg(bytes), low: min(n)}\n"
	    "  - name: visits\n"
	    "    window: {session: 30m}\n"
	    "    aggregate: {n: count()}\n"
	    "patterns:\n"
	    "  - name: flood\n"
	    "    from: slow\n"
	    "    sequence:\n"
	    "      - begin: hot\n"
	    "        where: peak > 1000\n");
	const srv_stream *a, *b, *c;

	ck_assert_uint_eq(r->nstreams, 3);
	a = r->streams[0];
	b = r->streams[1];
	c = r->streams[2];
	ck_assert_str_eq(a->name, "rate");
	ck_assert_str_eq(a->from, "events");
	ck_assert_ptr_nonnull(a->where);
	ck_assert_str_eq(a->key.text, "src.ip");
	ck_assert_str_eq(a->time.text, "t");
	ck_assert(a->max_delay_set && a->max_delay == 2000);
	ck_assert_int_eq(a->window.kind, CEP_WINDOW_TUMBLE);
	ck_assert_int_eq(a->window.size, 1000);
	ck_assert_uint_eq(a->naggs, 3);
	ck_assert_str_eq(a->aggs[0].name, "n");
	ck_assert_int_eq(a->aggs[0].kind, CEP_AGG_COUNT);
	ck_assert_ptr_null(a->aggs[0].field);
	ck_assert_int_eq(a->aggs[1].kind, CEP_AGG_SUM);
	ck_assert_str_eq(a->aggs[1].field, "size");
	ck_assert_int_eq(a->aggs[2].kind, CEP_AGG_COUNT_DISTINCT);
	ck_assert_str_eq(b->from, "rate");
	ck_assert_int_eq(b->window.kind, CEP_WINDOW_SLIDE);
	ck_assert_int_eq(b->window.size, 10000);
	ck_assert_int_eq(b->window.every, 1000);
	ck_assert_int_eq(b->aggs[1].kind, CEP_AGG_AVG);
	ck_assert_int_eq(b->aggs[2].kind, CEP_AGG_MIN);
	ck_assert_int_eq(c->window.kind, CEP_WINDOW_SESSION);
	ck_assert_int_eq(c->window.size, 1800000);
	ck_assert_str_eq(c->key.text == NULL ? "" : c->key.text, "");
	ck_assert_str_eq(r->patterns[0]->from, "slow");
	srv_rules_destroy(r);
}
END_TEST

START_TEST(stream_errors_point_at_the_offending_node)
{
	expect("streams:\n"
	       "  - name: s\n"
	       "    window: {tumble: 1s, session: 2s}\n"
	       "    aggregate: {n: count(x), m: total(y), window_end: "
	       "count()}\n"
	       "patterns: []\n",
	    "3:13: 'window' needs exactly one of tumble, slide, session\n"
	    "4:20: count() takes no field\n"
	    "4:33: 'total(y)' is not an aggregate: use count(), sum(f), "
	    "avg(f), min(f), max(f) or count_distinct(f)\n"
	    "4:43: aggregate 'window_end' would overwrite a field the "
	    "window writes (the key, window_start, window_end, the time)\n");
	expect("streams:\n"
	       "  - name: s\n"
	       "    window: {slide: 1s}\n"
	       "    aggregate: {n: sum()}\n"
	       "patterns: []\n",
	    "3:14: a sliding window needs 'every' (how often a window "
	    "starts)\n"
	    "4:20: sum() needs a field, as in sum(size)\n");
	expect("streams:\n"
	       "  - name: a\n"
	       "    from: b\n"
	       "    window: {tumble: 1s}\n"
	       "    aggregate: {n: count()}\n"
	       "  - name: b\n"
	       "    from: a\n"
	       "    window: {tumble: 1s}\n"
	       "    aggregate: {n: count()}\n"
	       "  - name: a\n"
	       "    window: {tumble: 1s}\n"
	       "    aggregate: {n: count()}\n"
	       "patterns:\n"
	       "  - name: p\n"
	       "    from: nowhere\n"
	       "    sequence: [{begin: x}]\n",
	    "3:11: stream 'a' reads from itself through 'from'\n"
	    "7:11: stream 'b' reads from itself through 'from'\n"
	    "10:11: duplicate stream name 'a' (first defined at t.yaml:2:11)\n"
	    "15:11: unknown stream 'nowhere'\n");
}
END_TEST

START_TEST(unknown_key_suggests_the_nearest)
{
	expect("patterns: []\npaterns: []\nzebra: 1\n",
	    "2:1: unknown key 'paterns' at the top level; did you mean "
	    "'patterns'?\n"
	    "3:1: unknown key 'zebra' at the top level\n");
	expect(pat("    withn: 1m\n", "      - begin: a\n"),
	    "3:5: unknown key 'withn' in a pattern; did you mean "
	    "'within'?\n");
	expect(pat("", "      - begin: a\n        wher: x > 1\n"),
	    "6:9: unknown key 'wher' in a step; did you mean 'where'?\n");
	expect("defaults: {tme: t}\npatterns: []\n",
	    "1:12: unknown key 'tme' in defaults; did you mean 'time'?\n");
}
END_TEST

START_TEST(misplaced_key_is_reported_at_the_key)
{
	expect(pat("", "      - begin: a\n        within: 1m\n"),
	    "6:9: 'within' is a pattern key, not a step key\n");
	expect(pat("    optional: true\n", "      - begin: a\n"),
	    "3:5: 'optional' is a step key, not a pattern key\n");
	expect("name: p\npatterns: []\n",
	    "1:1: 'name' is a pattern key; patterns go in a list under "
	    "'patterns'\n");
	expect("defaults: {skip: no_skip}\npatterns: []\n",
	    "1:12: 'skip' has no default; set it on each pattern\n");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Pattern keys                                                       */
/* ------------------------------------------------------------------ */

START_TEST(pattern_must_be_a_mapping)
{
	expect("patterns:\n  - just a string\n",
	    "2:5: a pattern must be a mapping\n");
}
END_TEST

START_TEST(pattern_needs_a_name)
{
	expect("patterns:\n  - sequence: [{begin: a}]\n",
	    "2:5: a pattern needs a 'name'\n");
	expect("patterns:\n  - name: [a]\n    sequence: [{begin: a}]\n",
	    "2:11: 'name' must be a string\n");
}
END_TEST

START_TEST(pattern_name_is_checked)
{
	expect("patterns:\n  - name: a:b\n    sequence: [{begin: a}]\n",
	    "2:11: invalid pattern name 'a:b': use letters, digits, '_', '.' "
	    "and '-'\n");
}
END_TEST

START_TEST(pattern_names_are_unique)
{
	expect("patterns:\n"
	       "  - name: p\n"
	       "    sequence: [{begin: a}]\n"
	       "  - name: p\n"
	       "    sequence: [{begin: a}]\n",
	    "4:11: duplicate pattern name 'p' (first at t.yaml:2:11)\n");
}
END_TEST

START_TEST(pattern_needs_a_sequence)
{
	expect("patterns:\n  - name: p\n",
	    "2:5: pattern 'p' needs a 'sequence' of steps\n");
	expect(pat("", "      []\n"), "5:7: 'sequence' must not be empty\n");
	expect("patterns:\n  - name: p\n    sequence: {begin: a}\n",
	    "3:15: 'sequence' must be a list of steps\n");
}
END_TEST

START_TEST(field_paths_are_checked)
{
	char extra[400];

	expect(pat("    key: card..id\n", "      - begin: a\n"),
	    "3:10: 'key' must be a field path such as card_id or src.ip\n");
	expect(pat("    time: .ts\n", "      - begin: a\n"),
	    "3:11: 'time' must be a field path such as card_id or src.ip\n");
	expect(pat("    key:\n", "      - begin: a\n"),
	    "3:5: 'key' must be a field path such as card_id or src.ip\n");
	snprintf(extra, sizeof(extra), "    key: a.%0300d\n", 0);
	expect(pat(extra, "      - begin: a\n"),
	    "3:10: 'key': a field name is too long (at most 256 bytes)\n");
}
END_TEST

START_TEST(from_names_a_known_stream)
{
	expect(pat("    from: clicks\n", "      - begin: a\n"),
	    "3:11: unknown stream 'clicks'\n");
}
END_TEST

START_TEST(durations_are_checked)
{
	expect(pat("    within: 10\n", "      - begin: a\n"),
	    "3:13: 'within' must be a duration: an integer followed by ms, "
	    "s, m, h or d (like 250ms or 10m)\n");
	expect(pat("    within: 1.5s\n", "      - begin: a\n"),
	    "3:13: 'within' must be a duration: an integer followed by ms, "
	    "s, m, h or d (like 250ms or 10m)\n");
	expect(pat("    within: 0s\n", "      - begin: a\n"),
	    "3:13: 'within' must be greater than 0\n");
	expect(pat("    key_ttl: 0ms\n", "      - begin: a\n"),
	    "3:14: 'key_ttl' must be greater than 0\n");
	expect(pat("    max_delay: -1s\n", "      - begin: a\n"),
	    "3:16: 'max_delay' must be a duration: an integer followed by "
	    "ms, s, m, h or d (like 250ms or 10m)\n");
	expect(pat("    within: 106751991168d\n", "      - begin: a\n"),
	    "3:13: 'within' is too large\n");
	expect(
	    pat("    within: 2305843009213693953ms\n", "      - begin: a\n"),
	    "3:13: 'within' is too large\n");
	expect(
	    pat("    within: 99999999999999999999ms\n", "      - begin: a\n"),
	    "3:13: 'within' is too large\n");
}
END_TEST

START_TEST(durations_take_every_unit)
{
	srv_rules *r = load_ok(pat("    within: 5s\n"
	                           "    max_delay: 0ms\n"
	                           "    key_ttl: 2d\n",
	    "      - begin: a\n"
	    "        one_or_more: true\n"
	    "      - next: b\n"
	    "        max_gap: 250ms\n"));
	ck_assert_int_eq(r->patterns[0]->within, 5000);
	ck_assert_int_eq(r->patterns[0]->steps[1].max_gap, 250);
	ck_assert_int_eq(r->patterns[0]->max_delay, 0);
	ck_assert(r->patterns[0]->max_delay_set);
	ck_assert_int_eq(r->patterns[0]->key_ttl, 2 * 86400000LL);
	srv_rules_destroy(r);
	r = load_ok(
	    pat("    within: 7m\n    max_delay: 2h\n", "      - begin: a\n"));
	ck_assert_int_eq(r->patterns[0]->within, 7 * 60000);
	ck_assert_int_eq(r->patterns[0]->max_delay, 2 * 3600000LL);
	srv_rules_destroy(r);
	// The longest duration: CEP_TIME_LIMIT, 2^61 ms.
	r = load_ok(
	    pat("    within: 2305843009213693952ms\n", "      - begin: a\n"));
	ck_assert_int_eq(r->patterns[0]->within, CEP_TIME_LIMIT);
	srv_rules_destroy(r);
}
END_TEST

START_TEST(skip_is_checked)
{
	expect(pat("    skip: skip_to_nxt\n", "      - begin: a\n"),
	    "3:11: unknown skip strategy 'skip_to_nxt'; did you mean "
	    "'skip_to_next'?\n");
	expect(pat("    skip: {skip_to_frist: a}\n", "      - begin: a\n"),
	    "3:12: unknown key 'skip_to_frist' in skip; did you mean "
	    "'skip_to_first'?\n");
	expect(pat("    skip: {skip_to_first: a, skip_to_last: a}\n",
	           "      - begin: a\n"),
	    "3:30: 'skip' takes one of skip_to_first and skip_to_last\n");
	expect(pat("    skip: {skip_to_last: [a]}\n", "      - begin: a\n"),
	    "3:26: 'skip_to_last' must be a step name\n");
	expect(pat("    skip: [a]\n", "      - begin: a\n"),
	    "3:11: 'skip' must be no_skip, skip_to_next, "
	    "skip_past_last_event, {skip_to_first: STEP} or {skip_to_last: "
	    "STEP}\n");
}
END_TEST

START_TEST(booleans_are_checked)
{
	expect(pat("    timeouts: yes\n", "      - begin: a\n"),
	    "3:15: 'timeouts' must be true or false\n");
	expect(pat("    shadow: \"true\"\n", "      - begin: a\n"),
	    "3:13: 'shadow' must be true or false\n");
}
END_TEST

START_TEST(operations_keys_are_checked)
{
	expect(pat("    max_partial_matches: 0\n", "      - begin: a\n"),
	    "3:26: 'max_partial_matches' must be at least 1\n");
	expect(pat("    max_partial_matches: many\n", "      - begin: a\n"),
	    "3:26: 'max_partial_matches' must be an integer >= 1\n");
	expect(pat("    max_partial_matches: 99999999999999999999\n",
	           "      - begin: a\n"),
	    "3:26: 'max_partial_matches' is too large (at most "
	    "18446744073709551615)\n");
	expect(pat("    overflow: drop_odlest\n", "      - begin: a\n"),
	    "3:15: unknown overflow 'drop_odlest'; did you mean "
	    "'drop_oldest'?\n");
	expect(pat("    overflow: fail\n", "      - begin: a\n"),
	    "3:15: unknown overflow 'fail' (drop_oldest, drop_newest or "
	    "reject_start)\n");
	expect(pat("    description: [a]\n", "      - begin: a\n"),
	    "3:18: 'description' must be a string\n");
}
END_TEST

START_TEST(emit_is_checked)
{
	expect(pat("    emit: [a]\n", "      - begin: a\n"),
	    "3:11: 'emit' must be a mapping of output names to "
	    "expressions\n");
	expect(pat("    emit: {1x: count(a)}\n", "      - begin: a\n"),
	    "3:12: invalid emit name '1x': use a letter or '_', then "
	    "letters, digits or '_'\n");
	expect(pat("    emit: {n: }\n", "      - begin: a\n"),
	    "3:12: 'n' must be an expression\n");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Step keys                                                          */
/* ------------------------------------------------------------------ */

START_TEST(step_must_be_a_mapping)
{
	expect(pat("", "      - begin\n"), "5:9: a step must be a mapping\n");
}
END_TEST

START_TEST(step_needs_exactly_one_kind)
{
	expect(pat("", "      - where: x > 1\n"),
	    "5:9: a step needs one of begin, next, followed_by, "
	    "followed_by_any, not_next, not_followed_by\n");
	expect(pat("", "      - begin: a\n        next: b\n"),
	    "6:9: a step has one kind; this one has 'begin' already (at "
	    "5:9)\n");
}
END_TEST

START_TEST(step_name_is_checked)
{
	expect(pat("", "      - begin: 1a\n"),
	    "5:16: invalid step name '1a': use a letter or '_', then "
	    "letters, digits, '_' or '-'\n");
	expect(
	    pat("", "      - begin:\n"), "5:9: 'begin' must be a step name\n");
}
END_TEST

START_TEST(where_and_until_need_expressions)
{
	expect(pat("", "      - begin: a\n        where: [x]\n"),
	    "6:16: 'where' must be an expression\n");
	expect(pat("",
	           "      - begin: a\n        one_or_more: true\n"
	           "        until:\n"),
	    "7:9: 'until' must be an expression\n");
}
END_TEST

START_TEST(times_is_checked)
{
	expect(pat("", "      - begin: a\n        times: 0\n"),
	    "6:16: 'times' must be at least 1\n");
	expect(pat("", "      - begin: a\n        times: x\n"),
	    "6:16: 'times' must be an integer or a list [N, M]\n");
	expect(pat("", "      - begin: a\n        times: [1, 2, 3]\n"),
	    "6:16: 'times' must be an integer or a list [N, M]\n");
	expect(pat("", "      - begin: a\n        times: [3, 2]\n"),
	    "6:16: 'times': N must not be greater than M\n");
	expect(pat("", "      - begin: a\n        times: [0, 0]\n"),
	    "6:20: 'times': M must be at least 1\n");
	expect(pat("", "      - begin: a\n        times: [-1, 2]\n"),
	    "6:17: 'times' must be an integer >= 0\n");
	expect(pat("", "      - begin: a\n        times: 4294967296\n"),
	    "6:16: 'times' is too large (at most 4294967295)\n");
}
END_TEST

START_TEST(one_or_more_and_times_or_more_are_checked)
{
	expect(pat("", "      - begin: a\n        one_or_more: 1\n"),
	    "6:22: 'one_or_more' must be true or false\n");
	expect(pat("", "      - begin: a\n        times_or_more: 0\n"),
	    "6:24: 'times_or_more' must be at least 1\n");
}
END_TEST

START_TEST(a_step_takes_one_quantifier)
{
	expect(pat("",
	           "      - begin: a\n        times: 2\n"
	           "        one_or_more: true\n"),
	    "7:9: step 'a' already has a quantifier ('times' at 6:9)\n");
	expect(pat("",
	           "      - begin: a\n        times_or_more: 2\n"
	           "        times: [1, 2]\n"),
	    "7:9: step 'a' already has a quantifier ('times_or_more' at "
	    "6:9)\n");
	// one_or_more: false is no quantifier.
	srv_rules_destroy(load_ok(pat("",
	    "      - begin: a\n"
	    "        one_or_more: false\n"
	    "        times: 2\n")));
}
END_TEST

START_TEST(flags_are_checked)
{
	expect(pat("", "      - begin: a\n        optional: maybe\n"),
	    "6:19: 'optional' must be true or false\n");
	expect(pat("",
	           "      - begin: a\n        times: 2\n"
	           "        greedy: 1\n"),
	    "7:17: 'greedy' must be true or false\n");
}
END_TEST

START_TEST(max_gap_is_checked)
{
	expect(pat("",
	           "      - begin: a\n      - next: b\n        max_gap: "
	           "0s\n"),
	    "7:18: 'max_gap' must be greater than 0\n");
}
END_TEST

START_TEST(group_sequence_is_checked)
{
	expect(pat("", "      - begin: g\n        sequence: []\n"),
	    "6:19: 'sequence' must not be empty\n");
	expect(pat("", "      - begin: g\n        sequence: x\n"),
	    "6:19: 'sequence' must be a list of steps\n");
}
END_TEST

/* ------------------------------------------------------------------ */
/* FlinkCEP rules (nfa_pattern_validate, through YAML)                */
/* ------------------------------------------------------------------ */

START_TEST(first_step_must_be_begin)
{
	expect(pat("", "      - next: a\n      - next: b\n"),
	    "5:9: step 'a': the first step must be 'begin'\n");
	expect(pat("", "      - not_next: a\n      - next: b\n"),
	    "5:9: step 'a': the first step must be 'begin'\n");
}
END_TEST

START_TEST(only_the_first_step_is_begin)
{
	expect(pat("", "      - begin: a\n      - begin: b\n"),
	    "6:9: step 'b': only the first step may be 'begin'\n");
}
END_TEST

START_TEST(group_first_step_must_be_begin)
{
	expect(pat("",
	           "      - begin: a\n"
	           "      - next: g\n"
	           "        sequence:\n"
	           "          - next: x\n"
	           "          - begin: y\n"),
	    "8:13: step 'x': the first step of group 'g' must be 'begin'\n"
	    "9:13: step 'y': only the first step may be 'begin'\n");
}
END_TEST

START_TEST(negative_step_takes_no_quantifier)
{
	expect(pat("",
	           "      - begin: a\n      - not_next: n\n"
	           "        times: 2\n      - next: b\n"),
	    "7:9: step 'n': 'times' is not applicable to a negative step\n");
	expect(pat("",
	           "      - begin: a\n      - not_followed_by: n\n"
	           "        one_or_more: true\n      - next: b\n"),
	    "7:9: step 'n': 'one_or_more' is not applicable to a negative "
	    "step\n");
}
END_TEST

START_TEST(negative_step_cannot_be_optional)
{
	expect(pat("",
	           "      - begin: a\n      - not_next: n\n"
	           "        optional: true\n      - next: b\n"),
	    "7:9: step 'n': a negative step cannot be optional\n");
}
END_TEST

START_TEST(negative_step_takes_no_loop_options)
{
	expect(pat("",
	           "      - begin: a\n      - not_next: n\n"
	           "        greedy: true\n"
	           "        consecutive: true\n"
	           "        allow_combinations: true\n"
	           "        until: x > 1\n"
	           "      - next: b\n"),
	    "7:9: step 'n': 'greedy' is not applicable to a negative step\n"
	    "8:9: step 'n': 'consecutive' is not applicable to a negative "
	    "step\n"
	    "9:9: step 'n': 'allow_combinations' is not applicable to a "
	    "negative step\n"
	    "10:9: step 'n': 'until' is not applicable to a negative step\n");
}
END_TEST

START_TEST(negative_step_cannot_be_a_group)
{
	expect(pat("",
	           "      - begin: a\n      - not_next: n\n"
	           "        sequence: [{begin: x}]\n      - next: b\n"),
	    "7:9: step 'n': a negative step cannot be a group\n");
}
END_TEST

START_TEST(not_followed_by_at_the_end_needs_within)
{
	expect(pat("", "      - begin: a\n      - not_followed_by: n\n"),
	    "6:9: step 'n': not_followed_by as the last step needs "
	    "'within'\n");
	srv_rules_destroy(load_ok(pat("    within: 1m\n",
	    "      - begin: a\n      - not_followed_by: n\n")));
	srv_rules_destroy(load_ok(pat("",
	    "      - begin: a\n      - not_followed_by: n\n"
	    "        max_gap: 1m\n")));
	// not_next may end a pattern.
	srv_rules_destroy(
	    load_ok(pat("", "      - begin: a\n      - not_next: n\n")));
}
END_TEST

START_TEST(group_cannot_end_with_not_followed_by)
{
	expect(pat("    within: 1m\n",
	           "      - begin: a\n"
	           "      - next: g\n"
	           "        sequence:\n"
	           "          - begin: x\n"
	           "          - not_followed_by: y\n"
	           "      - next: b\n"),
	    "9:13: step 'y': a group cannot end with not_followed_by\n");
}
END_TEST

START_TEST(negative_step_cannot_follow_an_optional_step)
{
	expect(pat("",
	           "      - begin: a\n      - next: o\n"
	           "        optional: true\n      - not_next: n\n"
	           "      - next: b\n"),
	    "8:9: step 'n': a negative step cannot follow an optional step\n");
	expect(pat("",
	           "      - begin: a\n      - next: o\n"
	           "        times: [0, 3]\n      - not_followed_by: n\n"
	           "      - next: b\n"),
	    "8:9: step 'n': a negative step cannot follow an optional step\n");
	// The other way round is fine.
	srv_rules_destroy(load_ok(pat("",
	    "      - begin: a\n"
	    "      - not_next: n\n"
	    "      - next: o\n"
	    "        optional: true\n")));
}
END_TEST

START_TEST(optional_cannot_be_applied_twice)
{
	expect(pat("",
	           "      - begin: a\n        times: [0, 2]\n"
	           "        optional: true\n"),
	    "7:9: step 'a': optional already applied (times: [0, M] is "
	    "optional)\n");
}
END_TEST

START_TEST(greedy_is_checked)
{
	expect(pat("", "      - begin: a\n        greedy: true\n"),
	    "6:9: step 'a': greedy needs one_or_more, times_or_more or "
	    "times\n");
	expect(pat("",
	           "      - begin: g\n        times: 2\n"
	           "        greedy: true\n"
	           "        sequence: [{begin: x}]\n"),
	    "7:9: step 'g': greedy is not applicable to a group\n");
	expect(pat("",
	           "      - begin: a\n        one_or_more: true\n"
	           "        greedy: true\n"
	           "        allow_combinations: true\n"),
	    "7:9: step 'a': greedy cannot be combined with "
	    "allow_combinations\n");
	// greedy: false is absent.
	srv_rules_destroy(load_ok(pat("",
	    "      - begin: a\n"
	    "        greedy: false\n")));
}
END_TEST

START_TEST(optional_step_cannot_follow_a_greedy_step)
{
	expect(pat("",
	           "      - begin: a\n        one_or_more: true\n"
	           "        greedy: true\n"
	           "      - next: b\n        optional: true\n"),
	    "9:9: step 'b': an optional step cannot follow a greedy step\n");
	expect(pat("",
	           "      - begin: a\n        one_or_more: true\n"
	           "        greedy: true\n"
	           "      - next: b\n        times: [0, 2]\n"),
	    "9:9: step 'b': an optional step cannot follow a greedy step\n");
}
END_TEST

START_TEST(until_needs_a_looping_step)
{
	expect(pat("", "      - begin: a\n        until: x > 1\n"),
	    "6:9: step 'a': until needs one_or_more or times_or_more\n");
	expect(pat("",
	           "      - begin: a\n        times: [1, 3]\n"
	           "        until: x > 1\n"),
	    "7:9: step 'a': until needs one_or_more or times_or_more\n");
	srv_rules_destroy(load_ok(pat("",
	    "      - begin: a\n"
	    "        times_or_more: 2\n"
	    "        until: x > 1\n")));
	// A looping group may have until.
	srv_rules_destroy(load_ok(pat("",
	    "      - begin: g\n"
	    "        one_or_more: true\n"
	    "        until: x > 1\n"
	    "        sequence: [{begin: x}]\n")));
}
END_TEST

START_TEST(group_has_no_where)
{
	expect(pat("",
	           "      - begin: g\n        where: x > 1\n"
	           "        sequence: [{begin: x}]\n"),
	    "6:9: step 'g': a group has no 'where' of its own; put "
	    "conditions on its steps\n");
}
END_TEST

START_TEST(consecutive_and_allow_combinations_need_a_quantifier)
{
	expect(pat("", "      - begin: a\n        consecutive: true\n"),
	    "6:9: step 'a': consecutive needs times, one_or_more or "
	    "times_or_more\n");
	expect(pat("", "      - begin: a\n        allow_combinations: true\n"),
	    "6:9: step 'a': allow_combinations needs times, one_or_more or "
	    "times_or_more\n");
	expect(pat("",
	           "      - begin: a\n        one_or_more: true\n"
	           "        consecutive: true\n"
	           "        allow_combinations: true\n"),
	    "8:9: step 'a': consecutive and allow_combinations cannot be "
	    "combined\n");
}
END_TEST

START_TEST(skip_to_names_a_step)
{
	expect(pat("    skip: {skip_to_first: c}\n", "      - begin: a\n"),
	    "3:5: skip_to_first: no step named 'c'\n");
	expect(pat("    skip: {skip_to_last: g}\n",
	           "      - begin: g\n        sequence: [{begin: x}]\n"),
	    "3:5: skip_to_last: 'g' is a group; name one of its steps\n");
}
END_TEST

START_TEST(max_gap_cannot_exceed_within)
{
	expect(pat("    within: 10m\n",
	           "      - begin: a\n      - next: b\n        max_gap: "
	           "2h\n"),
	    "7:9: step 'b': max_gap 2h exceeds within 10m\n");
}
END_TEST

START_TEST(step_names_are_unique_in_a_pattern)
{
	expect(pat("", "      - begin: a\n      - next: a\n"),
	    "6:9: step 'a': duplicate step name (first at 5:9)\n");
	expect(pat("",
	           "      - begin: a\n"
	           "      - next: g\n"
	           "        sequence:\n"
	           "          - begin: a\n"),
	    "8:13: step 'a': duplicate step name (first at 5:9)\n");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Expressions (nfa_expr_compile, with the loader's scopes)           */
/* ------------------------------------------------------------------ */

START_TEST(expression_errors_point_into_the_scalar)
{
	// Plain: the scalar's start; quoted: one past the quote.
	expect(pat("", "      - begin: a\n        where: x > > 1\n"),
	    "6:20: expected an expression, got '>'\n");
	expect(pat("", "      - begin: a\n        where: \"x > > 1\"\n"),
	    "6:21: expected an expression, got '>'\n");
	expect(pat("", "      - begin: a\n        where: 'x > > 1'\n"),
	    "6:21: expected an expression, got '>'\n");
	// A block scalar starts on its first content line.
	expect(pat("",
	           "      - begin: a\n        where: |\n"
	           "          x >\n          > 1\n"),
	    "8:11: expected an expression, got '>'\n");
	expect(pat("",
	           "      - begin: a\n        where: >-\n"
	           "          x and\n            y > > 1\n"),
	    "8:17: expected an expression, got '>'\n");
	// So is a plain scalar over several lines.
	expect(pat("",
	           "      - begin: a\n        where: x and\n"
	           "          y > > 1\n"),
	    "7:15: expected an expression, got '>'\n");
	expect(pat("",
	           "      - begin: a\n        one_or_more: true\n"
	           "        until: (y\n"),
	    "7:18: expected ')' to close '(' at column 16, got the end of "
	    "the expression\n");
	expect(pat("    emit: {n: 1 +, m: count(a)}\n", "      - begin: a\n"),
	    "3:18: expected an expression, got the end of the expression\n");
}
END_TEST

START_TEST(conditions_see_earlier_steps_and_their_own_loop)
{
	// A later step, or the step itself when it does not loop: no events.
	expect(pat("",
	           "      - begin: a\n        where: count(b) > 0\n"
	           "      - next: b\n"),
	    "6:22: step 'b' has no events yet where this expression is "
	    "evaluated (in step 'a')\n");
	expect(pat("",
	           "      - begin: a\n        times: 1\n"
	           "        where: count(a) < 2\n"),
	    "7:22: step 'a' has no events yet where this expression is "
	    "evaluated (in step 'a')\n");
	// Earlier steps, a looping step itself, and steps inside a looping
	// group are visible; emit sees every step.
	srv_rules_destroy(load_ok(
	    pat("    emit: {n: count(a) + count(b) + count(x) + count(y)}\n",
	        "      - begin: a\n"
	        "      - next: b\n"
	        "        times: [1, 3]\n"
	        "        where: count(a) + count(b) < 5\n"
	        "      - next: g\n"
	        "        one_or_more: true\n"
	        "        until: count(y) > 2\n"
	        "        sequence:\n"
	        "          - begin: x\n"
	        "            where: count(y) < 3 and count(b) > 0\n"
	        "          - next: y\n")));
	// Steps of a group that does not loop are not visible before.
	expect(pat("",
	           "      - begin: g\n"
	           "        sequence:\n"
	           "          - begin: x\n"
	           "            where: count(y) < 3\n"
	           "          - next: y\n"),
	    "8:26: step 'y' has no events yet where this expression is "
	    "evaluated (in step 'x')\n");
	expect(pat("    emit: {n: count(zz)}\n", "      - begin: a\n"),
	    "3:21: unknown step 'zz' in count(); did you mean 'a'?\n");
}
END_TEST

START_TEST(boolean_where_is_a_literal)
{
	srv_rules *r = load_ok(pat("",
	    "      - begin: a\n        where: true\n"
	    "      - next: b\n        where: FALSE\n"));

	ck_assert(nfa_expr_is_true(r->patterns[0]->steps[0].where));
	ck_assert(!nfa_expr_is_true(r->patterns[0]->steps[1].where));
	ck_assert_str_eq(
	    nfa_expr_text(r->patterns[0]->steps[1].where), "false");
	srv_rules_destroy(r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Many errors, fields, defaults                                      */
/* ------------------------------------------------------------------ */

START_TEST(every_error_is_reported_in_order)
{
	expect("patterns:\n"
	       "  - name: ok\n"
	       "    sequence: [{begin: a}]\n"
	       "  - name: p1\n"
	       "    withn: 10m\n"
	       "    sequence:\n"
	       "      - begin: a\n"
	       "        times: 0\n"
	       "      - next: b\n"
	       "        greedy: true\n"
	       "  - name: ok\n"
	       "    sequence:\n"
	       "      - next: z\n"
	       "zzz: 1\n",
	    "5:5: unknown key 'withn' in a pattern; did you mean 'within'?\n"
	    "8:16: 'times' must be at least 1\n"
	    "10:9: step 'b': greedy needs one_or_more, times_or_more or "
	    "times\n"
	    "11:11: duplicate pattern name 'ok' (first at t.yaml:2:11)\n"
	    "13:9: step 'z': the first step must be 'begin'\n"
	    "14:1: unknown key 'zzz' at the top level\n");
}
END_TEST

START_TEST(a_file_with_an_error_loads_nothing)
{
	cep_diag   *d    = cep_diag_create();
	srv_rules  *r    = (srv_rules *) 0x1;
	const char *yaml = "patterns:\n"
	                   "  - name: good\n"
	                   "    sequence: [{begin: a}]\n"
	                   "  - name: bad\n"
	                   "    sequence: [{next: a}]\n";

	CEP_ASSERT_ERR(
	    srv_rules_load_text("t.yaml", yaml, strlen(yaml), &r, d),
	    CEP_EINVAL);
	ck_assert_ptr_eq(r, (srv_rules *) 0x1); // untouched
	ck_assert_uint_eq(cep_diag_count(d, -1), 1);
	cep_diag_destroy(d);
	// A NULL diag still fails.
	CEP_ASSERT_ERR(
	    srv_rules_load_text("t.yaml", yaml, strlen(yaml), &r, NULL),
	    CEP_EINVAL);
}
END_TEST

START_TEST(every_key_fills_its_field)
{
	srv_rules *r =
	    load_ok("patterns:\n"
	            "  - name: card-testing.v2\n"
	            "    description: three tiny auths then a big one\n"
	            "    key: card.id\n"
	            "    time: at\n"
	            "    max_delay: 5s\n"
	            "    from: events\n"
	            "    within: 10m\n"
	            "    skip: {skip_to_last: small}\n"
	            "    timeouts: true\n"
	            "    max_partial_matches: 42\n"
	            "    overflow: reject_start\n"
	            "    key_ttl: 1h\n"
	            "    shadow: true\n"
	            "    sequence:\n"
	            "      - begin: small\n"
	            "        where: amount < 2\n"
	            "        times: [2, 4]\n"
	            "        greedy: true\n"
	            "        consecutive: true\n"
	            "      - followed_by_any: mid\n"
	            "        one_or_more: true\n"
	            "        allow_combinations: true\n"
	            "        until: amount > 10\n"
	            "      - next: pair\n"
	            "        times_or_more: 3\n"
	            "        sequence:\n"
	            "          - begin: ask\n"
	            "          - followed_by: bid\n"
	            "            max_gap: 30s\n"
	            "      - not_followed_by: nf\n"
	            "      - not_next: nn\n"
	            "      - followed_by: big\n"
	            "        where: true\n"
	            "        optional: true\n"
	            "    emit:\n"
	            "      total: sum(small.amount)\n"
	            "      _n: count(mid)\n");
	nfa_pattern *p = r->patterns[0];
	nfa_step    *s = p->steps;

	ck_assert_uint_eq(r->npatterns, 1);
	ck_assert_uint_eq(r->nfiles, 1);
	ck_assert_str_eq(r->files[0], "t.yaml");
	ck_assert_str_eq(p->name, "card-testing.v2");
	ck_assert_str_eq(p->description, "three tiny auths then a big one");
	ck_assert_str_eq(p->key.text, "card.id");
	ck_assert_uint_eq(p->key.n, 2);
	ck_assert_uint_eq(p->key.syms[0], cep_sym_intern_str("card"));
	ck_assert_uint_eq(p->key.syms[1], cep_sym_intern_str("id"));
	ck_assert_str_eq(p->time.text, "at");
	ck_assert_int_eq(p->max_delay, 5000);
	ck_assert(p->max_delay_set);
	ck_assert_str_eq(p->from, "events");
	ck_assert_int_eq(p->within, 600000);
	ck_assert_int_eq(p->skip, NFA_SKIP_TO_LAST);
	ck_assert_str_eq(p->skip_step, "small");
	ck_assert(p->timeouts);
	ck_assert_uint_eq(p->max_partial_matches, 42);
	ck_assert_int_eq(p->overflow, NFA_OVERFLOW_REJECT_START);
	ck_assert_int_eq(p->key_ttl, 3600000);
	ck_assert(p->shadow);
	ck_assert_uint_eq(p->locs.name.line, 2);
	ck_assert_uint_eq(p->locs.name.col, 5);
	ck_assert_str_eq(p->locs.name.file, "t.yaml");
	ck_assert_ptr_eq(p->locs.name.file, r->files[0]);
	ck_assert_uint_eq(p->locs.key.line, 4);
	ck_assert_uint_eq(p->locs.time.line, 5);
	ck_assert_uint_eq(p->locs.max_delay.line, 6);
	ck_assert_uint_eq(p->locs.from.line, 7);
	ck_assert_uint_eq(p->locs.within.line, 8);
	ck_assert_uint_eq(p->locs.skip.line, 9);
	ck_assert_uint_eq(p->locs.max_partial_matches.line, 11);
	ck_assert_uint_eq(p->locs.key_ttl.line, 13);
	ck_assert_uint_eq(p->locs.sequence.line, 15);

	ck_assert_uint_eq(p->nsteps, 6);
	ck_assert_str_eq(s[0].name, "small");
	ck_assert_int_eq(s[0].join, NFA_JOIN_BEGIN);
	ck_assert_ptr_nonnull(s[0].where);
	ck_assert_ptr_null(s[0].until);
	ck_assert_int_eq(s[0].quant, NFA_QUANT_TIMES);
	ck_assert_uint_eq(s[0].times_min, 2);
	ck_assert_uint_eq(s[0].times_max, 4);
	ck_assert(s[0].greedy && s[0].consecutive);
	ck_assert(!s[0].optional && !s[0].allow_combinations);
	ck_assert_uint_eq(s[0].locs.step.line, 16);
	ck_assert_uint_eq(s[0].locs.step.col, 9);
	ck_assert_uint_eq(s[0].locs.where.line, 17);
	ck_assert_uint_eq(s[0].locs.quant.line, 18);
	ck_assert_uint_eq(s[0].locs.greedy.line, 19);
	ck_assert_uint_eq(s[0].locs.consecutive.line, 20);

	ck_assert_int_eq(s[1].join, NFA_JOIN_FOLLOWED_BY_ANY);
	ck_assert_ptr_null(s[1].where);
	ck_assert_ptr_nonnull(s[1].until);
	ck_assert_int_eq(s[1].quant, NFA_QUANT_ONE_OR_MORE);
	ck_assert(!s[1].optional && s[1].allow_combinations);
	ck_assert_uint_eq(s[1].locs.quant.line, 22);
	ck_assert_uint_eq(s[1].locs.allow_combinations.line, 23);
	ck_assert_uint_eq(s[1].locs.until.line, 24);

	ck_assert_int_eq(s[2].join, NFA_JOIN_NEXT);
	ck_assert_int_eq(s[2].quant, NFA_QUANT_TIMES_OR_MORE);
	ck_assert_uint_eq(s[2].times_min, 3);
	ck_assert_uint_eq(s[2].ngroup, 2);
	ck_assert_uint_eq(s[2].leaf, UINT32_MAX);
	ck_assert_uint_eq(s[2].locs.sequence.line, 27);
	ck_assert_str_eq(s[2].group[0].name, "ask");
	ck_assert_int_eq(s[2].group[0].join, NFA_JOIN_BEGIN);
	ck_assert_int_eq(s[2].group[1].join, NFA_JOIN_FOLLOWED_BY);
	ck_assert_int_eq(s[2].group[1].max_gap, 30000);
	ck_assert_uint_eq(s[2].group[1].locs.max_gap.line, 30);

	ck_assert_int_eq(s[3].join, NFA_JOIN_NOT_FOLLOWED_BY);
	ck_assert_int_eq(s[4].join, NFA_JOIN_NOT_NEXT);
	ck_assert_int_eq(s[5].join, NFA_JOIN_FOLLOWED_BY);
	ck_assert_ptr_nonnull(s[5].where);
	ck_assert(s[5].optional);
	ck_assert_uint_eq(s[5].locs.optional.line, 35);

	// Leaves: plain steps in document order, groups flattened.
	ck_assert_uint_eq(p->nleaves, 7);
	{
		const char *want[] = { "small", "mid", "ask", "bid", "nf",
			"nn", "big" };
		for (size_t i = 0; i < 7; i++) {
			ck_assert_str_eq(p->leaves[i], want[i]);
		}
	}
	ck_assert_uint_eq(s[0].leaf, 0);
	ck_assert_uint_eq(s[1].leaf, 1);
	ck_assert_uint_eq(s[2].group[0].leaf, 2);
	ck_assert_uint_eq(s[2].group[1].leaf, 3);
	ck_assert_uint_eq(s[3].leaf, 4);
	ck_assert_uint_eq(s[5].leaf, 6);

	ck_assert_uint_eq(p->nemit, 2);
	ck_assert_str_eq(p->emit[0].name, "total");
	ck_assert_ptr_nonnull(p->emit[0].expr);
	ck_assert_uint_eq(p->emit[0].loc.line, 37);
	ck_assert_uint_eq(p->locs.sequence.col, 5);
	ck_assert_uint_eq(p->emit[0].loc.col, 7);
	ck_assert_str_eq(p->emit[1].name, "_n");
	srv_rules_destroy(r);
}
END_TEST

START_TEST(absent_keys_take_their_defaults)
{
	srv_rules   *r = load_ok(pat("", "      - begin: a\n"));
	nfa_pattern *p = r->patterns[0];

	ck_assert_ptr_null(p->description);
	ck_assert_uint_eq(p->key.n, 0);
	ck_assert_str_eq(p->time.text, "ts");
	ck_assert_uint_eq(p->time.n, 1);
	ck_assert_int_eq(p->max_delay, 0);
	ck_assert(!p->max_delay_set);
	ck_assert_str_eq(p->from, "events");
	ck_assert_int_eq(p->within, 0);
	ck_assert_int_eq(p->skip, NFA_SKIP_NO_SKIP);
	ck_assert_ptr_null(p->skip_step);
	ck_assert(!p->timeouts && !p->shadow);
	ck_assert_uint_eq(
	    p->max_partial_matches, NFA_DEFAULT_MAX_PARTIAL_MATCHES);
	ck_assert_int_eq(p->overflow, NFA_OVERFLOW_DROP_OLDEST);
	ck_assert_int_eq(p->key_ttl, 0);
	ck_assert_uint_eq(p->nemit, 0);
	ck_assert_int_eq(p->steps[0].quant, NFA_QUANT_ONE);
	ck_assert_ptr_null(p->steps[0].where);
	ck_assert_uint_eq(p->steps[0].locs.where.line, 0);
	srv_rules_destroy(r);
}
END_TEST

START_TEST(defaults_apply_and_are_overridden)
{
	srv_rules   *r = load_ok("defaults:\n"
	                           "  key: user\n"
	                           "  time: t\n"
	                           "  within: 5m\n"
	                           "  max_delay: 2s\n"
	                           "patterns:\n"
	                           "  - name: a\n"
	                           "    sequence: [{begin: x}]\n"
	                           "  - name: b\n"
	                           "    key: host.name\n"
	                           "    time: ts\n"
	                           "    within: 1h\n"
	                           "    max_delay: 0ms\n"
	                           "    sequence: [{begin: x}]\n");
	nfa_pattern *a = r->patterns[0], *b = r->patterns[1];

	ck_assert_str_eq(a->key.text, "user");
	ck_assert_str_eq(a->time.text, "t");
	ck_assert_int_eq(a->within, 300000);
	ck_assert_int_eq(a->max_delay, 2000);
	ck_assert(a->max_delay_set);
	ck_assert_uint_eq(a->locs.within.line, 4);
	ck_assert_str_eq(b->key.text, "host.name");
	ck_assert_str_eq(b->time.text, "ts");
	ck_assert_int_eq(b->within, 3600000);
	ck_assert_int_eq(b->max_delay, 0);
	ck_assert(b->max_delay_set);
	ck_assert_uint_eq(b->locs.within.line, 12);
	srv_rules_destroy(r);
	// A default within satisfies not_followed_by at the end.
	srv_rules_destroy(load_ok("defaults: {within: 1m}\n"
	                          "patterns:\n"
	                          "  - name: a\n"
	                          "    sequence:\n"
	                          "      - begin: x\n"
	                          "      - not_followed_by: y\n"));
	// A bad default is reported once, not per pattern.
	expect("defaults: {key: 'a..b', within: 0m}\n"
	       "patterns:\n"
	       "  - name: a\n"
	       "    sequence: [{begin: x}]\n"
	       "  - name: b\n"
	       "    sequence: [{begin: x}]\n",
	    "1:17: 'key' must be a field path such as card_id or src.ip\n"
	    "1:33: 'within' must be greater than 0\n");
}
END_TEST

START_TEST(running_out_of_memory_anywhere_frees_everything)
{
	const char *yaml = "defaults: {key: k, within: 1h}\n"
	                   "patterns:\n"
	                   "  - name: a\n"
	                   "    description: d\n"
	                   "    skip: {skip_to_first: x}\n"
	                   "    sequence:\n"
	                   "      - begin: x\n"
	                   "        where: lower(kind) == \"a\"\n"
	                   "        one_or_more: true\n"
	                   "        until: count(x) > 3\n"
	                   "      - next: g\n"
	                   "        times: 2\n"
	                   "        sequence:\n"
	                   "          - begin: y\n"
	                   "          - followed_by: z\n"
	                   "            where: sum(y.v) > 1\n"
	                   "    emit: {n: count(x), m: first(z.v)}\n"
	                   "  - name: b\n"
	                   "    sequence: [{begin: q}, {not_next: r}]\n";
	uint64_t    nth;

	for (nth = 1;; nth++) {
		srv_rules *r = NULL;
		cep_err    rv;
		uint64_t   seen;

		cep_alloc_fail_after(nth, 1);
		rv = srv_rules_load_text(
		    "t.yaml", yaml, strlen(yaml), &r, NULL);
		seen = cep_alloc_fail_after(0, 0);
		if (seen < nth) {
			CEP_ASSERT_OK(rv);
			srv_rules_destroy(r);
			break;
		}
		ck_assert_msg(rv == CEP_ENOMEM || rv == CEP_EINVAL,
		    "allocation %llu: %s", (unsigned long long) nth,
		    cep_errname(rv));
		ck_assert_ptr_null(r);
	}
	ck_assert_uint_gt(nth, 20);
}
END_TEST

START_TEST(empty_pattern_list_is_fine)
{
	srv_rules *r = load_ok("patterns: []\n");

	ck_assert_uint_eq(r->npatterns, 0);
	srv_rules_destroy(r);
	srv_rules_destroy(NULL);
}
END_TEST

START_TEST(yaml_styles_are_all_accepted)
{
	srv_rules *r = load_ok("# comment\r\n"
	                       "patterns:\r\n"
	                       "  - {name: \"p\", key: 'k', sequence: [\r\n"
	                       "      {begin: a}]}\r\n"
	                       "  - name: q\n"
	                       "    sequence:\n"
	                       "      - begin: a\n"
	                       "        where: |\n"
	                       "          x > 1\n"
	                       "        one_or_more: true\n"
	                       "        until: >-\n"
	                       "          x >\n"
	                       "          2\n");

	ck_assert_str_eq(r->patterns[0]->name, "p");
	ck_assert_str_eq(r->patterns[0]->key.text, "k");
	ck_assert_ptr_nonnull(r->patterns[1]->steps[0].where);
	ck_assert_ptr_nonnull(r->patterns[1]->steps[0].until);
	srv_rules_destroy(r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Byte pre-checks                                                    */
/* ------------------------------------------------------------------ */

START_TEST(invalid_utf8_is_refused_at_its_byte)
{
	expect(
	    "patterns: []\n# caf\xc3\n", "2:6: invalid UTF-8 (byte 0xc3)\n");
	expect("patterns: []\n# \xc3\xa9t\xc3\xa9 \xed\xa0\x80\n",
	    "2:7: invalid UTF-8 (byte 0xed)\n");
	expect(
	    "patterns: []\n#\xc0\xaf\n", "2:2: invalid UTF-8 (byte 0xc0)\n");
}
END_TEST

START_TEST(control_bytes_are_refused)
{
	expect_n("patterns: []\n#\0\n", 15,
	    "2:2: control character 0x00 is not allowed\n");
	expect("patterns:\x01 []\n",
	    "1:10: control character 0x01 is not allowed\n");
	expect("patterns: []\r\n\r\n  # \x7f\n",
	    "3:5: control character 0x7f is not allowed\n");
	expect("patterns: []\n# \xc2\x85\n",
	    "2:3: control character U+0085 is not allowed\n");
	expect("patterns: []\n\x1b[31m\n",
	    "2:1: control character 0x1b is not allowed\n");
	// Tab, LF and CR are fine.
	srv_rules_destroy(load_ok("patterns:\t[]\r\n"));
}
END_TEST

START_TEST(a_leading_bom_is_skipped)
{
	srv_rules *r = load_ok("\xef\xbb\xbfpatterns: []\n");

	srv_rules_destroy(r);
	expect("\xef\xbb\xbfpatterns: []\nx: \x01\n",
	    "2:4: control character 0x01 is not allowed\n");
	expect("\xef\xbb\xbfpaterns: []\n",
	    "1:1: unknown key 'paterns' at the top level; did you mean "
	    "'patterns'?\n"
	    "1:1: a rule file needs 'patterns' (a list of patterns)\n");
}
END_TEST

START_TEST(oversize_input_is_refused)
{
	size_t n   = SRV_RULES_MAX_BYTES + 1;
	char  *buf = malloc(n);

	ck_assert_ptr_nonnull(buf);
	memset(buf, '#', n);
	for (size_t i = 99; i < n; i += 100) {
		buf[i] = '\n';
	}
	// Byte SRV_RULES_MAX_BYTES is on line 41944, column 5.
	expect_n(buf, n, "41944:5: file is larger than 4194304 bytes\n");
	free(buf);
}
END_TEST

/* libfyaml issue #127: three bytes that made its error reporting read out
 * of bounds. */
START_TEST(libfyaml_fuzz_127_is_refused_before_parsing)
{
	expect_n("\x32\x0d\xb2", 3, "2:1: invalid UTF-8 (byte 0xb2)\n");
}
END_TEST

/* libfyaml issue #129: eighteen bytes (a directive, NULs, a truncated
 * sequence) on which libfyaml 0.7.12 never returns. */
START_TEST(libfyaml_fuzz_129_is_refused_before_parsing)
{
	expect_n("\x25\xea\xaa\xaf\x00\x00\x00\x25\x00\xea\xaa\xaf\x00\x00"
	         "\x00\x00\x00\xed",
	    18, "1:3: control character 0x00 is not allowed\n");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Files and directories                                              */
/* ------------------------------------------------------------------ */

static char tmpdir[64];

static void
put(const char *name, const char *text)
{
	char  path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "wb"));
	fputs(text, f);
	fclose(f);
}

static void
make_dir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cep-rules-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(directory_is_the_sorted_union_of_its_rule_files)
{
	cep_diag  *d = cep_diag_create();
	srv_rules *r = NULL;
	char       sub[128], want[256];

	make_dir();
	put("b.yml", "patterns:\n  - {name: b1, sequence: [{begin: x}]}\n");
	put("a.yaml",
	    "patterns:\n  - {name: a1, sequence: [{begin: x}]}\n"
	    "  - {name: a2, sequence: [{begin: x}]}\n");
	put("c.txt", "not yaml at all: [\n");
	put(".hidden.yaml", "garbage: [\n");
	put("empty.yaml", "patterns: []\n");
	snprintf(sub, sizeof(sub), "%s/dir.yaml", tmpdir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	CEP_ASSERT_OK(srv_rules_load(tmpdir, &r, d));
	ck_assert_uint_eq(r->npatterns, 3);
	ck_assert_str_eq(r->patterns[0]->name, "a1");
	ck_assert_str_eq(r->patterns[1]->name, "a2");
	ck_assert_str_eq(r->patterns[2]->name, "b1");
	ck_assert_uint_eq(r->nfiles, 3);
	snprintf(want, sizeof(want), "%s/a.yaml", tmpdir);
	ck_assert_str_eq(r->files[0], want);
	ck_assert_ptr_eq(r->patterns[0]->locs.name.file, r->files[0]);
	snprintf(want, sizeof(want), "%s/b.yml", tmpdir);
	ck_assert_str_eq(r->files[1], want);
	srv_rules_destroy(r);
	cep_diag_destroy(d);
	remove_dir();
}
END_TEST

START_TEST(directory_names_are_unique_across_files)
{
	cep_diag  *d = cep_diag_create();
	srv_rules *r = NULL;
	char       want[512];

	make_dir();
	put("1.yaml", "patterns:\n  - {name: p, sequence: [{begin: x}]}\n");
	put("2.yaml",
	    "patterns:\n  - name: q\n    sequence: [{next: x}]\n"
	    "  - name: p\n    sequence: [{begin: x}]\n");
	CEP_ASSERT_ERR(srv_rules_load(tmpdir, &r, d), CEP_EINVAL);
	snprintf(want, sizeof(want),
	    "%s/2.yaml:3:17: step 'x': the first step must be 'begin'\n"
	    "%s/2.yaml:4:11: duplicate pattern name 'p' (first at "
	    "%s/1.yaml:2:12)\n",
	    tmpdir, tmpdir, tmpdir);
	ck_assert_str_eq(lines(d), want);
	cep_diag_destroy(d);
	remove_dir();
}
END_TEST

START_TEST(errors_in_several_files_are_all_reported)
{
	cep_diag  *d = cep_diag_create();
	srv_rules *r = NULL;
	char       want[512];

	make_dir();
	put("1.yaml", "patterns: [\n");
	put("2.yaml", "patterns:\n  - {nam: p, sequence: [{begin: x}]}\n");
	CEP_ASSERT_ERR(srv_rules_load(tmpdir, &r, d), CEP_EINVAL);
	snprintf(want, sizeof(want),
	    "%s/1.yaml:2:1: flow sequence without a closing bracket\n"
	    "%s/2.yaml:2:5: a pattern needs a 'name'\n"
	    "%s/2.yaml:2:6: unknown key 'nam' in a pattern; did you mean "
	    "'name'?\n",
	    tmpdir, tmpdir, tmpdir);
	ck_assert_str_eq(lines(d), want);
	cep_diag_destroy(d);
	remove_dir();
}
END_TEST

START_TEST(empty_directory_has_no_patterns)
{
	srv_rules *r = NULL;

	make_dir();
	CEP_ASSERT_OK(srv_rules_load(tmpdir, &r, NULL));
	ck_assert_uint_eq(r->npatterns, 0);
	ck_assert_uint_eq(r->nfiles, 0);
	srv_rules_destroy(r);
	remove_dir();
}
END_TEST

START_TEST(unreadable_path_is_an_io_error)
{
	cep_diag  *d = cep_diag_create();
	srv_rules *r = NULL;

	CEP_ASSERT_ERR(
	    srv_rules_load("/nonexistent/rules.yaml", &r, d), CEP_EIO);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(cep_test_diag_text(d),
	    "/nonexistent/rules.yaml: error: cannot read: No such file or "
	    "directory\n");
	cep_diag_destroy(d);
}
END_TEST

START_TEST(single_file_loads_by_path)
{
	srv_rules *r = NULL;
	char       path[256];

	make_dir();
	put("one.yaml", "patterns:\n  - {name: p, sequence: [{begin: x}]}\n");
	snprintf(path, sizeof(path), "%s/one.yaml", tmpdir);
	CEP_ASSERT_OK(srv_rules_load(path, &r, NULL));
	ck_assert_uint_eq(r->npatterns, 1);
	ck_assert_str_eq(r->files[0], path);
	srv_rules_destroy(r);
	remove_dir();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Random and mutated inputs                                          */
/* ------------------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t
rng(void)
{
	// xorshift64*: deterministic for a seed.
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * 0x2545f4914f6cdd1dULL);
}

static const char *const seeds[] = {
	"patterns:\n"
	"  - name: card-testing\n"
	"    description: three tiny auths then a big one\n"
	"    key: card_id\n"
	"    max_delay: 5s\n"
	"    within: 10m\n"
	"    skip: skip_past_last_event\n"
	"    timeouts: true\n"
	"    sequence:\n"
	"      - begin: small\n"
	"        where: type == \"auth\" and amount < 2\n"
	"        times: 3\n"
	"      - followed_by: big\n"
	"        where: amount > 100 * max(small.amount)\n"
	"    emit:\n"
	"      total_small: sum(small.amount)\n",
	"defaults: {key: k, within: 1m}\n"
	"patterns:\n"
	"  - name: g\n"
	"    skip: {skip_to_first: ask}\n"
	"    sequence:\n"
	"      - begin: a\n"
	"        one_or_more: true\n"
	"        greedy: true\n"
	"        until: x > 3\n"
	"      - next: pair\n"
	"        times: [0, 2]\n"
	"        sequence:\n"
	"          - begin: ask\n"
	"            where: 'kind == \"ask\"'\n"
	"          - followed_by_any: bid\n"
	"      - not_followed_by: n\n"
	"        max_gap: 1s\n",
	"patterns: [{name: x, sequence: [{begin: a, times_or_more: 2, "
	"allow_combinations: true}, {not_next: b}]}]\n",
};

static const char alphabet[] = "abcdefgxyz_-.:[]{},#&*!|>'\"%@?~ \n\t0129";

/* mutate makes one input from a seed (or from nothing). */
static size_t
mutate(char *buf, size_t cap)
{
	const char *seed = seeds[rng() % (sizeof(seeds) / sizeof(seeds[0]))];
	size_t      n    = strlen(seed), edits;

	if (rng() % 10 == 0) {
		// Short random text from the YAML alphabet, or raw bytes.
		n = rng() % 64;
		for (size_t i = 0; i < n; i++) {
			buf[i] = rng() % 4 == 0
			    ? (char) (rng() & 0xff)
			    : alphabet[rng() % (sizeof(alphabet) - 1)];
		}
		return (n);
	}
	memcpy(buf, seed, n);
	edits = 1 + rng() % 8;
	for (size_t e = 0; e < edits; e++) {
		size_t at = n > 0 ? rng() % n : 0, len;
		switch (rng() % 6) {
		case 0: // replace a byte
			if (n > 0) {
				buf[at] =
				    alphabet[rng() % (sizeof(alphabet) - 1)];
			}
			break;
		case 1: // insert a byte
			if (n + 1 < cap) {
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] =
				    alphabet[rng() % (sizeof(alphabet) - 1)];
				n++;
			}
			break;
		case 2: // delete a range
			len = rng() % 16;
			if (at + len > n) {
				len = n - at;
			}
			memmove(buf + at, buf + at + len, n - at - len);
			n -= len;
			break;
		case 3: // duplicate a range
			len = rng() % 32;
			if (at + len > n) {
				len = n - at;
			}
			if (n + len < cap) {
				memmove(buf + at + len, buf + at, n - at);
				n += len;
			}
			break;
		case 4: // truncate
			n = at;
			break;
		default: // a raw byte
			if (n > 0) {
				buf[at] = (char) (rng() & 0xff);
			}
			break;
		}
	}
	return (n);
}

START_TEST(random_inputs_never_crash_hang_or_leak)
{
	static char buf[4096];
	cep_diag   *d  = cep_diag_create();
	size_t      ok = 0, n;
	long        iterations;

	// CEP_FUZZ_SEED and CEP_FUZZ_ITERATIONS change the run by hand.
	rng_state  = getenv("CEP_FUZZ_SEED") != NULL
	     ? strtoull(getenv("CEP_FUZZ_SEED"), NULL, 0) | 1
	     : 0x9e3779b97f4a7c15ULL;
	iterations = getenv("CEP_FUZZ_ITERATIONS") != NULL
	    ? atol(getenv("CEP_FUZZ_ITERATIONS"))
	    : 50000;
	for (long i = 0; i < iterations; i++) {
		srv_rules *r = NULL;
		cep_err    rv;

		n  = mutate(buf, sizeof(buf));
		rv = srv_rules_load_text("fuzz.yaml", buf, n, &r, d);
		ck_assert_msg(rv == CEP_OK || rv == CEP_EINVAL,
		    "input %ld: %s", i, cep_errname(rv));
		ck_assert((rv == CEP_OK) == (r != NULL));
		ck_assert((rv == CEP_OK) == (cep_diag_count(d, -1) == 0));
		ok += rv == CEP_OK;
		srv_rules_destroy(r);
		cep_diag_clear(d);
	}
	// Some mutations keep the file valid.
	ck_assert_uint_gt(ok, (size_t) iterations / 500);
	cep_diag_destroy(d);
}
END_TEST

static Suite *
rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *t = tcase_create("yaml");

	tcase_add_test(t, yaml_syntax_error_is_reported_at_its_position);
	tcase_add_test(t, yaml_alias_is_refused);
	tcase_add_test(t, yaml_tag_is_refused);
	tcase_add_test(t, yaml_second_document_is_refused);
	tcase_add_test(t, yaml_duplicate_key_is_reported_at_the_second);
	tcase_add_test(t, yaml_key_that_is_not_a_scalar_is_refused);
	tcase_add_test(t, yaml_nesting_is_bounded);
	tcase_add_test(t, top_level_must_be_a_mapping);
	tcase_add_test(t, top_level_needs_patterns);
	tcase_add_test(t, streams_load_with_their_windows_and_aggregates);
	tcase_add_test(t, stream_errors_point_at_the_offending_node);
	tcase_add_test(t, unknown_key_suggests_the_nearest);
	tcase_add_test(t, misplaced_key_is_reported_at_the_key);
	suite_add_tcase(s, t);

	t = tcase_create("pattern");
	tcase_add_test(t, pattern_must_be_a_mapping);
	tcase_add_test(t, pattern_needs_a_name);
	tcase_add_test(t, pattern_name_is_checked);
	tcase_add_test(t, pattern_names_are_unique);
	tcase_add_test(t, pattern_needs_a_sequence);
	tcase_add_test(t, field_paths_are_checked);
	tcase_add_test(t, from_names_a_known_stream);
	tcase_add_test(t, durations_are_checked);
	tcase_add_test(t, durations_take_every_unit);
	tcase_add_test(t, skip_is_checked);
	tcase_add_test(t, booleans_are_checked);
	tcase_add_test(t, operations_keys_are_checked);
	tcase_add_test(t, emit_is_checked);
	suite_add_tcase(s, t);

	t = tcase_create("step");
	tcase_add_test(t, step_must_be_a_mapping);
	tcase_add_test(t, step_needs_exactly_one_kind);
	tcase_add_test(t, step_name_is_checked);
	tcase_add_test(t, where_and_until_need_expressions);
	tcase_add_test(t, times_is_checked);
	tcase_add_test(t, one_or_more_and_times_or_more_are_checked);
	tcase_add_test(t, a_step_takes_one_quantifier);
	tcase_add_test(t, flags_are_checked);
	tcase_add_test(t, max_gap_is_checked);
	tcase_add_test(t, group_sequence_is_checked);
	suite_add_tcase(s, t);

	t = tcase_create("flinkcep");
	tcase_add_test(t, first_step_must_be_begin);
	tcase_add_test(t, only_the_first_step_is_begin);
	tcase_add_test(t, group_first_step_must_be_begin);
	tcase_add_test(t, negative_step_takes_no_quantifier);
	tcase_add_test(t, negative_step_cannot_be_optional);
	tcase_add_test(t, negative_step_takes_no_loop_options);
	tcase_add_test(t, negative_step_cannot_be_a_group);
	tcase_add_test(t, not_followed_by_at_the_end_needs_within);
	tcase_add_test(t, group_cannot_end_with_not_followed_by);
	tcase_add_test(t, negative_step_cannot_follow_an_optional_step);
	tcase_add_test(t, optional_cannot_be_applied_twice);
	tcase_add_test(t, greedy_is_checked);
	tcase_add_test(t, optional_step_cannot_follow_a_greedy_step);
	tcase_add_test(t, until_needs_a_looping_step);
	tcase_add_test(t, group_has_no_where);
	tcase_add_test(
	    t, consecutive_and_allow_combinations_need_a_quantifier);
	tcase_add_test(t, skip_to_names_a_step);
	tcase_add_test(t, max_gap_cannot_exceed_within);
	tcase_add_test(t, step_names_are_unique_in_a_pattern);
	suite_add_tcase(s, t);

	t = tcase_create("expr");
	tcase_add_test(t, expression_errors_point_into_the_scalar);
	tcase_add_test(t, conditions_see_earlier_steps_and_their_own_loop);
	tcase_add_test(t, boolean_where_is_a_literal);
	suite_add_tcase(s, t);

	t = tcase_create("load");
	tcase_add_test(t, every_error_is_reported_in_order);
	tcase_add_test(t, a_file_with_an_error_loads_nothing);
	tcase_add_test(t, every_key_fills_its_field);
	tcase_add_test(t, absent_keys_take_their_defaults);
	tcase_add_test(t, defaults_apply_and_are_overridden);
	tcase_add_test(t, empty_pattern_list_is_fine);
	tcase_add_test(t, running_out_of_memory_anywhere_frees_everything);
	tcase_add_test(t, yaml_styles_are_all_accepted);
	suite_add_tcase(s, t);

	t = tcase_create("bytes");
	tcase_add_test(t, invalid_utf8_is_refused_at_its_byte);
	tcase_add_test(t, control_bytes_are_refused);
	tcase_add_test(t, a_leading_bom_is_skipped);
	tcase_add_test(t, oversize_input_is_refused);
	tcase_add_test(t, libfyaml_fuzz_127_is_refused_before_parsing);
	tcase_add_test(t, libfyaml_fuzz_129_is_refused_before_parsing);
	suite_add_tcase(s, t);

	t = tcase_create("files");
	tcase_add_test(t, directory_is_the_sorted_union_of_its_rule_files);
	tcase_add_test(t, directory_names_are_unique_across_files);
	tcase_add_test(t, errors_in_several_files_are_all_reported);
	tcase_add_test(t, empty_directory_has_no_patterns);
	tcase_add_test(t, unreadable_path_is_an_io_error);
	tcase_add_test(t, single_file_loads_by_path);
	suite_add_tcase(s, t);

	t = tcase_create("fuzz");
	tcase_add_test(t, random_inputs_never_crash_hang_or_leak);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(rules_suite)
