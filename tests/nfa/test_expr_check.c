/* SPDX-License-Identifier: MIT */
/* test_expr_check.c: names, functions, steps and static types, each
 * error with its exact position. */
#include <string.h>

#include "tests/support/expr_support.h"

#define TYPE_ERR(text, want) TX_ERRORS(text, NULL, CEP_ETYPE, want)
#define COMPILES(text) TX_ERRORS(text, NULL, CEP_OK, "")

START_TEST(literal_operands_of_the_wrong_type_are_load_errors)
{
	TYPE_ERR("\"a\" + 1 == x",
	    "rules.yaml:1:5: error: cannot add string and int\n");
	TYPE_ERR("x == 1.5 + \"a\"",
	    "rules.yaml:1:10: error: cannot add double and string\n");
	TYPE_ERR("x == 2 - \"a\"",
	    "rules.yaml:1:8: error: cannot apply '-' to int and string\n");
	TYPE_ERR("x == true * 2",
	    "rules.yaml:1:11: error: cannot apply '*' to bool and int\n");
	TYPE_ERR("x == \"a\" / \"b\"",
	    "rules.yaml:1:10: error: cannot apply '/' to string and string\n");
	TYPE_ERR("x == 1 % false",
	    "rules.yaml:1:8: error: cannot apply '%' to int and bool\n");
	TYPE_ERR("1 < \"x\"",
	    "rules.yaml:1:3: error: cannot compare int with string\n");
	TYPE_ERR("\"a\" == 3",
	    "rules.yaml:1:5: error: cannot compare string with int\n");
	TYPE_ERR("true != 0",
	    "rules.yaml:1:6: error: cannot compare bool with int\n");
	TYPE_ERR("true >= false",
	    "rules.yaml:1:6: error: cannot compare bool with bool\n");
	TYPE_ERR("x == -\"a\"",
	    "rules.yaml:1:6: error: '-' needs a number, got string\n");
	TYPE_ERR("not 5",
	    "rules.yaml:1:5: error: 'not' needs a bool, got "
	    "int\n");
	TYPE_ERR("not \"s\"",
	    "rules.yaml:1:5: error: 'not' needs a bool, got "
	    "string\n");
	TYPE_ERR("x and 3",
	    "rules.yaml:1:7: error: 'and' needs a bool, got "
	    "int\n");
	TYPE_ERR("1.5 or x",
	    "rules.yaml:1:1: error: 'or' needs a bool, got "
	    "double\n");
	TYPE_ERR("x and (1 + 2)",
	    "rules.yaml:1:7: error: 'and' needs a bool, "
	    "got number\n");
}
END_TEST

START_TEST(an_operand_that_cannot_work_is_an_error_even_beside_a_field)
{
	TYPE_ERR("\"a\" - x > 1",
	    "rules.yaml:1:5: error: cannot apply '-' to string values\n");
	TYPE_ERR("x * true > 1",
	    "rules.yaml:1:3: error: cannot apply '*' to bool values\n");
	TYPE_ERR("x + true > 1",
	    "rules.yaml:1:3: error: cannot apply '+' to bool values\n");
	TYPE_ERR("true < x",
	    "rules.yaml:1:6: error: cannot order bool values with '<'\n");
	TYPE_ERR("x >= false",
	    "rules.yaml:1:3: error: cannot order bool values with '>='\n");
	TYPE_ERR("x < null",
	    "rules.yaml:1:3: error: '<' with null is always "
	    "false; use == null or != null\n");
	TYPE_ERR("null > x",
	    "rules.yaml:1:6: error: '>' with null is always "
	    "false; use == null or != null\n");
	/* Fields are schemaless: these wait for the run time. */
	COMPILES("amount + 1 > 0");
	COMPILES("x + y == \"ab\"");
	COMPILES("x < y and -x < 0 and x % 2 == 0");
	COMPILES("x == \"a\" or x == 1 or x == true or x == null");
	COMPILES("x and y or not z");
	COMPILES("null + 1 == 2");
	COMPILES("-null == 1");
	COMPILES("x == null and null == x and null == null");
}
END_TEST

