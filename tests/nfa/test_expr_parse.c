/* SPDX-License-Identifier: MIT */
/* test_expr_parse.c: the lexer and parser, seen through results and
 * through the positions of syntax errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/expr_support.h"

#define SYNTAX(text, want) TX_ERRORS(text, NULL, CEP_EPARSE, want)

START_TEST(multiplication_binds_tighter_than_addition)
{
	TX_INT("1 + 2 * 3", NULL, NULL, 7);
	TX_INT("2 * 3 + 1", NULL, NULL, 7);
	TX_INT("(1 + 2) * 3", NULL, NULL, 9);
	TX_INT("10 - 6 / 2", NULL, NULL, 7);
	TX_INT("1 + 7 % 4", NULL, NULL, 4);
	TX_INT("a + b * c", "{\"a\":1,\"b\":2,\"c\":3}", NULL, 7);
	TX_INT("a * b - c", "{\"a\":1,\"b\":2,\"c\":3}", NULL, -1);
}
END_TEST

START_TEST(arithmetic_operators_associate_left)
{
	TX_INT("10 - 4 - 3", NULL, NULL, 3);
	TX_INT("100 / 10 / 5", NULL, NULL, 2);
	TX_INT("7 % 4 * 2", NULL, NULL, 6);
	TX_INT("2 * 7 % 4", NULL, NULL, 2);
	TX_INT("20 / 2 * 5", NULL, NULL, 50);
	TX_INT("1 - 2 + 3", NULL, NULL, 2);
	TX_INT("a - b - c", "{\"a\":10,\"b\":4,\"c\":3}", NULL, 3);
	TX_INT("a / b / c", "{\"a\":100,\"b\":10,\"c\":5}", NULL, 2);
	TX_STR("\"a\" + \"b\" + \"c\"", NULL, NULL, "abc");
}
END_TEST

START_TEST(unary_minus_binds_tightest)
{
	TX_INT("-2 * 3", NULL, NULL, -6);
	TX_INT("-2 - 3", NULL, NULL, -5);
	TX_INT("- 2 - -3", NULL, NULL, 1);
	TX_INT("-(2 - 3)", NULL, NULL, 1);
	TX_INT("--3", NULL, NULL, 3);
	TX_INT("2 * -3", NULL, NULL, -6);
	TX_INT("-a % 4", "{\"a\":7}", NULL, -3);
	TX_INT("-9223372036854775808", NULL, NULL, INT64_MIN);
	TX_INT("-9223372036854775808 + 1", NULL, NULL, INT64_MIN + 1);
	TX_TRUE("-1 < 0", NULL, NULL);
}
END_TEST

START_TEST(comparisons_bind_looser_than_arithmetic)
{
	TX_TRUE("1 + 1 == 2", NULL, NULL);
	TX_TRUE("2 == 1 + 1", NULL, NULL);
	TX_TRUE("2 * 3 > 5", NULL, NULL);
	TX_TRUE("1 + 2 in [3]", NULL, NULL);
	TX_TRUE("a - 1 not in [1, 2]", "{\"a\":1}", NULL);
	TX_TRUE("(1 < 2) == true", NULL, NULL);
	TX_TRUE("true == (1 < 2)", NULL, NULL);
	TX_TRUE("(a in [1]) != (a not in [1])", "{\"a\":1}", NULL);
}
END_TEST

START_TEST(not_binds_between_comparisons_and_and)
{
	/* not (1 == 2), not (not 1) == 2 (a type error at load). */
	TX_TRUE("not 1 == 2", NULL, NULL);
	/* (not false) and false, not not (false and false). */
	TX_FALSE("not false and false", NULL, NULL);
	TX_TRUE("not (false and false)", NULL, NULL);
	TX_TRUE("not false or false", NULL, NULL);
	TX_FALSE("not 3 in [3]", NULL, NULL);
	TX_TRUE("not not true", NULL, NULL);
	TX_FALSE("not not not true", NULL, NULL);
	TX_TRUE("not a > 5", "{\"a\":1}", NULL);
}
END_TEST

