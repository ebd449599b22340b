/* SPDX-License-Identifier: MIT */
/*
 * test_compile.c: the NFA compiler (FlinkCEP's NFACompiler): the states of
 * representative automata, fingerprints, the size limit, the Graphviz
 * drawing, allocation failure, and every conformance pattern.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nfa/nfa_impl.h"
#include "tests/support/matcher_support.h"

#define HEAD "patterns:\n  - name: p\n"

/* slow scales a time limit for slow builds: by the harness's timeout
 * over its default (60 s), and by 20 under valgrind (as the valgrind
 * test setup scales its timeouts). */
static double
slow(double secs)
{
	const char *t  = getenv("CK_DEFAULT_TIMEOUT");
	const char *pl = getenv("LD_PRELOAD");
	double      f  = t != NULL ? atof(t) / 60.0 : 1.0;

	if (pl != NULL && strstr(pl, "vgpreload") != NULL) {
		f = 20.0;
	}
	return (secs * (f > 1.0 ? f : 1.0));
}

/* states compiles yaml and returns its number of states. */
static size_t
states(const char *yaml)
{
	nfa_prog *p = mt_compile(yaml);
	size_t    n = nfa_prog_nstates(p);

	nfa_prog_unref(p);
	return (n);
}

/* dot draws the one pattern of yaml (static buffer). */
static const char *
dot(const char *yaml)
{
	static char text[1 << 15];
	nfa_prog   *p = mt_compile(yaml);
	cep_buf     b;

	cep_buf_init(&b);
	CEP_ASSERT_OK(nfa_prog_dot(p, &b));
	ck_assert_uint_lt(b.len, sizeof(text));
	memcpy(text, b.data, b.len);
	text[b.len] = '\0';
	cep_buf_fini(&b);
	nfa_prog_unref(p);
	return (text);
}

static int
count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *s = strstr(hay, needle); s != NULL;
	     s             = strstr(s + 1, needle)) {
		n++;
	}
	return (n);
}

static const char *const not_next_yaml =
    HEAD "    sequence:\n"
         "      - begin: a\n        where: kind == \"a\"\n"
         "      - not_next: b\n        where: kind == \"b\"\n"
         "      - followed_by: c\n        where: kind == \"c\"\n";

static const char *const greedy_loop_yaml =
    HEAD "    sequence:\n"
         "      - begin: a\n        where: kind == \"a\"\n"
         "      - followed_by: b\n        where: kind == \"b\"\n"
         "        one_or_more: true\n        greedy: true\n"
         "      - followed_by: c\n        where: kind == \"c\"\n";

static const char *const times_yaml =
    HEAD "    sequence:\n"
         "      - begin: a\n        where: kind == \"a\"\n"
         "        times: [2, 4]\n";

static const char *const group_yaml =
    HEAD "    sequence:\n"
         "      - begin: a\n        where: kind == \"a\"\n"
         "      - followed_by: pair\n"
         "        sequence:\n"
         "          - begin: x\n            where: kind == \"x\"\n"
         "          - next: y\n            where: kind == \"y\"\n";

START_TEST(not_next_adds_its_state_and_a_stop_state)
{
	nfa_prog *p     = mt_compile(not_next_yaml);
	int       stops = 0, finals = 0, starts = 0;

	/* final, c, the not_next state, its stop state, a. */
	ck_assert_uint_eq(nfa_prog_nstates(p), 5);
	for (uint32_t i = 0; i < p->nstates; i++) {
		stops += p->states[i].type == NFA_ST_STOP;
		finals += p->states[i].type == NFA_ST_FINAL;
		starts += p->states[i].type == NFA_ST_START;
	}
	ck_assert_int_eq(stops, 1);
	ck_assert_int_eq(finals, 1);
	ck_assert_int_eq(starts, 1);
	ck_assert_str_eq(p->states[p->start].name, "a");
	nfa_prog_unref(p);
}
END_TEST