START_TEST(function_results_have_known_types)
{
	TYPE_ERR("len(x) + \"a\" == 1",
	    "rules.yaml:1:8: error: cannot add int and string\n");
	TYPE_ERR("lower(x) > 1",
	    "rules.yaml:1:10: error: cannot compare string with int\n");
	TYPE_ERR("contains(x, \"a\") + 1 > 0",
	    "rules.yaml:1:18: error: cannot add bool and int\n");
	TYPE_ERR("abs(x) == \"1\"",
	    "rules.yaml:1:8: error: cannot compare number with string\n");
	TYPE_ERR("not len(x)",
	    "rules.yaml:1:5: error: 'not' needs a bool, "
	    "got int\n");
	COMPILES("len(x) > 3 and lower(y) == \"a\" and abs(z) < 2.5");
	COMPILES("starts_with(lower(x), \"a\") == true");
	COMPILES("len(lower(x) + \"!\") == 2");
}
END_TEST

START_TEST(function_arguments_are_checked)
{
	TYPE_ERR("len(5) > 0",
	    "rules.yaml:1:5: error: len() needs a string, "
	    "array or map, got int\n");
	TYPE_ERR("abs(\"a\") > 1",
	    "rules.yaml:1:5: error: abs() needs a number, got string\n");
	TYPE_ERR("abs(true) > 1",
	    "rules.yaml:1:5: error: abs() needs a number, got bool\n");
	TYPE_ERR("lower(1) == x",
	    "rules.yaml:1:7: error: lower() needs a string, got int\n");
	TYPE_ERR("starts_with(1, \"a\")",
	    "rules.yaml:1:13: error: starts_with() needs strings, got int\n");
	TYPE_ERR("ends_with(x, 2.5)",
	    "rules.yaml:1:14: error: ends_with() needs strings, got double\n");
	TYPE_ERR("contains(1, 2)",
	    "rules.yaml:1:10: error: contains() needs strings, got int\n"
	    "rules.yaml:1:13: error: contains() needs strings, got int\n");
	TYPE_ERR("matches(1, \"a\")",
	    "rules.yaml:1:9: error: matches() needs a string, got int\n");
	TYPE_ERR("len(1 + 2) > 0",
	    "rules.yaml:1:5: error: len() needs a "
	    "string, array or map, got number\n");
	TYPE_ERR("len((1)) > 0",
	    "rules.yaml:1:5: error: len() needs a "
	    "string, array or map, got int\n");
	/* null is fine anywhere: the result is null. */
	COMPILES("len(null) == null and abs(null) == null");
	COMPILES("contains(null, \"a\") == null");
}
END_TEST

START_TEST(function_arity_is_checked)
{
	TYPE_ERR("contains(x)",
	    "rules.yaml:1:1: error: contains() takes 2 arguments, got 1\n");
	TYPE_ERR("x and starts_with(x, \"a\", \"b\")",
	    "rules.yaml:1:7: error: starts_with() takes 2 arguments, got 3\n");
	TYPE_ERR("abs() > 1",
	    "rules.yaml:1:1: error: abs() takes 1 argument, got 0\n");
	TYPE_ERR("len(x, y) > 1",
	    "rules.yaml:1:1: error: len() takes 1 argument, got 2\n");
	TYPE_ERR("matches(x)",
	    "rules.yaml:1:1: error: matches() takes 2 arguments, got 1\n");
}
END_TEST

START_TEST(unknown_functions_suggest_a_near_name)
{
	TYPE_ERR("lenn(x) > 1",
	    "rules.yaml:1:1: error: unknown function "
	    "'lenn'; did you mean 'len'?\n");
	TYPE_ERR("x and startswith(x, \"a\")",
	    "rules.yaml:1:7: error: unknown function 'startswith'; did you "
	    "mean 'starts_with'?\n");
	TYPE_ERR("cout(small) > 1",
	    "rules.yaml:1:1: error: unknown function "
	    "'cout'; did you mean 'count'?\n");
	TYPE_ERR("upper(x) == \"A\"",
	    "rules.yaml:1:1: error: unknown function 'upper'\n");
	TYPE_ERR("now() > 1",
	    "rules.yaml:1:1: error: unknown function "
	    "'now'\n");
}
END_TEST