START_TEST(and_binds_tighter_than_or)
{
	TX_TRUE("true or true and false", NULL, NULL);
	TX_TRUE("false and true or true", NULL, NULL);
	TX_FALSE("(true or true) and false", NULL, NULL);
	TX_TRUE("a or b and c", "{\"a\":true,\"b\":false,\"c\":false}", NULL);
	TX_TRUE("c and b or a", "{\"a\":true,\"b\":false,\"c\":false}", NULL);
	TX_FALSE(
	    "(a or b) and c", "{\"a\":true,\"b\":false,\"c\":false}", NULL);
	TX_TRUE("a == 1 and b == 2 or c == 3", "{\"c\":3}", NULL);
	TX_FALSE("a == 1 and (b == 2 or c == 3)", "{\"c\":3}", NULL);
}
END_TEST

START_TEST(comparisons_do_not_chain)
{
	SYNTAX("1 < 2 < 3",
	    "rules.yaml:1:7: error: comparisons do not chain: "
	    "'<' after '<'; combine them with 'and' or use "
	    "parentheses\n");
	SYNTAX("a == b != c",
	    "rules.yaml:1:8: error: comparisons do not "
	    "chain: '!=' after '=='; combine them with "
	    "'and' or use parentheses\n");
	SYNTAX("a in [1] == true",
	    "rules.yaml:1:10: error: comparisons do not chain: '==' after "
	    "'in'; combine them with 'and' or use parentheses\n");
	SYNTAX("a < b not in [1]",
	    "rules.yaml:1:7: error: comparisons do not chain: 'not in' after "
	    "'<'; combine them with 'and' or use parentheses\n");
	SYNTAX("a not in [1] in [true]",
	    "rules.yaml:1:14: error: comparisons do not chain: 'in' after "
	    "'not in'; combine them with 'and' or use parentheses\n");
}
END_TEST

START_TEST(integer_literals)
{
	TX_INT("0", NULL, NULL, 0);
	TX_INT("42", NULL, NULL, 42);
	TX_INT("007", NULL, NULL, 7);
	TX_INT("9223372036854775807", NULL, NULL, INT64_MAX);
	SYNTAX("9223372036854775808",
	    "rules.yaml:1:1: error: integer literal 9223372036854775808 is "
	    "too big (the largest is 9223372036854775807)\n");
	SYNTAX("x == 1 + 99999999999999999999999",
	    "rules.yaml:1:10: error: integer literal 99999999999999999999999 "
	    "is too big (the largest is 9223372036854775807)\n");
	SYNTAX("12abc", "rules.yaml:1:1: error: malformed number '12abc'\n");
	SYNTAX("1.2.3", "rules.yaml:1:1: error: malformed number '1.2.3'\n");
}
END_TEST

START_TEST(decimal_literals)
{
	TX_DOUBLE("1.5", NULL, NULL, 1.5);
	TX_DOUBLE("0.25", NULL, NULL, 0.25);
	TX_DOUBLE("2e3", NULL, NULL, 2000.0);
	TX_DOUBLE("2E3", NULL, NULL, 2000.0);
	TX_DOUBLE("1.5e-3", NULL, NULL, 0.0015);
	TX_DOUBLE("2e+2", NULL, NULL, 200.0);
	TX_DOUBLE("10.0", NULL, NULL, 10.0);
	TX_DOUBLE("-0.5", NULL, NULL, -0.5);
	SYNTAX("1.", "rules.yaml:1:2: error: expected a digit after '.'\n");
	SYNTAX("1.e5", "rules.yaml:1:2: error: expected a digit after '.'\n");
	SYNTAX("1e",
	    "rules.yaml:1:2: error: expected digits after the "
	    "exponent 'e'\n");
	SYNTAX("2e+",
	    "rules.yaml:1:2: error: expected digits after the "
	    "exponent 'e'\n");
	SYNTAX("1e400",
	    "rules.yaml:1:1: error: decimal literal 1e400 is out "
	    "of range\n");
	SYNTAX(".5",
	    "rules.yaml:1:1: error: expected an expression, got "
	    "'.'\n");
}
END_TEST

