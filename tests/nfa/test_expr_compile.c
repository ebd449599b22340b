/* SPDX-License-Identifier: MIT */
/* test_expr_compile.c: folding, the generated program, its verification,
 * the public accessors, and compiling under allocation failure. */
#include <pthread.h>
#include <string.h>

#include "nfa/expr_impl.h"
#include "tests/support/expr_support.h"

/* ops lists the opcodes of a program, space-separated (static buffer). */
static const char *
ops(const nfa_expr *e)
{
	static char buf[1024];
	size_t      len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < e->ncode && len < sizeof(buf); i++) {
		len += (size_t) snprintf(buf + len, sizeof(buf) - len, "%s%s",
		    i > 0 ? " " : "", nfa__ex_ops[e->code[i].op].name);
	}
	return (buf);
}

#define PROGRAM(text, want)                                            \
	do {                                                           \
		nfa_expr *e_ = tx_compile(text);                       \
		ck_assert_msg(strcmp(ops(e_), (want)) == 0,            \
		    "%s:\nwant %s\ngot  %s", (text), (want), ops(e_)); \
		nfa_expr_destroy(e_);                                  \
	} while (0)

START_TEST(constants_fold_to_one_instruction)
{
	PROGRAM("1 + 2 * 3 == 7", "CONST HALT");
	PROGRAM("\"a\" + \"b\"", "CONST HALT");
	PROGRAM("lower(\"ABC\") + \"!\"", "CONST HALT");
	PROGRAM("len(\"h\\u00e9\") * -abs(-2)", "CONST HALT");
	PROGRAM("not (1 < 2) or 2 in [1, 2]", "CONST HALT");
	PROGRAM("null == null", "CONST HALT");
	PROGRAM("1 / 0", "CONST HALT");
	PROGRAM("starts_with(\"abc\", \"a\") and ends_with(\"abc\", \"c\")",
	    "CONST HALT");
	TX_STR("lower(\"ABC\") + \"!\"", NULL, NULL, "abc!");
	TX_INT("len(\"h\\u00e9\") * -abs(-2)", NULL, NULL, -4);
	/* matches() is left to the run time. */
	PROGRAM("matches(\"abc\", \"b\")", "CONST MATCH HALT");
	TX_TRUE("matches(\"abc\", \"b\")", NULL, NULL);
}
END_TEST

START_TEST(and_or_fold_on_a_constant_left_side)
{
	PROGRAM("true or x", "CONST HALT");
	PROGRAM("false and x", "CONST HALT");
	PROGRAM("null and x", "CONST HALT");
	PROGRAM("1 > 2 and count(small) > 0", "CONST HALT");
	/* The right side stays, made a bool. */
	PROGRAM("true and x", "FIELD TOBOOL HALT");
	PROGRAM("false or x == 1", "FCMP HALT");
	PROGRAM("null or not x", "FIELD NOT HALT");
	/* A constant right side cannot drop the left one. */
	PROGRAM("x and false", "FIELD ANDJ CONST HALT");
	TX_ETYPE("true and x", "{\"x\":5}", NULL);
	TX_ETYPE("x and false", "{\"x\":5}", NULL);
	TX_FALSE("true and x", "{}", NULL);
	TX_TRUE("false or x", "{\"x\":true}", NULL);
}
END_TEST

START_TEST(a_field_compared_with_a_literal_is_one_instruction)
{
	PROGRAM("type == \"auth\" and amount < 2", "FCMP ANDJ FCMP HALT");
	PROGRAM("\"auth\" == type", "FCMP HALT");
	PROGRAM("x == 1 or y != 2 or z >= 3", "FCMP ORJ FCMP ORJ FCMP HALT");
	PROGRAM("a.b == 1", "PATH CONST EQ HALT");
	PROGRAM("x == y", "FIELD FIELD EQ HALT");
	PROGRAM("x == null", "FIELD ISNULL HALT");
	PROGRAM("x != null", "FIELD NOTNULL HALT");
	/* A literal on the left flips the comparison. */
	TX_TRUE("5 > x", "{\"x\":4}", NULL);
	TX_FALSE("5 > x", "{\"x\":5}", NULL);
	TX_TRUE("5 >= x", "{\"x\":5}", NULL);
	TX_TRUE("5 < x", "{\"x\":6}", NULL);
	TX_FALSE("5 <= x", "{\"x\":4}", NULL);
	TX_TRUE("\"b\" != x", "{\"x\":\"a\"}", NULL);
	TX_FALSE("5 > x", "{}", NULL);
	TX_ETYPE("5 > x", "{\"x\":\"a\"}", NULL);
}
END_TEST