START_TEST(a_greedy_loop_has_loop_ignore_and_entry_states)
{
	/* final, c, the looping state, its ignore state, b's first state,
	 * a. */
	ck_assert_uint_eq(states(greedy_loop_yaml), 6);
}
END_TEST

START_TEST(times_two_to_four_chains_its_states)
{
	/* final; two optional states each with an ignore state; one
	 * mandatory state; the first state (strict: no ignore). */
	ck_assert_uint_eq(states(times_yaml), 7);
}
END_TEST

START_TEST(a_group_compiles_its_inner_steps)
{
	/* final, y, x (head of the group, ignoring per followed_by), a. */
	ck_assert_uint_eq(states(group_yaml), 4);
}
END_TEST

START_TEST(a_group_repeated_twice_compiles_twice)
{
	const char *once  = HEAD "    sequence:\n"
	                         "      - begin: a\n"
	                         "      - followed_by: g\n"
	                         "        sequence:\n"
	                         "          - begin: x\n"
	                         "          - next: y\n";
	const char *twice = HEAD "    sequence:\n"
	                         "      - begin: a\n"
	                         "      - followed_by: g\n"
	                         "        times: 2\n"
	                         "        sequence:\n"
	                         "          - begin: x\n"
	                         "          - next: y\n";

	ck_assert_uint_eq(states(once), 4);
	ck_assert_uint_eq(states(twice), 6);
}
END_TEST

START_TEST(state_names_are_unique)
{
	nfa_prog *p = mt_compile(greedy_loop_yaml);

	for (uint32_t i = 0; i < p->nstates; i++) {
		for (uint32_t j = i + 1; j < p->nstates; j++) {
			ck_assert_str_ne(p->states[i].name, p->states[j].name);
		}
	}
	nfa_prog_unref(p);
}
END_TEST

START_TEST(equal_patterns_have_equal_fingerprints)
{
	nfa_prog *a = mt_compile(greedy_loop_yaml);
	nfa_prog *b = mt_compile(greedy_loop_yaml);

	ck_assert_uint_eq(nfa_prog_fingerprint(a), nfa_prog_fingerprint(b));
	ck_assert_uint_ne(nfa_prog_fingerprint(a), 0);
	nfa_prog_unref(a);
	nfa_prog_unref(b);
}
END_TEST

START_TEST(different_patterns_have_different_fingerprints)
{
	static const char *const yamls[] = {
		HEAD "    sequence:\n      - begin: a\n        where: x == 1\n"
		     "      - followed_by: b\n        where: x == 2\n",
		/* another condition */
		HEAD "    sequence:\n      - begin: a\n        where: x == 1\n"
		     "      - followed_by: b\n        where: x == 3\n",
		/* another contiguity */
		HEAD "    sequence:\n      - begin: a\n        where: x == 1\n"
		     "      - next: b\n        where: x == 2\n",
		HEAD "    sequence:\n      - begin: a\n        where: x == 1\n"
		     "      - followed_by_any: b\n        where: x == 2\n",
		/* a window */
		HEAD "    within: 5s\n"
		     "    sequence:\n      - begin: a\n        where: x == 1\n"
		     "      - followed_by: b\n        where: x == 2\n",
		/* a gap */
		HEAD "    sequence:\n      - begin: a\n        where: x == 1\n"
		     "      - followed_by: b\n        where: x == 2\n"
		     "        max_gap: 5s\n",
		/* a quantifier */
		HEAD "    sequence:\n      - begin: a\n        where: x == 1\n"
		     "      - followed_by: b\n        where: x == 2\n"
		     "        times: 2\n",
		/* another key: saved state is partitioned by it */
		HEAD "    key: user\n"
		     "    sequence:\n      - begin: a\n        where: x == 1\n"
		     "      - followed_by: b\n        where: x == 2\n",
		HEAD "    key: card\n"
		     "    sequence:\n      - begin: a\n        where: x == 1\n"
		     "      - followed_by: b\n        where: x == 2\n",
		/* another skip strategy: saved state holds its matches */
		HEAD "    skip: skip_past_last_event\n"
		     "    sequence:\n      - begin: a\n        where: x == 1\n"
		     "      - followed_by: b\n        where: x == 2\n",
		HEAD "    skip: {skip_to_first: a}\n"
		     "    sequence:\n      - begin: a\n        where: x == 1\n"
		     "      - followed_by: b\n        where: x == 2\n",
		HEAD "    skip: {skip_to_first: b}\n"
		     "    sequence:\n      - begin: a\n        where: x == 1\n"
		     "      - followed_by: b\n        where: x == 2\n",
		/* another name */
		"patterns:\n  - name: q\n"
		"    sequence:\n      - begin: a\n        where: x == 1\n"
		"      - followed_by: b\n        where: x == 2\n",
	};
	enum { N = sizeof(yamls) / sizeof(yamls[0]) };
	uint64_t fp[N];

	for (size_t i = 0; i < N; i++) {
		nfa_prog *p = mt_compile(yamls[i]);
		fp[i]       = nfa_prog_fingerprint(p);
		nfa_prog_unref(p);
		for (size_t j = 0; j < i; j++) {
			ck_assert_msg(fp[i] != fp[j],
			    "patterns %zu and %zu share a fingerprint", j, i);
		}
	}
}
END_TEST

