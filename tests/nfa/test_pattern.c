/* SPDX-License-Identifier: MIT */
/*
 * test_pattern.c: patterns built by hand (no YAML): creation and
 * destruction, field paths, enum names, and the core FlinkCEP rules of
 * nfa_pattern_validate.
 */
#include <string.h>

#include "nfa/nfa.h"
#include "tests/support/test_support.h"

/* mk: a pattern named p with n zeroed steps. */
static nfa_pattern *
mk(size_t n)
{
	nfa_pattern *p = nfa_pattern_create();

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(p->name = cep_strdup("p"));
	if (n > 0) {
		p->steps = cep_calloc(n, sizeof(nfa_step));
		ck_assert_ptr_nonnull(p->steps);
		p->nsteps = n;
	}
	return (p);
}

/* step names a step, sets its kind and places its kind key on `line`. */
static nfa_step *
step(nfa_step *s, const char *name, nfa_join join, uint32_t line)
{
	ck_assert_ptr_nonnull(s->name = cep_strdup(name));
	s->join      = join;
	s->locs.step = (cep_loc) { "h.yaml", line, 7 };
	return (s);
}

static cep_loc
at(uint32_t line, uint32_t col)
{
	return ((cep_loc) { "h.yaml", line, col });
}

/* check validates p and compares the diagnostics with `want` ("" when
 * the pattern must be valid), then frees p. */
static void
check(nfa_pattern *p, const char *want)
{
	cep_diag *d = cep_diag_create();
	cep_err   rv;

	rv = nfa_pattern_validate(p, d);
	cep_diag_sort(d);
	ck_assert_str_eq(cep_test_diag_text(d), want);
	if (want[0] == '\0') {
		CEP_ASSERT_OK(rv);
	} else {
		CEP_ASSERT_ERR(rv, CEP_EINVAL);
	}
	cep_diag_destroy(d);
	nfa_pattern_destroy(p);
}

START_TEST(create_fills_the_defaults)
{
	nfa_pattern *p = nfa_pattern_create();

	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->time.text, "ts");
	ck_assert_uint_eq(p->time.n, 1);
	ck_assert_uint_eq(p->time.syms[0], cep_sym_intern_str("ts"));
	ck_assert_str_eq(p->from, "events");
	ck_assert_uint_eq(
	    p->max_partial_matches, NFA_DEFAULT_MAX_PARTIAL_MATCHES);
	ck_assert_int_eq(p->skip, NFA_SKIP_NO_SKIP);
	ck_assert_int_eq(p->overflow, NFA_OVERFLOW_DROP_OLDEST);
	ck_assert_uint_eq(p->key.n, 0);
	ck_assert_ptr_null(p->steps);
	nfa_pattern_destroy(p);
	nfa_pattern_destroy(NULL);
	nfa_step_fini(NULL);
	cep_path_fini(NULL);
}
END_TEST

START_TEST(destroy_frees_a_partly_built_pattern)
{
	nfa_pattern *p = mk(2);

	step(&p->steps[0], "a", NFA_JOIN_BEGIN, 1);
	p->steps[1].group  = cep_calloc(1, sizeof(nfa_step));
	p->steps[1].ngroup = 1;
	step(&p->steps[1].group[0], "x", NFA_JOIN_BEGIN, 2);
	p->skip_step    = cep_strdup("x");
	p->emit         = cep_calloc(2, sizeof(nfa_emit));
	p->nemit        = 2;
	p->emit[0].name = cep_strdup("n");
	nfa_pattern_destroy(p); // the sanitizer build checks for leaks
}
END_TEST

START_TEST(path_parse_splits_and_interns)
{
	cep_path p = { 0 };

	CEP_ASSERT_OK(cep_path_parse(&p, "src.geo.cc", 10));
	ck_assert_uint_eq(p.n, 3);
	ck_assert_str_eq(p.text, "src.geo.cc");
	ck_assert_uint_eq(p.syms[0], cep_sym_intern_str("src"));
	ck_assert_uint_eq(p.syms[1], cep_sym_intern_str("geo"));
	ck_assert_uint_eq(p.syms[2], cep_sym_intern_str("cc"));
	cep_path_fini(&p);
	ck_assert_uint_eq(p.n, 0);
	// Only the first len bytes count.
	CEP_ASSERT_OK(cep_path_parse(&p, "ab.cd", 2));
	ck_assert_str_eq(p.text, "ab");
	ck_assert_uint_eq(p.n, 1);
	cep_path_fini(&p);
}
END_TEST