START_TEST(string_literals_and_every_escape)
{
	TX_STR("\"abc\"", NULL, NULL, "abc");
	TX_STR("'abc'", NULL, NULL, "abc");
	TX_STR("\"\"", NULL, NULL, "");
	TX_STR("''", NULL, NULL, "");
	TX_STR("\"it's\"", NULL, NULL, "it's");
	TX_STR("'say \"hi\"'", NULL, NULL, "say \"hi\"");
	TX_STR("\"a\\\\b\"", NULL, NULL, "a\\b");
	TX_STR("\"a\\\"b\"", NULL, NULL, "a\"b");
	TX_STR("'a\\'b'", NULL, NULL, "a'b");
	TX_STR("\"a\\nb\"", NULL, NULL, "a\nb");
	TX_STR("\"a\\tb\"", NULL, NULL, "a\tb");
	TX_STR("\"\\u0041\"", NULL, NULL, "A");
	TX_STR("\"\\u00e9\"", NULL, NULL, "\xc3\xa9");
	TX_STR("\"\\u20AC\"", NULL, NULL, "\xe2\x82\xac");
	TX_STR("\"\\ud83d\\ude00\"", NULL, NULL, "\xf0\x9f\x98\x80");
	TX_STR("\"raw\nnewline\"", NULL, NULL, "raw\nnewline");
	TX_STR("\"h\xc3\xa9\"", NULL, NULL, "h\xc3\xa9");
	{
		cep_val v;
		TX_EVAL("\"a\\u0000b\"", NULL, NULL, &v);
		ck_assert_uint_eq(v.len, 3);
		ck_assert(memcmp(v.u.s, "a\0b", 4) == 0);
	}
}
END_TEST

START_TEST(bad_strings_are_located)
{
	SYNTAX("x == \"abc", "rules.yaml:1:6: error: unterminated string\n");
	SYNTAX("x == 'abc\"", "rules.yaml:1:6: error: unterminated string\n");
	SYNTAX("\"abc\\\"", "rules.yaml:1:1: error: unterminated string\n");
	SYNTAX("x == \"a\\qb\"",
	    "rules.yaml:1:8: error: unknown escape '\\q' in string (use "
	    "\\\\, \\\", \\', \\n, \\t or \\uXXXX)\n");
	SYNTAX("\"\\u12\"",
	    "rules.yaml:1:2: error: \\u needs four hex "
	    "digits\n");
	SYNTAX("\"\\uzzzz\"",
	    "rules.yaml:1:2: error: \\u needs four hex "
	    "digits\n");
	SYNTAX("\"ab\\ud800\"",
	    "rules.yaml:1:4: error: unpaired surrogate "
	    "\\uD800 in string\n");
	SYNTAX("\"\\ud800\\u0041\"",
	    "rules.yaml:1:2: error: unpaired "
	    "surrogate \\uD800 in string\n");
	SYNTAX("\"\\udc00\"",
	    "rules.yaml:1:2: error: unpaired surrogate "
	    "\\uDC00 in string\n");
}
END_TEST

START_TEST(keyword_literals)
{
	TX_TRUE("true", NULL, NULL);
	TX_FALSE("false", NULL, NULL);
	TX_NULL("null", NULL, NULL);
	/* Keywords are whole words: `nullable` is a field. */
	TX_INT("nullable", "{\"nullable\":1}", NULL, 1);
	TX_INT("true_", "{\"true_\":2}", NULL, 2);
	TX_INT("android", "{\"android\":3}", NULL, 3);
	TX_INT("order", "{\"order\":4}", NULL, 4);
	TX_INT("inx", "{\"inx\":5}", NULL, 5);
}
END_TEST