START_TEST(regexes_are_compiled_at_load)
{
	TYPE_ERR("matches(x, y)",
	    "rules.yaml:1:12: error: the pattern of "
	    "matches() must be a string literal\n");
	TYPE_ERR("matches(x, \"a\" + \"b\")",
	    "rules.yaml:1:12: error: the pattern of matches() must be a "
	    "string literal\n");
	TYPE_ERR("matches(x, null)",
	    "rules.yaml:1:12: error: the pattern of "
	    "matches() must be a string literal\n");
	/* The position is inside the literal when it has no escapes. */
	TYPE_ERR("matches(x, \"ab(\")",
	    "rules.yaml:1:16: error: invalid regex in matches(): missing "
	    "closing parenthesis\n");
	TYPE_ERR("matches(x, '[a')",
	    "rules.yaml:1:15: error: invalid regex in matches(): missing "
	    "terminating ] for character class\n");
	TYPE_ERR("matches(x, \"*\")",
	    "rules.yaml:1:13: error: invalid regex in matches(): quantifier "
	    "does not follow a repeatable item\n");
	TYPE_ERR("matches(x, \"\\t(\")",
	    "rules.yaml:1:12: error: invalid regex in matches(): missing "
	    "closing parenthesis\n");
	COMPILES("matches(x, \"^[a-z]+\\\\d*$\")");
	COMPILES("matches(x, \"\\u00e9+\")");
}
END_TEST

START_TEST(aggregate_steps_are_resolved)
{
	COMPILES("count(small) > 0 and sum(big.x) > 0 and "
	         "avg(middle-first.y) > 0 and max(loop.z) > 0");
	TYPE_ERR("count(smal) > 1",
	    "rules.yaml:1:7: error: unknown step "
	    "'smal' in count(); did you mean "
	    "'small'?\n");
	TYPE_ERR("sum(middle_first.x) > 1",
	    "rules.yaml:1:5: error: unknown step 'middle_first' in sum(); did "
	    "you mean 'middle-first'?\n");
	TYPE_ERR("count(nothing) > 1",
	    "rules.yaml:1:7: error: unknown step "
	    "'nothing' in count()\n");
	TYPE_ERR("first(`small `.x) == 1",
	    "rules.yaml:1:7: error: unknown step 'small ' in first(); did you "
	    "mean 'small'?\n");
	TYPE_ERR("count(later) > 1",
	    "rules.yaml:1:7: error: step 'later' has no events yet where this "
	    "expression is evaluated (in step 'loop')\n");
	TYPE_ERR("count(small.f) > 1",
	    "rules.yaml:1:7: error: count() counts the events of a step: "
	    "write count(small), without a field\n");
	TYPE_ERR("sum(small) > 1",
	    "rules.yaml:1:5: error: sum() needs a "
	    "field of the step: sum(small.field)\n");
	TYPE_ERR("last(big) == 1",
	    "rules.yaml:1:6: error: last() needs a "
	    "field of the step: last(big.field)\n");
}
END_TEST

START_TEST(visibility_follows_the_scope)
{
	static const char *const steps[] = { "a", "b", "c" };
	static const uint8_t     vis[]   = { 1, 0, 1 };
	nfa_scope sc = { steps, 3, vis, NULL, { "p.yaml", 4, 20 } };

	/* Without a current step, the message says less. */
	TX_ERRORS("count(b) + 1", &sc, CEP_ETYPE,
	    "p.yaml:4:26: error: step 'b' has no events yet where this "
	    "expression is evaluated\n");
	TX_ERRORS("count(a) + count(c)", &sc, CEP_OK, "");
	/* visible NULL: every step is visible (emit). */
	sc.visible = NULL;
	TX_ERRORS("count(b) + sum(c.x)", &sc, CEP_OK, "");
	/* No steps at all. */
	sc.nsteps = 0;
	TX_ERRORS("count(a)", &sc, CEP_ETYPE,
	    "p.yaml:4:26: error: unknown step 'a' in count()\n");
	TX_ERRORS("count(a)", NULL, CEP_ETYPE,
	    "rules.yaml:1:7: error: unknown step 'a' in count()\n");
}
END_TEST