START_TEST(path_parse_rejects_empty_segments)
{
	cep_path    p     = { 0 };
	const char *bad[] = { "", ".", "a.", ".a", "a..b" };
	char        big[300];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CEP_ASSERT_ERR(
		    cep_path_parse(&p, bad[i], strlen(bad[i])), CEP_EINVAL);
		ck_assert_ptr_null(p.text); // untouched on error
	}
	CEP_ASSERT_ERR(cep_path_parse(&p, "a\0b", 3), CEP_EINVAL);
	memset(big, 'x', sizeof(big));
	CEP_ASSERT_ERR(cep_path_parse(&p, big, sizeof(big)), CEP_ELIMIT);
	ck_assert_ptr_null(p.text);
}
END_TEST

START_TEST(enum_names)
{
	ck_assert_str_eq(nfa_skip_name(NFA_SKIP_NO_SKIP), "no_skip");
	ck_assert_str_eq(nfa_skip_name(NFA_SKIP_TO_NEXT), "skip_to_next");
	ck_assert_str_eq(
	    nfa_skip_name(NFA_SKIP_PAST_LAST_EVENT), "skip_past_last_event");
	ck_assert_str_eq(nfa_skip_name(NFA_SKIP_TO_FIRST), "skip_to_first");
	ck_assert_str_eq(nfa_skip_name(NFA_SKIP_TO_LAST), "skip_to_last");
	ck_assert_str_eq(
	    nfa_overflow_name(NFA_OVERFLOW_DROP_OLDEST), "drop_oldest");
	ck_assert_str_eq(
	    nfa_overflow_name(NFA_OVERFLOW_DROP_NEWEST), "drop_newest");
	ck_assert_str_eq(
	    nfa_overflow_name(NFA_OVERFLOW_REJECT_START), "reject_start");
	ck_assert_str_eq(nfa_join_name(NFA_JOIN_BEGIN), "begin");
	ck_assert_str_eq(nfa_join_name(NFA_JOIN_NEXT), "next");
	ck_assert_str_eq(nfa_join_name(NFA_JOIN_FOLLOWED_BY), "followed_by");
	ck_assert_str_eq(
	    nfa_join_name(NFA_JOIN_FOLLOWED_BY_ANY), "followed_by_any");
	ck_assert_str_eq(nfa_join_name(NFA_JOIN_NOT_NEXT), "not_next");
	ck_assert_str_eq(
	    nfa_join_name(NFA_JOIN_NOT_FOLLOWED_BY), "not_followed_by");
}
END_TEST

START_TEST(valid_pattern_passes)
{
	nfa_pattern *p = mk(3);
	nfa_step    *s;

	step(&p->steps[0], "a", NFA_JOIN_BEGIN, 1);
	s              = step(&p->steps[1], "b", NFA_JOIN_FOLLOWED_BY, 2);
	s->quant       = NFA_QUANT_ONE_OR_MORE;
	s->greedy      = true;
	s->consecutive = true;
	step(&p->steps[2], "c", NFA_JOIN_NOT_NEXT, 3);
	check(p, "");
}
END_TEST

START_TEST(validate_reports_at_the_key)
{
	nfa_pattern *p = mk(3);
	nfa_step    *s;

	step(&p->steps[0], "a", NFA_JOIN_NEXT, 1);
	s                = step(&p->steps[1], "b", NFA_JOIN_NOT_NEXT, 2);
	s->optional      = true;
	s->locs.optional = at(3, 9);
	s                = step(&p->steps[2], "c", NFA_JOIN_FOLLOWED_BY, 4);
	s->greedy        = true;
	s->locs.greedy   = at(5, 9);
	check(p,
	    "h.yaml:1:7: error: step 'a': the first step must be "
	    "'begin'\n"
	    "h.yaml:3:9: error: step 'b': a negative step cannot be "
	    "optional\n"
	    "h.yaml:5:9: error: step 'c': greedy needs one_or_more, "
	    "times_or_more or times\n");
}
END_TEST

START_TEST(validate_not_followed_by_at_the_end)
{
	nfa_pattern *p = mk(2);

	step(&p->steps[0], "a", NFA_JOIN_BEGIN, 1);
	step(&p->steps[1], "n", NFA_JOIN_NOT_FOLLOWED_BY, 2);
	check(p,
	    "h.yaml:2:7: error: step 'n': not_followed_by as the last "
	    "step needs 'within'\n");
	p = mk(2);
	step(&p->steps[0], "a", NFA_JOIN_BEGIN, 1);
	step(&p->steps[1], "n", NFA_JOIN_NOT_FOLLOWED_BY, 2);
	p->within = 1000;
	check(p, "");
}
END_TEST