START_TEST(names_paths_and_backticks)
{
	TX_INT("a_b9", "{\"a_b9\":1}", NULL, 1);
	TX_INT("_x", "{\"_x\":1}", NULL, 1);
	TX_INT("A", "{\"A\":1,\"a\":2}", NULL, 1);
	TX_INT("a.b.c", "{\"a\":{\"b\":{\"c\":3}}}", NULL, 3);
	TX_INT("a . b", "{\"a\":{\"b\":3}}", NULL, 3);
	TX_INT("`src-ip`", "{\"src-ip\":1}", NULL, 1);
	TX_INT("`@timestamp`", "{\"@timestamp\":1}", NULL, 1);
	TX_INT("`two words`", "{\"two words\":1}", NULL, 1);
	TX_INT("`h\xc3\xa9`", "{\"h\xc3\xa9\":1}", NULL, 1);
	TX_INT("`null`", "{\"null\":1}", NULL, 1);
	TX_INT("`in` + `or`", "{\"in\":1,\"or\":2}", NULL, 3);
	TX_INT("`a.b`", "{\"a.b\":1,\"a\":{\"b\":2}}", NULL, 1);
	TX_INT("a.`b-c`.d", "{\"a\":{\"b-c\":{\"d\":4}}}", NULL, 4);
	TX_INT("`a`.b", "{\"a\":{\"b\":4}}", NULL, 4);
	/* After a dot keywords are names. */
	TX_INT("a.in.not", "{\"a\":{\"in\":{\"not\":5}}}", NULL, 5);
	TX_INT("a.true", "{\"a\":{\"true\":5}}", NULL, 5);
	SYNTAX("x.",
	    "rules.yaml:1:3: error: expected a field name after '.', "
	    "got the end of the expression\n");
	SYNTAX("x.1",
	    "rules.yaml:1:3: error: expected a field name after "
	    "'.', got '1'\n");
	SYNTAX("x.(y)",
	    "rules.yaml:1:3: error: expected a field name after "
	    "'.', got '('\n");
	SYNTAX("`abc", "rules.yaml:1:1: error: unterminated `name`\n");
	SYNTAX("a.``", "rules.yaml:1:3: error: empty field name\n");
}
END_TEST

START_TEST(long_names_are_refused)
{
	char text[600];

	text[0] = '`';
	memset(text + 1, 'n', 257);
	snprintf(text + 258, sizeof(text) - 258, "` == 1");
	SYNTAX(text,
	    "rules.yaml:1:1: error: field name longer than 256 "
	    "bytes\n");
	text[257] = '`';
	snprintf(text + 258, sizeof(text) - 258, " == 1");
	TX_FALSE(text, NULL, NULL);
}
END_TEST

START_TEST(function_calls)
{
	TX_INT("len(\"abc\")", NULL, NULL, 3);
	TX_INT("len (\"abc\")", NULL, NULL, 3);
	TX_INT("len( \"abc\" )", NULL, NULL, 3);
	TX_INT("abs(len(lower(\"ABC\")) - 10)", NULL, NULL, 7);
	TX_TRUE("contains(\"abc\", \"b\")", NULL, NULL);
	TX_TRUE("contains(a, b)", "{\"a\":\"xyz\",\"b\":\"y\"}", NULL);
	/* A name not followed by '(' is a field, even a function's. */
	TX_INT("len + abs", "{\"len\":1,\"abs\":2}", NULL, 3);
	TX_INT("count + sum", "{\"count\":1,\"sum\":2}", NULL, 3);
	SYNTAX("len(\"abc\"",
	    "rules.yaml:1:10: error: expected ')' to close "
	    "'len(' at column 1, got the end of the "
	    "expression\n");
	SYNTAX("contains(a b)",
	    "rules.yaml:1:12: error: expected ')' to "
	    "close 'contains(' at column 1, got 'b'\n");
	SYNTAX("f(1,",
	    "rules.yaml:1:5: error: expected an expression, got "
	    "the end of the expression\n");
	SYNTAX("f(,)",
	    "rules.yaml:1:3: error: expected an expression, got "
	    "','\n");
	SYNTAX("`len`(1)",
	    "rules.yaml:1:6: error: expected an operator or "
	    "the end of the expression, got '('\n");
}
END_TEST