START_TEST(aggregate_results_have_known_types)
{
	TYPE_ERR("count(small) + \"a\" == x",
	    "rules.yaml:1:14: error: cannot add int and string\n");
	TYPE_ERR("avg(small.x) == \"a\"",
	    "rules.yaml:1:14: error: cannot compare double with string\n");
	TYPE_ERR("sum(small.x) < \"a\"",
	    "rules.yaml:1:14: error: cannot compare number with string\n");
	TYPE_ERR("not count(small)",
	    "rules.yaml:1:5: error: 'not' needs a bool, got int\n");
	TYPE_ERR("len(count(small)) > 1",
	    "rules.yaml:1:5: error: len() needs a string, array or map, got "
	    "int\n");
	TYPE_ERR("max(small.x) == true",
	    "rules.yaml:1:14: error: cannot compare number or string with "
	    "bool\n");
	/* min/max may be strings; first/last anything. */
	COMPILES("max(small.x) + 1 > 0");
	COMPILES("min(small.x) < \"m\"");
	COMPILES("first(small.x) and last(small.y)");
	COMPILES("len(first(small.x)) == 2");
}
END_TEST

START_TEST(list_items_must_be_constants)
{
	TYPE_ERR("x in [1, y]",
	    "rules.yaml:1:10: error: the items of a list "
	    "must be constants\n");
	TYPE_ERR("x in [count(small), 2]",
	    "rules.yaml:1:7: error: the items of a list must be constants\n");
	TYPE_ERR("x in [matches(\"a\", \"a\")]",
	    "rules.yaml:1:7: error: the items of a list must be constants\n");
	TYPE_ERR("\"a\" in [1, 2]",
	    "rules.yaml:1:5: error: cannot compare string with int\n");
	TYPE_ERR("len(x) not in [\"a\", true]",
	    "rules.yaml:1:8: error: cannot compare int with bool or string\n");
	TYPE_ERR("x in [1, 2 + \"a\"]",
	    "rules.yaml:1:12: error: cannot add int and string\n");
	COMPILES("x in [1, \"a\", true, null, 2.5]");
	COMPILES("x in [1 + 1, -2, 2 * 3 - 1, lower(\"A\"), len(\"ab\")]");
	COMPILES("1 in [1.5, \"a\"]");
}
END_TEST

START_TEST(a_condition_must_be_a_bool)
{
	nfa_scope sc = tx_scope_at(3, 7);

	TX_ERRORS("1 + 2", &sc, CEP_ETYPE,
	    "rules.yaml:3:7: error: a condition must be a bool, got number\n");
	TX_ERRORS("  \"abc\"", &sc, CEP_ETYPE,
	    "rules.yaml:3:9: error: a condition must be a bool, got string\n");
	TX_ERRORS("count(small)", &sc, CEP_ETYPE,
	    "rules.yaml:3:7: error: a condition must be a bool, got int\n");
	TX_ERRORS("(lower(x))", &sc, CEP_ETYPE,
	    "rules.yaml:3:7: error: a condition must be a bool, got string\n");
	TX_ERRORS("x", &sc, CEP_OK, "");
	TX_ERRORS("first(small.ok)", &sc, CEP_OK, "");
	TX_ERRORS("contains(x, \"a\")", &sc, CEP_OK, "");
	/* emit: any value. */
	sc.current = NULL;
	TX_ERRORS("1 + 2", &sc, CEP_OK, "");
	TX_ERRORS("lower(x) + \"!\"", &sc, CEP_OK, "");
}
END_TEST