START_TEST(validate_optional_after_greedy_and_negative_after_optional)
{
	nfa_pattern *p = mk(4);
	nfa_step    *s;

	s             = step(&p->steps[0], "a", NFA_JOIN_BEGIN, 1);
	s->quant      = NFA_QUANT_TIMES_OR_MORE;
	s->times_min  = 2;
	s->greedy     = true;
	s             = step(&p->steps[1], "b", NFA_JOIN_NEXT, 2);
	s->quant      = NFA_QUANT_TIMES;
	s->times_min  = 0;
	s->times_max  = 3;
	s->locs.quant = at(3, 9);
	step(&p->steps[2], "c", NFA_JOIN_NOT_NEXT, 4);
	step(&p->steps[3], "d", NFA_JOIN_NEXT, 5);
	check(p,
	    "h.yaml:3:9: error: step 'b': an optional step cannot "
	    "follow a greedy step\n"
	    "h.yaml:4:7: error: step 'c': a negative step cannot follow "
	    "an optional step\n");
}
END_TEST

START_TEST(validate_until_skip_names_and_max_gap)
{
	nfa_pattern *p = mk(3);
	nfa_step    *s;

	s            = step(&p->steps[0], "a", NFA_JOIN_BEGIN, 1);
	s->quant     = NFA_QUANT_TIMES;
	s->times_min = s->times_max = 2;
	s->locs.until   = at(2, 9); // written, even if it did not compile
	s               = step(&p->steps[1], "a", NFA_JOIN_NEXT, 3);
	s->max_gap      = 7200000;
	s->locs.max_gap = at(4, 9);
	step(&p->steps[2], "c", NFA_JOIN_NEXT, 5);
	p->within    = 600000;
	p->skip      = NFA_SKIP_TO_FIRST;
	p->skip_step = cep_strdup("zz");
	p->locs.skip = at(9, 5);
	check(p,
	    "h.yaml:2:9: error: step 'a': until needs one_or_more or "
	    "times_or_more\n"
	    "h.yaml:3:7: error: step 'a': duplicate step name (first at "
	    "1:7)\n"
	    "h.yaml:4:9: error: step 'a': max_gap 2h exceeds within "
	    "10m\n"
	    "h.yaml:9:5: error: skip_to_first: no step named 'zz'\n");
}
END_TEST

START_TEST(validate_groups)
{
	nfa_pattern *p = mk(2);
	nfa_step    *g;

	step(&p->steps[0], "a", NFA_JOIN_BEGIN, 1);
	g              = step(&p->steps[1], "g", NFA_JOIN_NEXT, 2);
	g->greedy      = true;
	g->quant       = NFA_QUANT_ONE_OR_MORE;
	g->locs.greedy = at(3, 9);
	g->group       = cep_calloc(2, sizeof(nfa_step));
	g->ngroup      = 2;
	step(&g->group[0], "x", NFA_JOIN_NEXT, 4);
	step(&g->group[1], "y", NFA_JOIN_NOT_FOLLOWED_BY, 5);
	p->within = 1000;
	check(p,
	    "h.yaml:3:9: error: step 'g': greedy is not applicable to a "
	    "group\n"
	    "h.yaml:4:7: error: step 'x': the first step of group 'g' "
	    "must be 'begin'\n"
	    "h.yaml:5:7: error: step 'y': a group cannot end with "
	    "not_followed_by\n");
}
END_TEST

START_TEST(validate_without_locations_or_steps)
{
	nfa_pattern *p = mk(0);

	check(p, "error: pattern 'p' has no steps\n");
	p                       = mk(1);
	p->steps[0].name        = cep_strdup("a");
	p->steps[0].consecutive = true;
	check(p,
	    "error: step 'a': consecutive needs times, one_or_more or "
	    "times_or_more\n");
}
END_TEST

static Suite *
pattern_suite(void)
{
	Suite *s = suite_create("pattern");
	TCase *t = tcase_create("pattern");

	tcase_add_test(t, create_fills_the_defaults);
	tcase_add_test(t, destroy_frees_a_partly_built_pattern);
	tcase_add_test(t, path_parse_splits_and_interns);
	tcase_add_test(t, path_parse_rejects_empty_segments);
	tcase_add_test(t, enum_names);
	suite_add_tcase(s, t);
	t = tcase_create("validate");
	tcase_add_test(t, valid_pattern_passes);
	tcase_add_test(t, validate_reports_at_the_key);
	tcase_add_test(t, validate_not_followed_by_at_the_end);
	tcase_add_test(
	    t, validate_optional_after_greedy_and_negative_after_optional);
	tcase_add_test(t, validate_until_skip_names_and_max_gap);
	tcase_add_test(t, validate_groups);
	tcase_add_test(t, validate_without_locations_or_steps);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(pattern_suite)
