/* SPDX-License-Identifier: MIT */
/*
 * test_exec.c: one key's step: the order of matches completing together,
 * negative steps, matches held by skip strategies, the per-event cache of
 * conditions, the bound on partial matches, and no allocation per event
 * once warm.
 *
 * Condition evaluations are counted by wrapping nfa_expr_test at link
 * time (-Wl,--wrap), leaving the library as it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/matcher_support.h"

#define HEAD "patterns:\n  - name: p\n"

/* ---- counting condition evaluations ------------------------------------ */

#ifdef CEP_TEST_WRAP
int __real_nfa_expr_test(const nfa_expr *e, const nfa_eval_ctx *ctx);
int __wrap_nfa_expr_test(const nfa_expr *e, const nfa_eval_ctx *ctx);

static const char *count_text; /* the condition counted */
static size_t      count_calls;

int
__wrap_nfa_expr_test(const nfa_expr *e, const nfa_eval_ctx *ctx)
{
	if (count_text != NULL && strcmp(nfa_expr_text(e), count_text) == 0) {
		count_calls++;
	}
	return (__real_nfa_expr_test(e, ctx));
}
#endif

/* ---- helpers --------------------------------------------------------------
 */

/* run feeds the events (notation, one per string) in order with the
 * watermark at each event's time, ordered, then finishes when `finish`. */
static void
run(nfa_prog *p, mt_log *log, const char *const *events, size_t n, int finish)
{
	mt_driver d;

	mt_driver_init(&d, p, log, 1);
	for (size_t i = 0; i < n; i++) {
		cep_event *ev = cep_test_event(events[i]);
		CEP_ASSERT_OK(mt_drive(&d, ev, i + 1));
		cep_event_unref(ev, NULL);
	}
	if (finish) {
		CEP_ASSERT_OK(nfa_matcher_finish(d.m));
	}
	mt_driver_fini(&d);
}

static cep_event *
kind_event(int64_t id, int64_t ts, const char *kind)
{
	char text[128];

	snprintf(text, sizeof(text),
	    "{\"id\":%lld,\"ts\":%lld,\"kind\":\"%s\"}", (long long) id,
	    (long long) ts, kind);
	return (cep_test_event(text));
}

/* ---- order of matches ------------------------------------------------------
 */

static const char *const combinations_yaml =
    HEAD "    sequence:\n"
         "      - begin: a\n        where: kind == \"a\"\n"
         "        one_or_more: true\n        allow_combinations: true\n"
         "      - followed_by: c\n        where: kind == \"c\"\n";