START_TEST(every_type_error_is_reported_with_its_position)
{
	TYPE_ERR("\"a\" + 1 == 2 and len(5) > 0 and not 3",
	    "rules.yaml:1:5: error: cannot add string and int\n"
	    "rules.yaml:1:22: error: len() needs a string, array or map, got "
	    "int\n"
	    "rules.yaml:1:37: error: 'not' needs a bool, got int\n");
	TYPE_ERR("x.y.z == count(smal) + sum(bigg.f) or foo(1)",
	    "rules.yaml:1:16: error: unknown step 'smal' in count(); did you "
	    "mean 'small'?\n"
	    "rules.yaml:1:28: error: unknown step 'bigg' in sum(); did you "
	    "mean 'big'?\n"
	    "rules.yaml:1:39: error: unknown function 'foo'\n");
	/* One mistake, one message: the bad node becomes "any type". */
	TYPE_ERR("(\"a\" + 1) * 2 - 3 > x",
	    "rules.yaml:1:6: error: cannot add string and int\n");
	TYPE_ERR("lenn(x) == \"a\" and lenn(x) > 1",
	    "rules.yaml:1:1: error: unknown function 'lenn'; did you mean "
	    "'len'?\n"
	    "rules.yaml:1:20: error: unknown function 'lenn'; did you mean "
	    "'len'?\n");
}
END_TEST

START_TEST(type_errors_in_a_multi_line_expression)
{
	nfa_scope sc = tx_scope_at(20, 13);

	TX_ERRORS("x == 1 and\n  \"a\" + 1 > 0", &sc, CEP_ETYPE,
	    "rules.yaml:21:7: error: cannot add string and int\n");
	TX_ERRORS("lenn(x) > 0\n    or\n\tnot 5\nor count(later) > 0", &sc,
	    CEP_ETYPE,
	    "rules.yaml:20:13: error: unknown function 'lenn'; did you mean "
	    "'len'?\n"
	    "rules.yaml:22:6: error: 'not' needs a bool, got int\n"
	    "rules.yaml:23:10: error: step 'later' has no events yet where "
	    "this expression is evaluated (in step 'loop')\n");
	TX_ERRORS("\"\xc3\xa9t\xc3\xa9\" + 1 == x", &sc, CEP_ETYPE,
	    "rules.yaml:20:19: error: cannot add string and int\n");
}
END_TEST

START_TEST(diagnostics_may_be_discarded)
{
	nfa_scope sc = tx_scope();
	nfa_expr *e  = NULL;

	CEP_ASSERT_ERR(
	    nfa_expr_compile("1 + \"a\" > 0", 11, &sc, &e, NULL), CEP_ETYPE);
	ck_assert_ptr_null(e);
	CEP_ASSERT_ERR(nfa_expr_compile("1 +", 3, &sc, &e, NULL), CEP_EPARSE);
	ck_assert_ptr_null(e);
	/* Only the first len bytes count. */
	CEP_ASSERT_OK(nfa_expr_compile("x > 1 garbage", 5, &sc, &e, NULL));
	ck_assert_str_eq(nfa_expr_text(e), "x > 1");
	nfa_expr_destroy(e);
}
END_TEST

static Suite *
expr_check_suite(void)
{
	Suite *s = suite_create("expr_check");
	TCase *t = tcase_create("expr_check");

	tcase_add_test(t, literal_operands_of_the_wrong_type_are_load_errors);
	tcase_add_test(
	    t, an_operand_that_cannot_work_is_an_error_even_beside_a_field);
	tcase_add_test(t, function_results_have_known_types);
	tcase_add_test(t, function_arguments_are_checked);
	tcase_add_test(t, function_arity_is_checked);
	tcase_add_test(t, unknown_functions_suggest_a_near_name);
	tcase_add_test(t, regexes_are_compiled_at_load);
	tcase_add_test(t, aggregate_steps_are_resolved);
	tcase_add_test(t, visibility_follows_the_scope);
	tcase_add_test(t, aggregate_results_have_known_types);
	tcase_add_test(t, list_items_must_be_constants);
	tcase_add_test(t, a_condition_must_be_a_bool);
	tcase_add_test(t, every_type_error_is_reported_with_its_position);
	tcase_add_test(t, type_errors_in_a_multi_line_expression);
	tcase_add_test(t, diagnostics_may_be_discarded);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(expr_check_suite)