START_TEST(too_large_a_pattern_fails_with_elimit)
{
	const char *yaml = HEAD "    sequence:\n"
	                        "      - begin: a\n"
	                        "        where: x == 1\n"
	                        "        times: [1, 5000]\n";
	cep_diag   *d    = cep_diag_create();
	nfa_prog   *p    = NULL;
	clock_t     t0   = clock();

	CEP_ASSERT_ERR(mt_compile_try(yaml, &p, d), CEP_ELIMIT);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(cep_test_diag_count(d, "error:"), 1);
	ck_assert_uint_eq(cep_test_diag_count(d,
	                      "pattern 'p' needs more than 4096 automaton "
	                      "states"),
	    1);
	/* Located at the pattern's sequence. */
	ck_assert_uint_eq(cep_test_diag_count(d, "rules.yaml:3:"), 1);
	/* Refusing it is quick, not a long crawl to the limit (10 s, scaled
	 * as the harness scales its timeouts for slow builds). */
	ck_assert_msg((double) (clock() - t0) / CLOCKS_PER_SEC < slow(10.0),
	    "took %.1fs", (double) (clock() - t0) / CLOCKS_PER_SEC);
	cep_diag_destroy(d);
}
END_TEST

START_TEST(the_largest_accepted_times_compiles)
{
	/* Two states per optional repetition: 2000 fits under the limit. */
	nfa_prog *p = mt_compile(HEAD "    sequence:\n"
	                              "      - begin: a\n"
	                              "        where: x == 1\n"
	                              "        times: [1, 2000]\n");

	ck_assert_uint_le(nfa_prog_nstates(p), NFA_MAX_STATES);
	ck_assert_uint_eq(nfa_prog_nstates(p), 1 + 2 * 1999 + 1);
	nfa_prog_unref(p);
}
END_TEST