START_TEST(matches_completing_together_come_in_event_sequence_order)
{
	static const char *const evs[] = {
		"{\"id\":1,\"ts\":1,\"kind\":\"a\"}",
		"{\"id\":2,\"ts\":2,\"kind\":\"a\"}",
		"{\"id\":3,\"ts\":3,\"kind\":\"a\"}",
		"{\"id\":4,\"ts\":4,\"kind\":\"a\"}",
		"{\"id\":5,\"ts\":5,\"kind\":\"c\"}",
	};
	nfa_prog *p = mt_compile(combinations_yaml);
	mt_log    log;

	mt_log_init(&log, 0);
	run(p, &log, evs, 4, 0);
	ck_assert_uint_eq(log.n, 0);
	run(p, &log, evs, 5, 0);
	/* Every subset of the a's, compared event by event (a prefix
	 * first is not how it goes: [1,2,..] < [1,c] since 2 < 5). */
	MT_ASSERT_LOG(&log,
	    "p|match|a:[1,2,3,4];c:[5]\n"
	    "p|match|a:[1,2,3];c:[5]\n"
	    "p|match|a:[1,2,4];c:[5]\n"
	    "p|match|a:[1,2];c:[5]\n"
	    "p|match|a:[1,3,4];c:[5]\n"
	    "p|match|a:[1,3];c:[5]\n"
	    "p|match|a:[1,4];c:[5]\n"
	    "p|match|a:[1];c:[5]\n"
	    "p|match|a:[2,3,4];c:[5]\n"
	    "p|match|a:[2,3];c:[5]\n"
	    "p|match|a:[2,4];c:[5]\n"
	    "p|match|a:[2];c:[5]\n"
	    "p|match|a:[3,4];c:[5]\n"
	    "p|match|a:[3];c:[5]\n"
	    "p|match|a:[4];c:[5]\n");
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST

START_TEST(skip_to_next_applies_in_that_order)
{
	static const char *const evs[] = {
		"{\"id\":1,\"ts\":1,\"kind\":\"a\"}",
		"{\"id\":2,\"ts\":2,\"kind\":\"a\"}",
		"{\"id\":3,\"ts\":3,\"kind\":\"a\"}",
		"{\"id\":4,\"ts\":4,\"kind\":\"c\"}",
	};
	nfa_prog *p = mt_compile(HEAD "    skip: skip_to_next\n"
	                              "    sequence:\n"
	                              "      - begin: a\n"
	                              "        where: kind == \"a\"\n"
	                              "        one_or_more: true\n"
	                              "        allow_combinations: true\n"
	                              "      - followed_by: c\n"
	                              "        where: kind == \"c\"\n");
	mt_log    log;

	mt_log_init(&log, 0);
	run(p, &log, evs, 4, 1);
	/* The first match of each start prunes the others of that start. */
	MT_ASSERT_LOG(&log,
	    "p|match|a:[1,2,3];c:[4]\n"
	    "p|match|a:[2,3];c:[4]\n"
	    "p|match|a:[3];c:[4]\n");
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST

/* ---- negative steps -------------------------------------------------------
 */

START_TEST(not_next_kills_the_branch)
{
	static const char *const evs[] = {
		"{\"id\":1,\"ts\":1,\"kind\":\"a\"}",
		"{\"id\":2,\"ts\":2,\"kind\":\"b\"}",
		"{\"id\":3,\"ts\":3,\"kind\":\"c\"}",
		"{\"id\":4,\"ts\":4,\"kind\":\"a\"}",
		"{\"id\":5,\"ts\":5,\"kind\":\"x\"}",
		"{\"id\":6,\"ts\":6,\"kind\":\"c\"}",
	};
	nfa_prog *p = mt_compile(HEAD "    sequence:\n"
	                              "      - begin: a\n"
	                              "        where: kind == \"a\"\n"
	                              "      - not_next: b\n"
	                              "        where: kind == \"b\"\n"
	                              "      - followed_by: c\n"
	                              "        where: kind == \"c\"\n");
	mt_log    log;
	mt_driver d;
	nfa_stats st;

	mt_log_init(&log, 0);
	mt_driver_init(&d, p, &log, 1);
	for (size_t i = 0; i < 6; i++) {
		cep_event *ev = cep_test_event(evs[i]);
		CEP_ASSERT_OK(mt_drive(&d, ev, i + 1));
		cep_event_unref(ev, NULL);
		nfa_matcher_stats(d.m, &st);
		if (i == 0 || i == 3) {
			ck_assert_uint_eq(st.partial, 1);
		}
		if (i == 1) {
			/* The branch died with its events. */
			ck_assert_uint_eq(st.partial, 0);
			ck_assert_uint_eq(st.stored, 0);
			ck_assert_uint_eq(st.keys, 0);
		}
	}
	CEP_ASSERT_OK(nfa_matcher_finish(d.m));
	MT_ASSERT_LOG(&log, "p|match|a:[4];c:[6]\n");
	mt_driver_fini(&d);
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST

START_TEST(not_followed_by_kills_the_branch_but_not_later_ones)
{
	static const char *const evs[] = {
		"{\"id\":1,\"ts\":1,\"kind\":\"a\"}",
		"{\"id\":2,\"ts\":2,\"kind\":\"x\"}",
		"{\"id\":3,\"ts\":3,\"kind\":\"b\"}",
		"{\"id\":4,\"ts\":4,\"kind\":\"a\"}",
		"{\"id\":5,\"ts\":5,\"kind\":\"x\"}",
		"{\"id\":6,\"ts\":6,\"kind\":\"c\"}",
	};
	nfa_prog *p = mt_compile(HEAD "    sequence:\n"
	                              "      - begin: a\n"
	                              "        where: kind == \"a\"\n"
	                              "      - not_followed_by: b\n"
	                              "        where: kind == \"b\"\n"
	                              "      - followed_by: c\n"
	                              "        where: kind == \"c\"\n");
	mt_log    log;

	mt_log_init(&log, 0);
	run(p, &log, evs, 6, 1);
	MT_ASSERT_LOG(&log, "p|match|a:[4];c:[6]\n");
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST

START_TEST(not_followed_by_at_the_end_completes_when_the_window_closes)
{
	static const char *const evs[] = {
		"{\"id\":1,\"ts\":1,\"kind\":\"a\"}",
		"{\"id\":2,\"ts\":2,\"kind\":\"b\"}",
		"{\"id\":3,\"ts\":10,\"kind\":\"a\"}",
		"{\"id\":4,\"ts\":11,\"kind\":\"x\"}",
		"{\"id\":5,\"ts\":20,\"kind\":\"x\"}",
	};
	nfa_prog *p = mt_compile(HEAD "    within: 5ms\n"
	                              "    sequence:\n"
	                              "      - begin: a\n"
	                              "        where: kind == \"a\"\n"
	                              "      - not_followed_by: b\n"
	                              "        where: kind == \"b\"\n");
	mt_log    log;

	mt_log_init(&log, 0);
	run(p, &log, evs, 4, 0);
	ck_assert_uint_eq(log.n, 0);
	/* The watermark passing 10 + 5 completes it, before the end. */
	run(p, &log, evs, 5, 0);
	MT_ASSERT_LOG(&log, "p|match|a:[3]\n");
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST

/* ---- held matches ---------------------------------------------------------
 */

static const char *const held_yaml =
    HEAD "    skip: skip_past_last_event\n"
         "    sequence:\n"
         "      - begin: a\n        where: kind == \"a\"\n"
         "      - followed_by: b\n"
         "        where: kind == \"b\" and v == last(a.v)\n";

static const char *const held_events[] = {
	"{\"id\":1,\"ts\":1,\"kind\":\"a\",\"v\":1}",
	"{\"id\":2,\"ts\":2,\"kind\":\"a\",\"v\":2}",
	"{\"id\":3,\"ts\":3,\"kind\":\"b\",\"v\":2}",
};

START_TEST(a_match_waits_for_an_earlier_partial_match)
{
	nfa_prog *p = mt_compile(held_yaml);
	mt_log    log;
	mt_driver d;
	nfa_stats st;

	mt_log_init(&log, 0);
	mt_driver_init(&d, p, &log, 1);
	for (size_t i = 0; i < 3; i++) {
		cep_event *ev = cep_test_event(held_events[i]);
		CEP_ASSERT_OK(mt_drive(&d, ev, i + 1));
		cep_event_unref(ev, NULL);
	}
	/* [2,3] is complete, but the run from 1 may still match first. */
	nfa_matcher_stats(d.m, &st);
	ck_assert_uint_eq(log.n, 0);
	ck_assert_uint_eq(st.matches, 0);
	ck_assert_uint_eq(st.keys, 1);
	/* The end of input releases it (nothing can complete any more). */
	CEP_ASSERT_OK(nfa_matcher_finish(d.m));
	MT_ASSERT_LOG(&log, "p|match|a:[2];b:[3]\n");
	nfa_matcher_stats(d.m, &st);
	ck_assert_uint_eq(st.matches, 1);
	ck_assert_uint_eq(st.partial, 0);
	ck_assert_uint_eq(st.keys, 0);
	ck_assert_uint_eq(st.stored, 0);
	mt_driver_fini(&d);
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST

START_TEST(without_a_skip_strategy_nothing_is_held)
{
	nfa_prog *p = mt_compile(HEAD "    sequence:\n"
	                              "      - begin: a\n"
	                              "        where: kind == \"a\"\n"
	                              "      - followed_by: b\n"
	                              "        where: kind == \"b\" and v == "
	                              "last(a.v)\n");
	mt_log    log;

	mt_log_init(&log, 0);
	run(p, &log, held_events, 3, 0);
	MT_ASSERT_LOG(&log, "p|match|a:[2];b:[3]\n");
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST

START_TEST(a_held_match_goes_out_when_the_earlier_one_times_out)
{
	nfa_prog *p = mt_compile(HEAD "    skip: skip_past_last_event\n"
	                              "    within: 10ms\n"
	                              "    timeouts: true\n"
	                              "    sequence:\n"
	                              "      - begin: a\n"
	                              "        where: kind == \"a\"\n"
	                              "      - followed_by: b\n"
	                              "        where: kind == \"b\" and v == "
	                              "last(a.v)\n");
	mt_log    log;
	mt_driver d;

	mt_log_init(&log, 0);
	mt_driver_init(&d, p, &log, 1);
	for (size_t i = 0; i < 3; i++) {
		cep_event *ev = cep_test_event(held_events[i]);
		CEP_ASSERT_OK(mt_drive(&d, ev, i + 1));
		cep_event_unref(ev, NULL);
	}
	ck_assert_uint_eq(log.n, 0);
	/* The window of the run from 1 closes at 11. */
	CEP_ASSERT_OK(nfa_matcher_advance(d.m, 10));
	ck_assert_uint_eq(log.n, 0);
	CEP_ASSERT_OK(nfa_matcher_advance(d.m, 11));
	MT_ASSERT_LOG(&log, "p|match|a:[2];b:[3]\np|timeout|a:[1]\n");
	CEP_ASSERT_OK(nfa_matcher_finish(d.m));
	ck_assert_uint_eq(log.n, 2);
	mt_driver_fini(&d);
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST

/* ---- the condition cache --------------------------------------------------
 */

#ifdef CEP_TEST_WRAP
START_TEST(an_event_only_condition_is_evaluated_once_per_event)
{
	nfa_prog *p = mt_compile(HEAD "    sequence:\n"
	                              "      - begin: a\n"
	                              "        where: kind == \"a\"\n"
	                              "        one_or_more: true\n"
	                              "        allow_combinations: true\n"
	                              "      - followed_by: c\n"
	                              "        where: n > count(a)\n");
	mt_log    log;
	mt_driver d;
	nfa_stats st;

	mt_log_init(&log, 0);
	mt_driver_init(&d, p, &log, 1);
	for (int i = 0; i < 10; i++) {
		char       text[96];
		cep_event *ev;
		snprintf(text, sizeof(text),
		    "{\"id\":%d,\"ts\":%d,\"kind\":\"a\",\"n\":-1}", i + 1, i);
		ev          = cep_test_event(text);
		count_text  = "kind == \"a\"";
		count_calls = 0;
		CEP_ASSERT_OK(mt_drive(&d, ev, (uint64_t) i + 1));
		/* However many runs sit in the loop. */
		ck_assert_uint_eq(count_calls, 1);
		count_text = NULL;
		cep_event_unref(ev, NULL);
	}
	/* Each subset of the ten a's, in the loop or waiting for c. */
	nfa_matcher_stats(d.m, &st);
	ck_assert_uint_ge(st.partial, 1023);
	{
		/* A condition reading the partial match is evaluated for
		 * every run that reaches it. */
		cep_event *ev = cep_test_event(
		    "{\"id\":99,\"ts\":20,\"kind\":\"x\",\"n\":0}");
		count_text  = "n > count(a)";
		count_calls = 0;
		CEP_ASSERT_OK(mt_drive(&d, ev, 99));
		ck_assert_uint_ge(count_calls, st.partial);
		count_text = NULL;
		cep_event_unref(ev, NULL);
	}
	ck_assert_uint_eq(log.n, 0);
	mt_driver_fini(&d);
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST
#endif

/* ---- the bound on partial matches -----------------------------------------
 */

/* flood pushes n a-events into one key of a pattern whose partial matches
 * double with each; checks the bound after each and returns the stats. */
static void
flood(const char *limits, uint64_t bound, int n, nfa_stats *st)
{
	char      yaml[1024];
	nfa_prog *p;
	mt_log    log;
	mt_driver d;
	clock_t   t0 = clock();
	double    secs;

	snprintf(yaml, sizeof(yaml),
	    HEAD
	    "%s"
	    "    sequence:\n"
	    "      - begin: a\n        where: kind == \"a\"\n"
	    "        one_or_more: true\n        allow_combinations: true\n"
	    "      - followed_by: c\n        where: kind == \"c\"\n",
	    limits);
	p = mt_compile(yaml);
	mt_log_init(&log, 0);
	mt_driver_init(&d, p, &log, 1);
	for (int i = 0; i < n; i++) {
		cep_event *ev = kind_event(i + 1, i, "a");
		CEP_ASSERT_OK(mt_drive(&d, ev, (uint64_t) i + 1));
		cep_event_unref(ev, NULL);
		nfa_matcher_stats(d.m, st);
		ck_assert_msg(st->partial <= bound,
		    "%s: %llu partial matches after %d events", limits,
		    (unsigned long long) st->partial, i + 1);
	}
	/* 2^n - 1 partial matches unbounded; the excess was dropped. */
	ck_assert_uint_eq(st->partial, bound);
	ck_assert_uint_gt(st->dropped, 0);
	CEP_ASSERT_OK(nfa_matcher_finish(d.m));
	mt_driver_fini(&d);
	mt_log_fini(&log);
	nfa_prog_unref(p);
	secs = (double) (clock() - t0) / CLOCKS_PER_SEC;
	ck_assert_msg(secs < 120, "%s: %.1fs", limits, secs);
}

START_TEST(drop_oldest_bounds_an_exploding_key)
{
	nfa_stats st;

	flood("    max_partial_matches: 1000\n", 1000, 30, &st);
	/* Each event doubles the 1000 into about 2000 plus a start. */
	ck_assert_uint_ge(st.dropped, 20 * 1000);
}
END_TEST

START_TEST(drop_newest_bounds_an_exploding_key)
{
	nfa_stats st;

	flood("    max_partial_matches: 1000\n    overflow: drop_newest\n",
	    1000, 30, &st);
	ck_assert_uint_ge(st.dropped, 20 * 1000);
}
END_TEST

START_TEST(reject_start_bounds_an_exploding_key)
{
	nfa_stats st;

	flood("    max_partial_matches: 1000\n    overflow: reject_start\n",
	    1000, 30, &st);
	ck_assert_uint_ge(st.dropped, 20 * 1000);
}
END_TEST

START_TEST(the_default_bound_holds_ten_million_partial_matches_down)
{
	nfa_stats st;

	/* 2^26 - 1 > 10^7 partial matches unbounded. */
	flood("", NFA_DEFAULT_MAX_PARTIAL_MATCHES, 26, &st);
	ck_assert_uint_ge(st.dropped, 8 * NFA_DEFAULT_MAX_PARTIAL_MATCHES);
}
END_TEST

START_TEST(drop_oldest_keeps_the_newest_and_drop_newest_the_oldest)
{
	static const char *const evs[] = {
		"{\"id\":1,\"ts\":1,\"kind\":\"a\"}",
		"{\"id\":2,\"ts\":2,\"kind\":\"a\"}",
		"{\"id\":3,\"ts\":3,\"kind\":\"a\"}",
		"{\"id\":4,\"ts\":4,\"kind\":\"c\"}",
	};
	static const char *const policies[] = { "drop_oldest", "drop_newest",
		"reject_start" };
	static const char *const want[]     = {
		    "p|match|a:[2];c:[4]\np|match|a:[3];c:[4]\n",
		    "p|match|a:[1];c:[4]\np|match|a:[2];c:[4]\n",
		    "p|match|a:[1];c:[4]\np|match|a:[2];c:[4]\n",
	};

	for (int k = 0; k < 3; k++) {
		char      yaml[512];
		nfa_prog *p;
		mt_log    log;
		snprintf(yaml, sizeof(yaml),
		    HEAD
		    "    max_partial_matches: 2\n    overflow: %s\n"
		    "    sequence:\n"
		    "      - begin: a\n        where: kind == \"a\"\n"
		    "      - followed_by: c\n        where: kind == \"c\"\n",
		    policies[k]);
		p = mt_compile(yaml);
		mt_log_init(&log, 0);
		run(p, &log, evs, 4, 1);
		MT_ASSERT_LOG(&log, want[k]);
		mt_log_fini(&log);
		nfa_prog_unref(p);
	}
}
END_TEST

/* ---- no allocation once warm ----------------------------------------------
 */

struct counts {
	uint64_t matches;
	uint64_t timeouts;
};

static cep_err
count_match(void *arg, const nfa_match *m)
{
	struct counts *c = arg;

	if (m->timeout) {
		c->timeouts++;
	} else {
		c->matches++;
	}
	return (CEP_OK);
}

/* steady_event is event i of a stream over 10 keys: per key the kinds go
 * a, b, a, x, a, ... so partial matches start, complete, and time out. */
static cep_event *
steady_event(int i, int string_key)
{
	static const char *const kinds[] = { "a", "b", "a", "x" };
	char                     text[160];

	if (string_key) {
		snprintf(text, sizeof(text),
		    "{\"ts\":%d,\"k\":\"key-%d\",\"kind\":\"%s\"}", i, i % 10,
		    kinds[(i / 10) % 4]);
	} else {
		snprintf(text, sizeof(text),
		    "{\"ts\":%d,\"k\":%d,\"kind\":\"%s\"}", i, i % 10,
		    kinds[(i / 10) % 4]);
	}
	return (cep_test_event(text));
}

/* steady runs a warm-up, then pushes with every allocation failing. */
static void
steady(const char *extra, int string_key, int ordered)
{
	enum { WARM = 4000, N = 4000 };
	char          yaml[1024];
	nfa_prog     *p;
	nfa_matcher  *m;
	struct counts c   = { 0, 0 };
	cep_event   **evs = calloc(WARM + N, sizeof(cep_event *));
	uint64_t      before_m, before_t;
	int           failed_at = -1;
	cep_err       rv        = CEP_OK;

	snprintf(yaml, sizeof(yaml),
	    HEAD "    key: k\n    within: 20ms\n    timeouts: true\n%s"
	         "    sequence:\n"
	         "      - begin: a\n        where: kind == \"a\"\n"
	         "      - followed_by: b\n        where: kind == \"b\"\n",
	    extra);
	p = mt_compile(yaml);
	ck_assert_ptr_nonnull(evs);
	for (int i = 0; i < WARM + N; i++) {
		evs[i] = steady_event(i, string_key);
	}
	CEP_ASSERT_OK(nfa_matcher_create(p, count_match, &c, &m));
	nfa_matcher_set_ordered(m, ordered);
	for (int i = 0; i < WARM; i++) {
		CEP_ASSERT_OK(
		    nfa_matcher_push(m, evs[i], i, (uint64_t) i + 1, i, NULL));
	}
	before_m = c.matches;
	before_t = c.timeouts;
	ck_assert_uint_gt(before_m, 0);
	ck_assert_uint_gt(before_t, 0);
	cep_alloc_fail_after(1, 1);
	for (int i = WARM; i < WARM + N && rv == CEP_OK; i++) {
		rv = nfa_matcher_push(m, evs[i], i, (uint64_t) i + 1, i, NULL);
		if (rv != CEP_OK) {
			failed_at = i;
		}
	}
	cep_alloc_fail_after(0, 0);
	ck_assert_msg(rv == CEP_OK, "%s%s key, ordered %d: push %d failed: %s",
	    extra, string_key ? "string" : "int", ordered, failed_at,
	    cep_errname(rv));
	/* And the stream kept matching and timing out. */
	ck_assert_uint_gt(c.matches, before_m);
	ck_assert_uint_gt(c.timeouts, before_t);
	nfa_matcher_destroy(m);
	for (int i = 0; i < WARM + N; i++) {
		cep_event_unref(evs[i], NULL);
	}
	free(evs);
	nfa_prog_unref(p);
}

START_TEST(a_warm_matcher_allocates_nothing_per_event)
{
	steady("", 0, 1);
	steady("", 0, 0);
	steady("    skip: skip_past_last_event\n", 0, 1);
	steady("    skip: skip_to_next\n    max_partial_matches: 2\n", 0, 0);
	steady("    key_ttl: 15ms\n", 0, 1);
}
END_TEST

START_TEST(a_warm_matcher_allocates_nothing_for_string_keys)
{
	steady("", 1, 1);
	steady("", 1, 0);
	steady("    key_ttl: 15ms\n", 1, 1);
}
END_TEST

static Suite *
exec_suite(void)
{
	Suite *s = suite_create("exec");
	TCase *t = tcase_create("order");

	tcase_add_test(
	    t, matches_completing_together_come_in_event_sequence_order);
	tcase_add_test(t, skip_to_next_applies_in_that_order);
	suite_add_tcase(s, t);
	t = tcase_create("negative");
	tcase_add_test(t, not_next_kills_the_branch);
	tcase_add_test(t, not_followed_by_kills_the_branch_but_not_later_ones);
	tcase_add_test(
	    t, not_followed_by_at_the_end_completes_when_the_window_closes);
	suite_add_tcase(s, t);
	t = tcase_create("held");
	tcase_add_test(t, a_match_waits_for_an_earlier_partial_match);
	tcase_add_test(t, without_a_skip_strategy_nothing_is_held);
	tcase_add_test(
	    t, a_held_match_goes_out_when_the_earlier_one_times_out);
	suite_add_tcase(s, t);
#ifdef CEP_TEST_WRAP
	t = tcase_create("cache");
	tcase_add_test(t, an_event_only_condition_is_evaluated_once_per_event);
	suite_add_tcase(s, t);
#endif
	t = tcase_create("bound");
	tcase_set_timeout(t, 600);
	tcase_add_test(t, drop_oldest_bounds_an_exploding_key);
	tcase_add_test(t, drop_newest_bounds_an_exploding_key);
	tcase_add_test(t, reject_start_bounds_an_exploding_key);
	tcase_add_test(
	    t, the_default_bound_holds_ten_million_partial_matches_down);
	tcase_add_test(
	    t, drop_oldest_keeps_the_newest_and_drop_newest_the_oldest);
	suite_add_tcase(s, t);
	t = tcase_create("steady");
	tcase_add_test(t, a_warm_matcher_allocates_nothing_per_event);
	tcase_add_test(t, a_warm_matcher_allocates_nothing_for_string_keys);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(exec_suite)