START_TEST(aggregates_read_hyphenated_step_names)
{
	tx_steps st = { 0 };

	tx_steps_add(&st, TX_MIDDLE, "{\"p\":{\"q\":2}}");
	tx_steps_add(&st, TX_SMALL, "{\"x-y\":5}");
	TX_INT("count(middle-first)", NULL, &st, 1);
	TX_INT("count( middle-first )", NULL, &st, 1);
	TX_INT("count(\n\tmiddle-first)", NULL, &st, 1);
	TX_INT("count(`middle-first`)", NULL, &st, 1);
	TX_INT("sum(middle-first.p.q)", NULL, &st, 2);
	TX_INT("sum(middle-first . p . q)", NULL, &st, 2);
	TX_INT("last(small.`x-y`)", NULL, &st, 5);
	/* Outside aggregates a hyphen is a minus. */
	TX_INT("middle-first", "{\"middle\":5,\"first\":2}", NULL, 3);
	SYNTAX("count()",
	    "rules.yaml:1:7: error: expected a step name after "
	    "'count(', got ')'\n");
	SYNTAX("count(1)",
	    "rules.yaml:1:7: error: expected a step name after "
	    "'count(', got '1'\n");
	SYNTAX("sum(small.)",
	    "rules.yaml:1:11: error: expected a field name "
	    "after '.', got ')'\n");
	SYNTAX("count(small",
	    "rules.yaml:1:12: error: expected ')' to close "
	    "'count(' at column 1, got the end of the "
	    "expression\n");
	SYNTAX("sum(small.a, 2)",
	    "rules.yaml:1:12: error: expected ')' to "
	    "close 'sum(' at column 1, got ','\n");
	SYNTAX("max(small.a + 1)",
	    "rules.yaml:1:13: error: expected ')' to "
	    "close 'max(' at column 1, got '+'\n");
	SYNTAX("count(`small)",
	    "rules.yaml:1:7: error: unterminated "
	    "`name`\n");
	tx_steps_clear(&st);
}
END_TEST

START_TEST(in_lists)
{
	TX_TRUE("2 in [1, 2, \"a\"]", NULL, NULL);
	TX_TRUE("x in [ 'a' ]", "{\"x\":\"a\"}", NULL);
	TX_TRUE("x in [1 + 1, -3, 2 * 4]", "{\"x\":8}", NULL);
	TX_TRUE("x not in [1, 2]", "{\"x\":8}", NULL);
	TX_TRUE("x not  in [1]", "{\"x\":8}", NULL);
	SYNTAX("x in []", "rules.yaml:1:6: error: empty list after 'in'\n");
	SYNTAX("x in 5",
	    "rules.yaml:1:6: error: expected a list after 'in' "
	    "([a, b, ...]), got '5'\n");
	SYNTAX("x in [1, 2",
	    "rules.yaml:1:11: error: expected ']' to close "
	    "'[' at column 6, got the end of the "
	    "expression\n");
	SYNTAX("x in [1,]",
	    "rules.yaml:1:9: error: expected an expression, "
	    "got ']'\n");
	SYNTAX("[1, 2]",
	    "rules.yaml:1:1: error: a list [...] may only follow "
	    "'in'\n");
	SYNTAX("x not 5",
	    "rules.yaml:1:3: error: expected an operator or the "
	    "end of the expression, got 'not'\n");
	SYNTAX("x in [1] not",
	    "rules.yaml:1:10: error: expected an operator "
	    "or the end of the expression, got 'not'\n");
}
END_TEST