START_TEST(short_circuits_jump_past_the_right_side)
{
	nfa_expr *e = tx_compile("a == 1 and (b == 2 or c == 3) and d");

	ck_assert_str_eq(ops(e),
	    "FCMP ANDJ FCMP ORJ FCMP ANDJ FIELD TOBOOL "
	    "HALT");
	/* A false left side lands on the outer ANDJ, which passes the
	 * false on to the end. */
	ck_assert_uint_eq(e->code[1].a, 5);
	ck_assert_uint_eq(e->code[3].a, 5);
	ck_assert_uint_eq(e->code[5].a, 8);
	nfa_expr_destroy(e);
}
END_TEST

START_TEST(the_stack_is_sized_at_compile_time)
{
	struct {
		const char *text;
		uint32_t    depth;
	} cases[] = {
		{ "x", 1 },
		{ "a + b + c + d", 2 },
		{ "a + (b + (c + d))", 4 },
		{ "a * b + c * d", 3 },
		{ "contains(lower(a), b + c)", 3 },
		{ "x == 1 and y == 2", 1 },
		{ "x in [1, 2, 3]", 1 },
		{ "sum(small.x) + count(big)", 2 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		nfa_expr *e = tx_compile(cases[i].text);
		ck_assert_msg(e->max_stack == cases[i].depth, "%s: %u",
		    cases[i].text, e->max_stack);
		nfa_expr_destroy(e);
	}
}
END_TEST

START_TEST(is_true_after_folding)
{
	const char *yes[] = { "true", "1 == 1", "not false", "true or x",
		"(1 < 2) and (2 < 3)", "true or x == 1 or y", "null == null",
		"2 in [1, 2]", "\"a\" + \"b\" == \"ab\"", "((true))" };
	const char *no[] = { "false", "x", "true and x", "x or true", "1 == 2",
		"count(small) >= 0", "null", "1" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		nfa_expr *e = tx_compile(yes[i]);
		ck_assert_msg(nfa_expr_is_true(e), "%s", yes[i]);
		ck_assert_int_eq(nfa_expr_test(e, &(nfa_eval_ctx) { 0 }), 1);
		nfa_expr_destroy(e);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		nfa_expr *e = tx_compile(no[i]);
		ck_assert_msg(!nfa_expr_is_true(e), "%s", no[i]);
		nfa_expr_destroy(e);
	}
}
END_TEST

START_TEST(uses_steps_when_an_aggregate_remains)
{
	const char *yes[] = { "count(small) > 0", "x > sum(big.x)",
		"first(loop.a) == null", "x or avg(middle-first.p) > 1" };
	const char *no[]  = { "x > 1", "lower(x) == \"a\"",
		 "true or count(small) > 1", "false and sum(big.x) > 0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		nfa_expr *e = tx_compile(yes[i]);
		ck_assert_msg(nfa_expr_uses_steps(e), "%s", yes[i]);
		nfa_expr_destroy(e);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		nfa_expr *e = tx_compile(no[i]);
		ck_assert_msg(!nfa_expr_uses_steps(e), "%s", no[i]);
		nfa_expr_destroy(e);
	}
}
END_TEST

START_TEST(the_source_text_is_kept)
{
	char      buf[] = "type == 'a'XXXX";
	nfa_expr *e     = NULL;
	nfa_scope sc    = tx_scope();

	CEP_ASSERT_OK(nfa_expr_compile(buf, 11, &sc, &e, NULL));
	memset(buf, 'Z', sizeof(buf) - 1);
	ck_assert_str_eq(nfa_expr_text(e), "type == 'a'");
	nfa_expr_destroy(e);
	nfa_expr_destroy(NULL);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
	nfa_expr   *e                  = NULL;
	nfa_scope   sc                 = tx_scope();
	cep_diag   *d                  = cep_diag_create();
	const char *steps_missing_text = "x";

	CEP_ASSERT_ERR(nfa_expr_compile(NULL, 3, &sc, &e, d), CEP_EINVAL);
	CEP_ASSERT_ERR(nfa_expr_compile("x", 1, &sc, NULL, d), CEP_EINVAL);
	sc.steps = NULL;
	CEP_ASSERT_ERR(
	    nfa_expr_compile(steps_missing_text, 1, &sc, &e, d), CEP_EINVAL);
	ck_assert_ptr_null(e);
	/* No text is an empty expression; no scope: no steps, line 1. */
	CEP_ASSERT_ERR(nfa_expr_compile(NULL, 0, NULL, &e, d), CEP_EPARSE);
	ck_assert_uint_eq(cep_diag_count(d, -1), 1);
	ck_assert_str_eq(cep_diag_get(d, 0)->message, "empty expression");
	ck_assert_uint_eq(cep_diag_get(d, 0)->loc.line, 1);
	ck_assert_uint_eq(cep_diag_get(d, 0)->loc.col, 1);
	CEP_ASSERT_OK(nfa_expr_compile("x + 1", 5, NULL, &e, d));
	nfa_expr_destroy(e);
	cep_diag_destroy(d);
}
END_TEST

/* damaged changes one thing in a program and expects verify to refuse
 * it; the program is restored afterwards. */
static void
damaged(nfa_expr *e, size_t pc, nfa_ex_ins bad)
{
	nfa_ex_ins saved = e->code[pc];

	e->code[pc] = bad;
	CEP_ASSERT_ERR(nfa__ex_verify(e), CEP_EINTERNAL);
	e->code[pc] = saved;
	CEP_ASSERT_OK(nfa__ex_verify(e));
}

START_TEST(verification_refuses_damaged_programs)
{
	nfa_expr  *e = tx_compile("(a.b == 1 or x in [1, 2]) and "
	                           "matches(s, \"x\") and sum(small.v) > 0");
	nfa_ex_ins in;

	ck_assert_str_eq(ops(e),
	    "PATH CONST EQ ORJ FIELD IN ANDJ FIELD "
	    "MATCH TOBOOL ANDJ SUM CONST GT HALT");
	CEP_ASSERT_OK(nfa__ex_verify(e));
	/* Jumps: backwards, onto themselves, out of the program, to a
	 * place with another stack depth. */
	in   = e->code[3];
	in.a = 1;
	damaged(e, 3, in);
	in.a = 3;
	damaged(e, 3, in);
	in.a = (uint32_t) e->ncode;
	damaged(e, 3, in);
	in.a = 4;
	damaged(e, 3, in);
	/* Operands out of range. */
	in   = e->code[1];
	in.a = (uint32_t) e->nconsts;
	damaged(e, 1, in);
	in   = e->code[0];
	in.c = (uint32_t) e->npaths + 1;
	damaged(e, 0, in);
	in.c = 0;
	damaged(e, 0, in);
	in   = e->code[5];
	in.b = (uint32_t) e->nconsts;
	damaged(e, 5, in);
	in.b = 0;
	damaged(e, 5, in);
	in   = e->code[8];
	in.a = 1;
	damaged(e, 8, in);
	in   = e->code[11];
	in.a = TX_NSTEPS;
	damaged(e, 11, in);
	in   = e->code[4];
	in.a = CEP_SYM_NONE;
	damaged(e, 4, in);
	/* Stack discipline and opcodes. */
	in    = e->code[1];
	in.op = NFA_OP_ADD;
	damaged(e, 1, in);
	in.op = NFA_OP__COUNT;
	damaged(e, 1, in);
	in    = e->code[e->ncode - 1];
	in.op = NFA_OP_NOT;
	damaged(e, e->ncode - 1, in);
	in    = e->code[2];
	in.op = NFA_OP_HALT;
	damaged(e, 2, in);
	in    = e->code[12];
	in.op = NFA_OP_FCMP;
	in.k  = NFA_OP_ADD;
	damaged(e, 12, in);
	e->max_stack--;
	CEP_ASSERT_ERR(nfa__ex_verify(e), CEP_EINTERNAL);
	e->max_stack++;
	nfa_expr_destroy(e);
}
END_TEST

START_TEST(every_opcode_has_a_name_and_a_stack_effect)
{
	for (int op = 0; op < NFA_OP__COUNT; op++) {
		ck_assert_ptr_nonnull(nfa__ex_ops[op].name);
		ck_assert_uint_le(nfa__ex_ops[op].pops, 2);
		ck_assert_uint_le(nfa__ex_ops[op].pushes, 1);
	}
	ck_assert_uint_eq(sizeof(nfa_ex_ins), 16);
}
END_TEST

/* compile_under_failure fails the nth allocation of a compile for every n
 * until one compile no longer reaches the failure; each must give `ok`
 * or CEP_ENOMEM, and nothing may leak (ASAN). */
static void
compile_under_failure(const char *text, cep_err ok, int sticky)
{
	nfa_scope sc = tx_scope();
	uint64_t  n;

	for (n = 1;; n++) {
		cep_diag *d = cep_diag_create();
		nfa_expr *e = NULL;
		cep_err   rv;
		uint64_t  seen;

		ck_assert_ptr_nonnull(d);
		cep_alloc_fail_after(n, sticky);
		rv   = nfa_expr_compile(text, strlen(text), &sc, &e, d);
		seen = cep_alloc_fail_after(0, 0);
		ck_assert_msg(rv == ok || rv == CEP_ENOMEM,
		    "%s: allocation %llu: %s", text, (unsigned long long) n,
		    cep_errname(rv));
		ck_assert((rv == CEP_OK) == (e != NULL));
		nfa_expr_destroy(e);
		cep_diag_destroy(d);
		if (seen < n) {
			ck_assert_int_eq(rv, ok);
			break;
		}
	}
	ck_assert_uint_gt(n, 3);
}

START_TEST(compiling_survives_allocation_failures)
{
	static const char *good[] = {
		"type == \"auth\" and amount < 2",
		"lower(`new-name`) + \"x\" == \"ax\" and a.b.c in [1, 2, "
		"\"q\"] "
		"or matches(s, \"^[a-z]+$\") and sum(small.v.w) > count(loop) "
		"and \"con\" + \"cat\" == x and not contains(y, 'z')",
		"matches(a, \"x\") or matches(b, \"y\") or matches(c, \"z\")",
	};
	static const char *bad[] = {
		"\"a\" + 1 > 0 and lenn(x) and count(smal) > 0 and not 5",
		"matches(x, \"(\") and fresh_name_for_fail_test > 1",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		compile_under_failure(good[i], CEP_OK, 1);
		compile_under_failure(good[i], CEP_OK, 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		compile_under_failure(bad[i], CEP_ETYPE, 1);
		compile_under_failure(bad[i], CEP_ETYPE, 0);
	}
	compile_under_failure("x == (1 +", CEP_EPARSE, 1);
	compile_under_failure("x == \"unterminated", CEP_EPARSE, 0);
}
END_TEST

/* Several threads evaluate the same programs, each with its scratch. */
struct worker {
	nfa_expr       **e;
	size_t           n;
	const cep_event *ev;
	int              trues;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	nfa_scratch   *s = nfa_scratch_create();
	nfa_eval_ctx   ctx;

	ctx.event       = w->ev;
	ctx.step_events = NULL;
	ctx.arg         = NULL;
	ctx.scratch     = s;
	for (int k = 0; k < 20000 && s != NULL; k++) {
		for (size_t i = 0; i < w->n; i++) {
			w->trues += nfa_expr_test(w->e[i], &ctx);
		}
		nfa_scratch_reset(s);
	}
	nfa_scratch_destroy(s);
	return (NULL);
}

START_TEST(one_program_serves_many_threads)
{
	nfa_expr     *e[3];
	struct worker w[4];
	pthread_t     t[4];
	cep_event    *ev = cep_test_event("{\"x\":\"Q\"}");

	e[0] = tx_compile("matches(lower(\"ABC\" + x), \"^abcq$\")");
	e[1] = tx_compile("count(small) == 0 and first(big.x) == null");
	e[2] = tx_compile("len(x + \"xyz\") == 4 and y == null");
	for (int i = 0; i < 4; i++) {
		w[i].e     = e;
		w[i].n     = 3;
		w[i].ev    = ev;
		w[i].trues = 0;
		ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(w[i].trues, 20000 * 3);
	}
	for (int i = 0; i < 3; i++) {
		nfa_expr_destroy(e[i]);
	}
	cep_event_unref(ev, NULL);
}
END_TEST

static Suite *
expr_compile_suite(void)
{
	Suite *s = suite_create("expr_compile");
	TCase *t = tcase_create("expr_compile");

	tcase_set_timeout(t, 120);
	tcase_add_test(t, constants_fold_to_one_instruction);
	tcase_add_test(t, and_or_fold_on_a_constant_left_side);
	tcase_add_test(t, a_field_compared_with_a_literal_is_one_instruction);
	tcase_add_test(t, short_circuits_jump_past_the_right_side);
	tcase_add_test(t, the_stack_is_sized_at_compile_time);
	tcase_add_test(t, is_true_after_folding);
	tcase_add_test(t, uses_steps_when_an_aggregate_remains);
	tcase_add_test(t, the_source_text_is_kept);
	tcase_add_test(t, bad_arguments_are_refused);
	tcase_add_test(t, verification_refuses_damaged_programs);
	tcase_add_test(t, every_opcode_has_a_name_and_a_stack_effect);
	tcase_add_test(t, compiling_survives_allocation_failures);
	tcase_add_test(t, one_program_serves_many_threads);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(expr_compile_suite)