START_TEST(dot_of_a_greedy_loop_shows_the_guard)
{
	const char *d = dot(greedy_loop_yaml);

	ck_assert_msg(strncmp(d, "digraph \"p\" {\n", 14) == 0, "%s", d);
	ck_assert_msg(d[strlen(d) - 2] == '}', "%s", d);
	/* c's edges: take c, and not b (the loop's condition). */
	ck_assert_msg(strstr(d,
	                  "take: (kind == \\\"c\\\") and (not (kind == "
	                  "\\\"b\\\"))") != NULL,
	    "%s", d);
	ck_assert_msg(strstr(d,
	                  "ignore: (not (kind == \\\"c\\\")) and (not (kind "
	                  "== \\\"b\\\"))") != NULL,
	    "%s", d);
	/* One node per state, one arrow per edge; proceeds dashed. */
	ck_assert_int_eq(count_of(d, " [label="), 6 + count_of(d, " -> "));
	ck_assert_int_eq(count_of(d, "shape=doublecircle"), 1);
	ck_assert_int_eq(count_of(d, "style=bold"), 1);
	ck_assert_int_eq(
	    count_of(d, "label=\"proceed: "), count_of(d, ", style=dashed]"));
}
END_TEST

START_TEST(dot_of_a_lazy_loop_has_no_guard)
{
	const char *lazy =
	    HEAD "    sequence:\n"
	         "      - begin: a\n        where: kind == \"a\"\n"
	         "      - followed_by: b\n        where: kind == "
	         "\"b\"\n        one_or_more: true\n"
	         "      - followed_by: c\n        where: kind == "
	         "\"c\"\n";
	const char *d = dot(lazy);

	ck_assert_msg(
	    strstr(d, "and (not (kind == \\\"b\\\"))") == NULL, "%s", d);
}
END_TEST

START_TEST(dot_marks_stop_and_pending_states_and_gaps)
{
	const char *d =
	    dot(HEAD "    within: 3ms\n"
	             "    sequence:\n"
	             "      - begin: a\n        where: x == 1\n"
	             "        max_gap: 2ms\n"
	             "      - not_followed_by: b\n        where: x == "
	             "2\n");

	ck_assert_msg(count_of(d, "shape=Mcircle") == 1, "%s", d);
	ck_assert_msg(count_of(d, "style=dashed]") >= 1, "%s", d);
	ck_assert_msg(count_of(d, "shape=circle, style=dashed") == 1, "%s", d);
	ck_assert_msg(strstr(d, "\\nmax_gap 2ms") != NULL, "%s", d);
}
END_TEST

START_TEST(dot_escapes_quotes_in_conditions)
{
	const char *d = dot("patterns:\n  - name: \"a.b-c\"\n"
	                    "    sequence:\n"
	                    "      - begin: s\n"
	                    "        where: 'name == \"x\"'\n");

	ck_assert_msg(strstr(d, "digraph \"a.b-c\"") != NULL, "%s", d);
	ck_assert_msg(strstr(d, "name == \\\"x\\\"") != NULL, "%s", d);
}
END_TEST

START_TEST(references_keep_the_program)
{
	nfa_prog *p = mt_compile(group_yaml);

	nfa_prog_ref(p);
	nfa_prog_unref(p);
	ck_assert_str_eq(nfa_prog_pattern(p)->name, "p");
	nfa_prog_unref(p);
	nfa_prog_unref(NULL);
}
END_TEST

START_TEST(compile_survives_allocation_failure)
{
	static const char *const yamls[] = {
		not_next_yaml,
		greedy_loop_yaml,
		times_yaml,
		group_yaml,
		HEAD "    within: 1s\n    sequence:\n"
		     "      - begin: a\n        where: x == 1\n"
		     "      - followed_by: g\n        times: [1, 3]\n"
		     "        sequence:\n"
		     "          - begin: x\n            where: x == 2\n"
		     "            one_or_more: true\n"
		     "            until: x == 9\n"
		     "          - next: y\n            where: x == 3\n"
		     "      - not_followed_by: z\n        where: x == 4\n",
	};

	for (size_t k = 0; k < sizeof(yamls) / sizeof(yamls[0]); k++) {
		srv_rules *r;
		cep_diag  *d  = cep_diag_create();
		size_t     ok = 0;

		for (uint64_t n = 1; ok == 0; n++) {
			nfa_prog *p = NULL;
			cep_err   rv;
			CEP_ASSERT_OK(srv_rules_load_text(
			    "rules.yaml", yamls[k], strlen(yamls[k]), &r, d));
			cep_alloc_fail_after(n, 1);
			rv = nfa_prog_create(r->patterns[0], &p, d);
			cep_alloc_fail_after(0, 0);
			if (rv == CEP_OK) {
				r->patterns[0] = NULL;
				ck_assert_uint_gt(nfa_prog_nstates(p), 1);
				nfa_prog_unref(p);
				ok = 1;
			} else {
				CEP_ASSERT_ERR(rv, CEP_ENOMEM);
			}
			srv_rules_destroy(r);
			ck_assert_uint_lt(n, 100000);
		}
		cep_diag_destroy(d);
	}
}
END_TEST