START_TEST(syntax_errors_point_at_the_offending_token)
{
	SYNTAX("", "rules.yaml:1:1: error: empty expression\n");
	SYNTAX("  \n ", "rules.yaml:1:1: error: empty expression\n");
	SYNTAX("1 +",
	    "rules.yaml:1:4: error: expected an expression, got "
	    "the end of the expression\n");
	SYNTAX("(1 + 2",
	    "rules.yaml:1:7: error: expected ')' to close '(' at "
	    "column 1, got the end of the expression\n");
	SYNTAX("((a)",
	    "rules.yaml:1:5: error: expected ')' to close '(' at "
	    "column 1, got the end of the expression\n");
	SYNTAX("a)", "rules.yaml:1:2: error: unmatched ')'\n");
	SYNTAX(")",
	    "rules.yaml:1:1: error: expected an expression, got "
	    "')'\n");
	SYNTAX("a b",
	    "rules.yaml:1:3: error: expected an operator or the end "
	    "of the expression, got 'b'\n");
	SYNTAX("a \"s\"",
	    "rules.yaml:1:3: error: expected an operator or the "
	    "end of the expression, got a string\n");
	SYNTAX("a == = b",
	    "rules.yaml:1:6: error: unexpected '='; use '==' "
	    "to compare\n");
	SYNTAX("a = 1",
	    "rules.yaml:1:3: error: unexpected '='; use '==' to "
	    "compare\n");
	SYNTAX("!a",
	    "rules.yaml:1:1: error: unexpected '!'; use 'not' or "
	    "'!='\n");
	SYNTAX("a && b", "rules.yaml:1:3: error: unexpected '&'; use 'and'\n");
	SYNTAX("a || b", "rules.yaml:1:3: error: unexpected '|'; use 'or'\n");
	SYNTAX("a $ b", "rules.yaml:1:3: error: unexpected character '$'\n");
	SYNTAX("a == 1 # note",
	    "rules.yaml:1:8: error: unexpected character "
	    "'#'\n");
	SYNTAX("x == \x01", "rules.yaml:1:6: error: unexpected byte 0x01\n");
	SYNTAX("caf\xc3\xa9 == 1",
	    "rules.yaml:1:4: error: unexpected character '\xc3\xa9' (write "
	    "field names with other characters in backticks: `name`)\n");
	SYNTAX("not",
	    "rules.yaml:1:4: error: expected an expression, got the "
	    "end of the expression\n");
	SYNTAX("a and or b",
	    "rules.yaml:1:7: error: expected an expression, "
	    "got 'or'\n");
	SYNTAX("x == in",
	    "rules.yaml:1:6: error: expected an expression, got "
	    "'in'\n");
	SYNTAX("* 2",
	    "rules.yaml:1:1: error: expected an expression, got "
	    "'*'\n");
}
END_TEST

START_TEST(positions_follow_lines_and_the_scope_location)
{
	nfa_scope sc = tx_scope_at(12, 9);

	/* On the first line, offsets add to the scope's column. */
	TX_ERRORS("a b", &sc, CEP_EPARSE,
	    "rules.yaml:12:11: error: expected an operator or the end of the "
	    "expression, got 'b'\n");
	/* A newline moves to the next line, column 1. */
	TX_ERRORS("x == 1 and\n  (y +", &sc, CEP_EPARSE,
	    "rules.yaml:13:7: error: expected an expression, got the end of "
	    "the expression\n");
	TX_ERRORS("(\n (1 +\n 2) * 3", &sc, CEP_EPARSE,
	    "rules.yaml:14:8: error: expected ')' to close '(' at line 12, "
	    "column 9, got the end of the expression\n");
	TX_ERRORS("x\r\n  $", &sc, CEP_EPARSE,
	    "rules.yaml:13:3: error: unexpected character '$'\n");
	/* Columns count characters, not bytes. */
	TX_ERRORS("\"\xc3\xa9\xc3\xa9\" == x $", &sc, CEP_EPARSE,
	    "rules.yaml:12:19: error: unexpected character '$'\n");
	TX_ERRORS("x == \"\xe2\x82\xac\" or\n\"\xe2\x82\xac\" == )", &sc,
	    CEP_EPARSE,
	    "rules.yaml:13:8: error: expected an expression, got "
	    "')'\n");
}
END_TEST

/* deep builds prefix * n + middle + suffix * n. */
static char *
deep(const char *prefix, const char *middle, const char *suffix, size_t n)
{
	size_t lp = strlen(prefix), lm = strlen(middle), ls = strlen(suffix);
	char  *s = malloc(n * (lp + ls) + lm + 1), *p = s;

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++, p += lp) {
		memcpy(p, prefix, lp);
	}
	memcpy(p, middle, lm);
	p += lm;
	for (size_t i = 0; i < n; i++, p += ls) {
		memcpy(p, suffix, ls);
	}
	*p = '\0';
	return (s);
}