START_TEST(every_conformance_pattern_compiles)
{
	char **names;
	size_t n = mt_case_names(&names);

	ck_assert_uint_ge(n, 92);
	for (size_t i = 0; i < n; i++) {
		mt_case c;
		mt_case_load(names[i], &c);
		ck_assert_uint_ge(c.nprogs, 1);
		for (size_t k = 0; k < c.nprogs; k++) {
			nfa_prog *p = c.progs[k];
			cep_buf   b;
			int       final = 0, start = 0;
			ck_assert_uint_ge(nfa_prog_nstates(p), 2);
			for (uint32_t s = 0; s < p->nstates; s++) {
				final += p->states[s].type == NFA_ST_FINAL;
				start += p->states[s].type == NFA_ST_START;
				for (uint32_t e = 0; e < p->states[s].nedges;
				     e++) {
					const nfa_edge *ed =
					    &p->edges[p->states[s].edge0 + e];
					ck_assert_uint_eq(ed->from, s);
					ck_assert_uint_lt(ed->to, p->nstates);
					ck_assert_uint_lt(ed->cond, p->nconds);
				}
			}
			/* A final sink copied without transitive nots is
			 * another final state, as in FlinkCEP. */
			ck_assert_msg(final >= 1 && start == 1,
			    "%s: %d final and %d start states", names[i],
			    final, start);
			cep_buf_init(&b);
			CEP_ASSERT_OK(nfa_prog_dot(p, &b));
			ck_assert_uint_gt(b.len, 20);
			cep_buf_fini(&b);
		}
		mt_case_fini(&c);
	}
	mt_case_names_free(names, n);
}
END_TEST

static Suite *
compile_suite(void)
{
	Suite *s = suite_create("compile");
	TCase *t = tcase_create("states");

	tcase_add_test(t, not_next_adds_its_state_and_a_stop_state);
	tcase_add_test(t, a_greedy_loop_has_loop_ignore_and_entry_states);
	tcase_add_test(t, times_two_to_four_chains_its_states);
	tcase_add_test(t, a_group_compiles_its_inner_steps);
	tcase_add_test(t, a_group_repeated_twice_compiles_twice);
	tcase_add_test(t, state_names_are_unique);
	suite_add_tcase(s, t);
	t = tcase_create("program");
	tcase_add_test(t, equal_patterns_have_equal_fingerprints);
	tcase_add_test(t, different_patterns_have_different_fingerprints);
	tcase_add_test(t, too_large_a_pattern_fails_with_elimit);
	tcase_add_test(t, the_largest_accepted_times_compiles);
	tcase_add_test(t, references_keep_the_program);
	tcase_add_test(t, compile_survives_allocation_failure);
	tcase_add_test(t, every_conformance_pattern_compiles);
	suite_add_tcase(s, t);
	t = tcase_create("dot");
	tcase_add_test(t, dot_of_a_greedy_loop_shows_the_guard);
	tcase_add_test(t, dot_of_a_lazy_loop_has_no_guard);
	tcase_add_test(t, dot_marks_stop_and_pending_states_and_gaps);
	tcase_add_test(t, dot_escapes_quotes_in_conditions);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(compile_suite)