START_TEST(deep_nesting_is_a_clean_error)
{
	struct {
		const char *prefix, *middle, *suffix;
		size_t      n;
	} cases[] = {
		{ "(", "1", ")", 100000 },
		{ "(", "1", "", 100000 },
		{ "-", "1", "", 100000 },
		{ "not ", "true", "", 100000 },
		{ "abs(", "1", ")", 100000 },
		{ "", "1", " + 1", 100000 },
		{ "", "true", " or true", 100000 },
		{ "x in [", "1", "]", 100000 },
		{ "(", "1", ")", 257 },
		{ "1 + (", "1", ")", 300 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char       *t = deep(cases[i].prefix, cases[i].middle,
		          cases[i].suffix, cases[i].n);
		const char *d;
		cep_err     rv = tx_errors(t, NULL, &d);
		ck_assert_msg(
		    rv == CEP_EPARSE, "case %zu: %s", i, cep_errname(rv));
		ck_assert_msg(strstr(d,
		                  "error: expression nests too deeply "
		                  "(more than 256 levels)\n") != NULL,
		    "case %zu: %s", i, d);
		ck_assert_uint_eq(strchr(d, '\n') - d + 1, strlen(d));
		free(t);
	}
}
END_TEST

START_TEST(nesting_within_the_limit_works)
{
	char *t = deep("(", "1", ")", 200);

	TX_INT(t, NULL, NULL, 1);
	free(t);
	t = deep("", "1", " + 1", 200);
	TX_INT(t, NULL, NULL, 201);
	free(t);
	t = deep("-", "1", "", 200);
	TX_INT(t, NULL, NULL, 1);
	free(t);
	t = deep("1 + (", "x", ")", 200);
	TX_INT(t, "{\"x\":1}", NULL, 201);
	free(t);
	t = deep("abs(", "-1", ")", 200);
	TX_INT(t, NULL, NULL, 1);
	free(t);
}
END_TEST

START_TEST(long_flat_lists_are_fine)
{
	size_t n   = 20000;
	char  *t   = malloc(n * 8 + 32);
	size_t len = 0;

	ck_assert_ptr_nonnull(t);
	len += (size_t) sprintf(t, "x in [");
	for (size_t i = 0; i < n; i++) {
		len += (size_t) sprintf(t + len, "%s%zu", i ? "," : "", i);
	}
	sprintf(t + len, "]");
	TX_TRUE(t, "{\"x\":19999}", NULL);
	TX_FALSE(t, "{\"x\":20000}", NULL);
	free(t);
}
END_TEST

static Suite *
expr_parse_suite(void)
{
	Suite *s = suite_create("expr_parse");
	TCase *t = tcase_create("expr_parse");

	tcase_add_test(t, multiplication_binds_tighter_than_addition);
	tcase_add_test(t, arithmetic_operators_associate_left);
	tcase_add_test(t, unary_minus_binds_tightest);
	tcase_add_test(t, comparisons_bind_looser_than_arithmetic);
	tcase_add_test(t, not_binds_between_comparisons_and_and);
	tcase_add_test(t, and_binds_tighter_than_or);
	tcase_add_test(t, comparisons_do_not_chain);
	tcase_add_test(t, integer_literals);
	tcase_add_test(t, decimal_literals);
	tcase_add_test(t, string_literals_and_every_escape);
	tcase_add_test(t, bad_strings_are_located);
	tcase_add_test(t, keyword_literals);
	tcase_add_test(t, names_paths_and_backticks);
	tcase_add_test(t, long_names_are_refused);
	tcase_add_test(t, function_calls);
	tcase_add_test(t, aggregates_read_hyphenated_step_names);
	tcase_add_test(t, in_lists);
	tcase_add_test(t, syntax_errors_point_at_the_offending_token);
	tcase_add_test(t, positions_follow_lines_and_the_scope_location);
	tcase_add_test(t, deep_nesting_is_a_clean_error);
	tcase_add_test(t, nesting_within_the_limit_works);
	tcase_add_test(t, long_flat_lists_are_fine);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(expr_parse_suite)
