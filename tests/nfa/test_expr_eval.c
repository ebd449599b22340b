/* SPDX-License-Identifier: MIT */
/* test_expr_eval.c: the stack machine, the operations and the scratch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/expr_support.h"

/* Most values come from fields so that the run-time operations are
 * tested, not only the constant folder. */
#define EV                                                                   \
	"{\"i\":7,\"j\":2,\"neg\":-7,\"zero\":0,\"d\":2.5,\"dz\":0.0,"       \
	"\"s\":\"Hello\",\"t\":\"world\",\"e\":\"\",\"u\":\"h\xc3\xa9llo\"," \
	"\"yes\":true,\"no\":false,\"n\":null,"                              \
	"\"max\":9223372036854775807,\"min\":-9223372036854775808,"          \
	"\"m\":{\"k\":1,\"deep\":{\"x\":\"y\"}},\"arr\":[1,2,3]}"

START_TEST(comparisons_with_null_are_false)
{
	const char *ops[] = { "==", "!=", "<", "<=", ">", ">=" };
	char        text[64];

	for (size_t k = 0; k < 6; k++) {
		snprintf(text, sizeof(text), "n %s 1", ops[k]);
		TX_FALSE(text, EV, NULL);
		snprintf(text, sizeof(text), "1 %s missing", ops[k]);
		TX_FALSE(text, EV, NULL);
		snprintf(text, sizeof(text), "n %s missing", ops[k]);
		TX_FALSE(text, EV, NULL);
		snprintf(text, sizeof(text), "s %s n", ops[k]);
		TX_FALSE(text, EV, NULL);
	}
	/* Not even not-equal: null is unknown, not different. */
	TX_FALSE("missing != \"x\"", EV, NULL);
	TX_FALSE("i > n or i < n", EV, NULL);
}
END_TEST

START_TEST(equality_with_literal_null_tests_for_null)
{
	TX_TRUE("n == null", EV, NULL);
	TX_TRUE("missing == null", EV, NULL);
	TX_TRUE("null == missing", EV, NULL);
	TX_FALSE("i == null", EV, NULL);
	TX_FALSE("n != null", EV, NULL);
	TX_TRUE("i != null", EV, NULL);
	TX_TRUE("null != s", EV, NULL);
	TX_TRUE("m.nope == null", EV, NULL);
	TX_TRUE("(i / zero) == null", EV, NULL);
	TX_TRUE("null == null", EV, NULL);
	TX_FALSE("null != null", EV, NULL);
	TX_TRUE("i == null or i > 0", EV, NULL);
}
END_TEST

START_TEST(null_is_false_for_and_or_not)
{
	TX_FALSE("n and true", EV, NULL);
	TX_FALSE("true and n", EV, NULL);
	TX_FALSE("n or missing", EV, NULL);
	TX_TRUE("n or true", EV, NULL);
	TX_TRUE("not n", EV, NULL);
	TX_TRUE("not missing", EV, NULL);
	TX_TRUE("not (n > 1)", EV, NULL);
	/* and/or always give a bool, never null. */
	TX_FALSE("yes and n", EV, NULL);
	TX_TRUE("yes and not no", EV, NULL);
	ck_assert_int_eq(tx_test("n", EV, NULL), 0);
	TX_NULL("n", EV, NULL);
}
END_TEST

START_TEST(arithmetic_with_null_gives_null)
{
	TX_NULL("n + 1", EV, NULL);
	TX_NULL("1 - n", EV, NULL);
	TX_NULL("i * missing", EV, NULL);
	TX_NULL("n / 2", EV, NULL);
	TX_NULL("n % 2", EV, NULL);
	TX_NULL("-n", EV, NULL);
	TX_NULL("s + n", EV, NULL);
	TX_NULL("null + 1", EV, NULL);
	TX_FALSE("n + 1 > 0", EV, NULL);
}
END_TEST

START_TEST(integer_arithmetic_stays_int)
{
	TX_INT("i + j", EV, NULL, 9);
	TX_INT("i - j", EV, NULL, 5);
	TX_INT("i * j", EV, NULL, 14);
	TX_INT("i / j", EV, NULL, 3);
	TX_INT("neg / j", EV, NULL, -3);
	TX_INT("i % j", EV, NULL, 1);
	TX_INT("neg % j", EV, NULL, -1);
	TX_INT("i % -3", EV, NULL, 1);
	TX_INT("-i", EV, NULL, -7);
	TX_INT("- -i", EV, NULL, 7);
	TX_INT("i + -j", EV, NULL, 5);
	TX_INT("7 / 2", NULL, NULL, 3);
	TX_INT("-7 / 2", NULL, NULL, -3);
}
END_TEST

START_TEST(integer_overflow_gives_a_double)
{
	TX_DOUBLE("max + 1", EV, NULL, 9223372036854775808.0);
	TX_DOUBLE("min - 1", EV, NULL, -9223372036854775808.0);
	TX_DOUBLE("max * 2", EV, NULL, 18446744073709551614.0);
	TX_DOUBLE("-min", EV, NULL, 9223372036854775808.0);
	TX_DOUBLE("min / -1", EV, NULL, 9223372036854775808.0);
	TX_INT("min % -1", EV, NULL, 0);
	TX_INT("max - 1 + 1", EV, NULL, INT64_MAX);
	/* The same through the constant folder. */
	TX_DOUBLE(
	    "9223372036854775807 + 1", NULL, NULL, 9223372036854775808.0);
	TX_DOUBLE(
	    "-9223372036854775808 - 1", NULL, NULL, -9223372036854775808.0);
	TX_DOUBLE(
	    "-(-9223372036854775808)", NULL, NULL, 9223372036854775808.0);
}
END_TEST

START_TEST(mixing_int_and_double_gives_a_double)
{
	TX_DOUBLE("i + d", EV, NULL, 9.5);
	TX_DOUBLE("d - i", EV, NULL, -4.5);
	TX_DOUBLE("j * d", EV, NULL, 5.0);
	TX_DOUBLE("i / 2.0", EV, NULL, 3.5);
	TX_DOUBLE("d % 1", EV, NULL, 0.5);
	TX_DOUBLE("7.5 % 2", NULL, NULL, 1.5);
	TX_DOUBLE("-7.5 % 2", NULL, NULL, -1.5);
	TX_DOUBLE("-d", EV, NULL, -2.5);
	TX_TRUE("j == 2.0", EV, NULL);
	TX_TRUE("d > j and d < 3", EV, NULL);
	TX_TRUE("min == -9223372036854775808.0", EV, NULL);
	TX_FALSE("max == 9223372036854775807.0", EV, NULL);
}
END_TEST

START_TEST(division_and_modulo_by_zero_give_null)
{
	TX_NULL("i / zero", EV, NULL);
	TX_NULL("i % zero", EV, NULL);
	TX_NULL("d / zero", EV, NULL);
	TX_NULL("i / dz", EV, NULL);
	TX_NULL("d % dz", EV, NULL);
	TX_NULL("1 / 0", NULL, NULL);
	TX_NULL("1.5 % 0", NULL, NULL);
	TX_FALSE("i / zero > 0", EV, NULL);
	TX_FALSE("i / zero == 0", EV, NULL);
}
END_TEST

START_TEST(plus_concatenates_strings)
{
	TX_STR("s + \" \" + t", EV, NULL, "Hello world");
	TX_STR("s + e", EV, NULL, "Hello");
	TX_STR("e + t", EV, NULL, "world");
	TX_STR("\"a\" + \"b\"", NULL, NULL, "ab");
	TX_TRUE("s + t == \"Helloworld\"", EV, NULL);
	TX_INT("len(u + u)", EV, NULL, 10);
}
END_TEST

START_TEST(equality_across_types_is_false)
{
	TX_FALSE("i == \"7\"", EV, NULL);
	TX_TRUE("i != \"7\"", EV, NULL);
	TX_FALSE("yes == 1", EV, NULL);
	TX_FALSE("m == arr", EV, NULL);
	TX_TRUE("m == m", EV, NULL);
	TX_TRUE("arr == arr", EV, NULL);
	TX_TRUE("yes == true", EV, NULL);
	TX_TRUE("no != true", EV, NULL);
	TX_TRUE("s == \"Hello\"", EV, NULL);
	TX_FALSE("s == \"hello\"", EV, NULL);
}
END_TEST

START_TEST(strings_order_bytewise)
{
	TX_TRUE("s < t", EV, NULL);
	TX_TRUE("\"abc\" < \"abd\"", NULL, NULL);
	TX_TRUE("\"ab\" < \"abc\"", NULL, NULL);
	TX_TRUE("\"B\" < \"a\"", NULL, NULL);
	TX_TRUE("t >= \"world\" and t <= \"world\"", EV, NULL);
	TX_FALSE("e > \"\"", EV, NULL);
}
END_TEST

START_TEST(run_time_type_errors_fail_the_condition)
{
	TX_ETYPE("s + 1", EV, NULL);
	TX_ETYPE("s - t", EV, NULL);
	TX_ETYPE("i + yes", EV, NULL);
	TX_ETYPE("-s", EV, NULL);
	TX_ETYPE("s < 5", EV, NULL);
	TX_ETYPE("yes < no", EV, NULL);
	TX_ETYPE("m > 1", EV, NULL);
	TX_ETYPE("i and yes", EV, NULL);
	TX_ETYPE("yes and i", EV, NULL);
	TX_ETYPE("no or s", EV, NULL);
	TX_ETYPE("not i", EV, NULL);
	TX_ETYPE("s + 1 == 2 or true", EV, NULL);
	/* A type error is not just false: `not` does not turn it true. */
	TX_ETYPE("not (s < 5)", EV, NULL);
}
END_TEST

START_TEST(and_or_short_circuit)
{
	/* The right side would be a type error if it ran. */
	TX_FALSE("no and s + 1 > 0", EV, NULL);
	TX_FALSE("i == 1 and s + 1 > 0", EV, NULL);
	TX_TRUE("yes or s + 1 > 0", EV, NULL);
	TX_TRUE("i == 7 or s < 1", EV, NULL);
	TX_ETYPE("yes and s + 1 > 0", EV, NULL);
	TX_ETYPE("no or s + 1 > 0", EV, NULL);
}
END_TEST

START_TEST(in_and_not_in_compare_with_every_item)
{
	TX_TRUE("i in [1, 7, \"a\"]", EV, NULL);
	TX_TRUE("s in [1, \"Hello\"]", EV, NULL);
	TX_FALSE("s in [\"hello\", \"x\"]", EV, NULL);
	TX_TRUE("j in [2.0]", EV, NULL);
	TX_TRUE("d in [1, 2.5]", EV, NULL);
	TX_FALSE("i in [\"7\"]", EV, NULL);
	TX_TRUE("i not in [1, 2, 3]", EV, NULL);
	TX_FALSE("i not in [7]", EV, NULL);
	TX_TRUE("i in [3 + 4, -1]", EV, NULL);
	TX_TRUE("yes in [true]", EV, NULL);
	/* With null, both are false, like every comparison. */
	TX_FALSE("n in [1, 2]", EV, NULL);
	TX_FALSE("n not in [1, 2]", EV, NULL);
	TX_FALSE("missing in [null]", EV, NULL);
	TX_FALSE("missing not in [1]", EV, NULL);
	TX_TRUE("3 in [1, 2, 3]", NULL, NULL);
	TX_TRUE("\"b\" not in [\"a\"]", NULL, NULL);
}
END_TEST

START_TEST(nested_paths_and_missing_fields)
{
	TX_INT("m.k", EV, NULL, 1);
	TX_STR("m.deep.x", EV, NULL, "y");
	TX_NULL("m.deep.x.y", EV, NULL);
	TX_NULL("m.nope.x", EV, NULL);
	TX_NULL("arr.x", EV, NULL);
	TX_NULL("s.x", EV, NULL);
	TX_NULL("missing", EV, NULL);
	TX_TYPE("m", EV, NULL, CEP_T_MAP);
	TX_TYPE("arr", EV, NULL, CEP_T_ARRAY);
	TX_STR("`src-ip`", "{\"src-ip\":\"1.2.3.4\"}", NULL, "1.2.3.4");
	TX_INT("`@timestamp`", "{\"@timestamp\":5}", NULL, 5);
	TX_INT("`and` + `not`", "{\"and\":1,\"not\":2}", NULL, 3);
	TX_INT("a.`b c`.in", "{\"a\":{\"b c\":{\"in\":4}}}", NULL, 4);
	TX_INT("a.b", "{\"a\":{\"b\":1,\"b\":2}}", NULL, 2);
}
END_TEST

START_TEST(no_event_makes_every_field_null)
{
	TX_NULL("x", NULL, NULL);
	TX_NULL("x.y", NULL, NULL);
	TX_FALSE("x == 1", NULL, NULL);
	TX_TRUE("x == null", NULL, NULL);
	TX_INT("count(small)", NULL, NULL, 0);
}
END_TEST

START_TEST(abs_of_numbers_null_and_strings)
{
	TX_INT("abs(neg)", EV, NULL, 7);
	TX_INT("abs(i)", EV, NULL, 7);
	TX_INT("abs(zero)", EV, NULL, 0);
	TX_DOUBLE("abs(-d)", EV, NULL, 2.5);
	TX_DOUBLE("abs(min)", EV, NULL, 9223372036854775808.0);
	TX_INT("abs(max)", EV, NULL, INT64_MAX);
	TX_DOUBLE(
	    "abs(-9223372036854775808)", NULL, NULL, 9223372036854775808.0);
	TX_NULL("abs(n)", EV, NULL);
	TX_NULL("abs(missing)", EV, NULL);
	TX_FALSE("abs(n) > 0", EV, NULL);
	TX_ETYPE("abs(s)", EV, NULL);
	TX_ETYPE("abs(yes)", EV, NULL);
}
END_TEST

START_TEST(len_counts_code_points_and_entries)
{
	TX_INT("len(s)", EV, NULL, 5);
	TX_INT("len(u)", EV, NULL, 5); /* 6 bytes */
	TX_INT("len(e)", EV, NULL, 0);
	TX_INT("len(arr)", EV, NULL, 3);
	TX_INT("len(m)", EV, NULL, 2);
	TX_INT("len(\"\\ud83d\\ude00!\")", NULL, NULL, 2);
	TX_NULL("len(n)", EV, NULL);
	TX_NULL("len(missing)", EV, NULL);
	TX_ETYPE("len(i)", EV, NULL);
	TX_ETYPE("len(yes)", EV, NULL);
}
END_TEST

START_TEST(lower_is_ascii_only)
{
	cep_val v;

	TX_STR("lower(s)", EV, NULL, "hello");
	TX_STR("lower(\"\\u00c9A\")", NULL, NULL,
	    "\xc3\x89"
	    "a");
	TX_STR("lower(t)", EV, NULL, "world");
	TX_STR("lower(e)", EV, NULL, "");
	TX_TRUE("lower(s) == \"hello\"", EV, NULL);
	TX_NULL("lower(n)", EV, NULL);
	TX_ETYPE("lower(i)", EV, NULL);
	TX_ETYPE("lower(m)", EV, NULL);
	/* Already lowercase: the event's own bytes, no copy. */
	TX_EVAL("lower(t)", EV, NULL, &v);
	ck_assert_str_eq(v.u.s, "world");
}
END_TEST

START_TEST(string_predicates)
{
	TX_TRUE("starts_with(s, \"He\")", EV, NULL);
	TX_FALSE("starts_with(s, \"he\")", EV, NULL);
	TX_TRUE("starts_with(s, \"\")", EV, NULL);
	TX_FALSE("starts_with(s, \"Hello!\")", EV, NULL);
	TX_TRUE("ends_with(s, \"llo\")", EV, NULL);
	TX_FALSE("ends_with(s, \"He\")", EV, NULL);
	TX_TRUE("ends_with(s, s)", EV, NULL);
	TX_TRUE("contains(s, \"ell\")", EV, NULL);
	TX_TRUE("contains(s, \"o\")", EV, NULL);
	TX_TRUE("contains(s, \"\")", EV, NULL);
	TX_FALSE("contains(s, \"elo\")", EV, NULL);
	TX_FALSE("contains(e, \"a\")", EV, NULL);
	TX_TRUE("contains(\"aab\", \"ab\")", NULL, NULL);
	TX_TRUE("contains(u, \"\\u00e9\")", EV, NULL);
	TX_NULL("contains(n, \"a\")", EV, NULL);
	TX_NULL("starts_with(s, n)", EV, NULL);
	TX_NULL("ends_with(missing, missing)", EV, NULL);
	TX_FALSE("not contains(n, \"a\") and false", EV, NULL);
	TX_ETYPE("contains(i, \"7\")", EV, NULL);
	TX_ETYPE("starts_with(s, i)", EV, NULL);
	TX_ETYPE("ends_with(arr, \"3\")", EV, NULL);
}
END_TEST

START_TEST(matches_searches_with_pcre2)
{
	TX_TRUE("matches(s, \"ll\")", EV, NULL);
	TX_TRUE("matches(s, \"^H.*o$\")", EV, NULL);
	TX_FALSE("matches(s, \"^ll\")", EV, NULL);
	TX_TRUE("matches(s, \"(?i)^hello$\")", EV, NULL);
	TX_TRUE("matches(u, \"^h.llo$\")", EV, NULL); /* UTF mode */
	TX_TRUE("matches(e, \"^$\")", EV, NULL);
	TX_TRUE("matches(s + t, \"o[wW]o\")", EV, NULL);
	TX_TRUE("matches('a1b22', '\\\\d{2}')", NULL, NULL);
	TX_NULL("matches(n, \"x\")", EV, NULL);
	TX_NULL("matches(missing, \".*\")", EV, NULL);
	ck_assert_int_eq(tx_test("matches(missing, \".*\")", EV, NULL), 0);
	TX_ETYPE("matches(i, \"7\")", EV, NULL);
	/* Bytes that are not UTF-8 simply do not match there. */
	TX_FALSE("matches(b, \"^.$\")", "{\"b\":\"\xff\"}", NULL);
	TX_TRUE("matches(b, \"z\")", "{\"b\":\"\xffz\"}", NULL);
}
END_TEST

START_TEST(count_counts_events_of_a_step)
{
	tx_steps st = { 0 };

	TX_INT("count(small)", EV, &st, 0);
	tx_steps_add(&st, TX_SMALL, "{\"a\":1}");
	TX_INT("count(small)", EV, &st, 1);
	tx_steps_add(&st, TX_SMALL, "{\"a\":2}");
	tx_steps_add(&st, TX_SMALL, "{}");
	TX_INT("count(small)", EV, &st, 3);
	TX_INT("count(big)", EV, &st, 0);
	tx_steps_add(&st, TX_MIDDLE, "{}");
	TX_INT("count(middle-first)", EV, &st, 1);
	TX_INT("count(`middle-first`)", EV, &st, 1);
	TX_INT("count( small ) + count(middle-first)", EV, &st, 4);
	/* Without a callback, no step has events. */
	TX_INT("count(small)", EV, NULL, 0);
	tx_steps_clear(&st);
}
END_TEST

START_TEST(sum_is_int_until_a_double_or_overflow)
{
	tx_steps st = { 0 };

	TX_INT("sum(small.a)", EV, &st, 0);
	TX_INT("sum(small.a)", EV, NULL, 0);
	tx_steps_add(&st, TX_SMALL, "{\"a\":1}");
	TX_INT("sum(small.a)", EV, &st, 1);
	tx_steps_add(&st, TX_SMALL, "{\"a\":2}");
	tx_steps_add(&st, TX_SMALL, "{\"a\":null}");
	tx_steps_add(&st, TX_SMALL, "{\"b\":100}");
	TX_INT("sum(small.a)", EV, &st, 3);
	tx_steps_add(&st, TX_SMALL, "{\"a\":0.5}");
	TX_DOUBLE("sum(small.a)", EV, &st, 3.5);
	tx_steps_clear(&st);

	tx_steps_add(&st, TX_BIG, "{\"a\":9223372036854775807}");
	tx_steps_add(&st, TX_BIG, "{\"a\":1}");
	tx_steps_add(&st, TX_BIG, "{\"a\":-1}");
	TX_DOUBLE("sum(big.a)", EV, &st, 9223372036854775808.0);
	tx_steps_clear(&st);

	tx_steps_add(&st, TX_BIG, "{\"a\":{\"b\":2}}");
	tx_steps_add(&st, TX_BIG, "{\"a\":{\"b\":3}}");
	tx_steps_add(&st, TX_BIG, "{\"a\":5}");
	TX_INT("sum(big.a.b)", EV, &st, 5);
	TX_ETYPE("sum(big.a)", EV, &st);
	tx_steps_clear(&st);

	tx_steps_add(&st, TX_BIG, "{\"a\":\"1\"}");
	TX_ETYPE("sum(big.a)", EV, &st);
	TX_ETYPE("sum(big.a) > 0 or true", EV, &st);
	tx_steps_clear(&st);
}
END_TEST

START_TEST(avg_is_a_double_or_null)
{
	tx_steps st = { 0 };

	TX_NULL("avg(small.a)", EV, &st);
	TX_FALSE("avg(small.a) > 0", EV, &st);
	tx_steps_add(&st, TX_SMALL, "{\"a\":3}");
	TX_DOUBLE("avg(small.a)", EV, &st, 3.0);
	tx_steps_add(&st, TX_SMALL, "{\"a\":4}");
	tx_steps_add(&st, TX_SMALL, "{\"a\":null}");
	tx_steps_add(&st, TX_SMALL, "{}");
	TX_DOUBLE("avg(small.a)", EV, &st, 3.5);
	tx_steps_add(&st, TX_SMALL, "{\"a\":0.5}");
	TX_DOUBLE("avg(small.a)", EV, &st, 2.5);
	tx_steps_add(&st, TX_SMALL, "{\"a\":true}");
	TX_ETYPE("avg(small.a)", EV, &st);
	tx_steps_clear(&st);

	tx_steps_add(&st, TX_SMALL, "{\"a\":null}");
	TX_NULL("avg(small.a)", EV, &st);
	tx_steps_clear(&st);
}
END_TEST

START_TEST(min_and_max_keep_the_value_and_its_type)
{
	tx_steps st = { 0 };

	TX_NULL("min(small.a)", EV, &st);
	TX_NULL("max(small.a)", EV, &st);
	tx_steps_add(&st, TX_SMALL, "{\"a\":3}");
	TX_INT("min(small.a)", EV, &st, 3);
	TX_INT("max(small.a)", EV, &st, 3);
	tx_steps_add(&st, TX_SMALL, "{\"a\":1.5}");
	tx_steps_add(&st, TX_SMALL, "{\"a\":null}");
	tx_steps_add(&st, TX_SMALL, "{\"a\":7}");
	tx_steps_add(&st, TX_SMALL, "{}");
	TX_DOUBLE("min(small.a)", EV, &st, 1.5);
	TX_INT("max(small.a)", EV, &st, 7);
	TX_TRUE("i > 100 * 0 + max(small.a) - 1", EV, &st);
	tx_steps_add(&st, TX_SMALL, "{\"a\":\"x\"}");
	TX_ETYPE("min(small.a)", EV, &st);
	TX_ETYPE("max(small.a)", EV, &st);
	tx_steps_clear(&st);

	tx_steps_add(&st, TX_BIG, "{\"w\":\"pear\"}");
	tx_steps_add(&st, TX_BIG, "{\"w\":\"apple\"}");
	tx_steps_add(&st, TX_BIG, "{\"w\":\"zoo\"}");
	TX_STR("min(big.w)", EV, &st, "apple");
	TX_STR("max(big.w)", EV, &st, "zoo");
	tx_steps_add(&st, TX_BIG, "{\"w\":false}");
	TX_ETYPE("max(big.w)", EV, &st);
	tx_steps_clear(&st);

	tx_steps_add(&st, TX_BIG, "{\"w\":null}");
	TX_NULL("max(big.w)", EV, &st);
	tx_steps_clear(&st);
}
END_TEST

START_TEST(first_and_last_read_the_ends)
{
	tx_steps st = { 0 };

	TX_NULL("first(small.a)", EV, &st);
	TX_NULL("last(small.a)", EV, &st);
	TX_NULL("first(small.a)", EV, NULL);
	tx_steps_add(&st, TX_SMALL, "{\"a\":\"one\"}");
	TX_STR("first(small.a)", EV, &st, "one");
	TX_STR("last(small.a)", EV, &st, "one");
	tx_steps_add(&st, TX_SMALL, "{\"a\":2}");
	tx_steps_add(&st, TX_SMALL, "{\"b\":3}");
	TX_STR("first(small.a)", EV, &st, "one");
	/* first/last do not skip nulls: the last event has no a. */
	TX_NULL("last(small.a)", EV, &st);
	TX_INT("last(small.b)", EV, &st, 3);
	TX_NULL("first(small.a) + last(small.a)", EV, &st);
	TX_ETYPE("first(small.a) + last(small.b)", EV, &st);
	tx_steps_clear(&st);

	tx_steps_add(&st, TX_LOOP, "{\"m\":{\"x\":[1,2]}}");
	TX_TYPE("first(loop.m.x)", EV, &st, CEP_T_ARRAY);
	TX_INT("len(last(loop.m.x))", EV, &st, 2);
	tx_steps_clear(&st);
}
END_TEST

START_TEST(a_failing_callback_fails_the_evaluation)
{
	tx_steps st = { 0 };
	cep_val  v  = cep_val_int(1);

	tx_steps_add(&st, TX_SMALL, "{\"a\":1}");
	st.fail = CEP_EIO;
	ck_assert_int_eq(tx_test("count(small) == 1", EV, &st), 0);
	CEP_ASSERT_ERR(tx_eval("sum(small.a)", EV, &st, &v), CEP_EIO);
	ck_assert_int_eq(v.type, CEP_T_INT); /* untouched */
	tx_steps_clear(&st);
}
END_TEST

START_TEST(iterative_conditions_of_the_conformance_cases)
{
	const char *cond = "name == \"start\" and ((count(loop) == 0 and "
	                   "price < 5.0) or sum(loop.price) + price < 5.0)";
	tx_steps    st   = { 0 };

	ck_assert_int_eq(
	    tx_test(cond, "{\"name\":\"start\",\"price\":1.0}", &st), 1);
	tx_steps_add(&st, TX_LOOP, "{\"name\":\"start\",\"price\":1.0}");
	ck_assert_int_eq(
	    tx_test(cond, "{\"name\":\"start\",\"price\":3.0}", &st), 1);
	tx_steps_add(&st, TX_LOOP, "{\"name\":\"start\",\"price\":3.0}");
	ck_assert_int_eq(
	    tx_test(cond, "{\"name\":\"start\",\"price\":1.0}", &st), 0);
	ck_assert_int_eq(
	    tx_test(cond, "{\"name\":\"x\",\"price\":0.1}", &st), 0);
	ck_assert_int_eq(
	    tx_test("sum(middle-first.price) == 4.0", EV, &st), 0);
	tx_steps_add(&st, TX_MIDDLE, "{\"price\":4}");
	ck_assert_int_eq(
	    tx_test("sum(middle-first.price) == 4.0", EV, &st), 1);
	tx_steps_clear(&st);
}
END_TEST

START_TEST(emit_values_point_into_events_or_scratch)
{
	tx_steps st = { 0 };
	cep_val  v;

	tx_steps_add(&st, TX_SMALL, "{\"card\":\"c-17\",\"amount\":1.5}");
	tx_steps_add(&st, TX_SMALL, "{\"card\":\"c-18\",\"amount\":2}");
	TX_DOUBLE("sum(small.amount)", EV, &st, 3.5);
	TX_EVAL("first(small.card)", EV, &st, &v);
	ck_assert(v.u.s ==
	    cep_event_str(st.ev[TX_SMALL][0],
	        cep_event_find(
	            st.ev[TX_SMALL][0], cep_sym_intern_str("card"))));
	TX_STR("first(small.card) + \"/\" + last(small.card)", EV, &st,
	    "c-17/c-18");
	tx_steps_clear(&st);
}
END_TEST

/* A warm scratch: after one round, evaluations do not allocate, even
 * with strings made at run time and regexes. */
START_TEST(a_warm_evaluation_allocates_nothing)
{
	static const char *texts[] = {
		"type == \"auth\" and amount < 2",
		"lower(name) == \"alice\" and contains(lower(name), \"li\")",
		"name + \"-\" + type == \"Alice-auth\"",
		"matches(name, \"^A.*e$\") and not matches(type, \"x+\")",
		"sum(small.amount) + avg(small.amount) > 0 and "
		"max(small.amount) >= min(small.amount)",
		"first(small.name) + last(small.name) + lower(name)",
		"len(name + name) == 10 and abs(-amount) == 1.5",
		"amount + name == 1",
	};
	enum { N = sizeof(texts) / sizeof(texts[0]) };
	nfa_expr  *e[N];
	cep_event *ev = cep_test_event(
	    "{\"type\":\"auth\",\"amount\":1.5,\"name\":\"Alice\"}");
	tx_steps     st  = { 0 };
	nfa_scratch *s   = nfa_scratch_create();
	nfa_eval_ctx ctx = { ev, tx_step_events, &st, s };
	cep_val      v;
	int          trues = 0;

	ck_assert_ptr_nonnull(s);
	tx_steps_add(&st, TX_SMALL, "{\"amount\":1,\"name\":\"BOB\"}");
	tx_steps_add(&st, TX_SMALL, "{\"amount\":2.5,\"name\":\"Carol\"}");
	for (int i = 0; i < N; i++) {
		e[i] = tx_compile(texts[i]);
	}
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < N; i++) {
			(void) nfa_expr_eval(e[i], &ctx, &v);
			(void) nfa_expr_test(e[i], &ctx);
		}
		nfa_scratch_reset(s);
	}
	cep_alloc_fail_after(1, 1);
	for (int k = 0; k < 5000; k++) {
		for (int i = 0; i < N - 1; i++) {
			trues += nfa_expr_test(e[i], &ctx);
			if (nfa_expr_eval(e[i], &ctx, &v) != CEP_OK) {
				trues = -1000000;
			}
		}
		/* The type error fails cleanly, without memory either. */
		if (nfa_expr_eval(e[N - 1], &ctx, &v) != CEP_ETYPE) {
			trues = -1000000;
		}
		nfa_scratch_reset(s);
	}
	cep_alloc_fail_after(0, 0);
	ck_assert_int_eq(trues, 5000 * 6);
	TX_STR("first(small.name) + last(small.name) + lower(name)",
	    "{\"name\":\"Alice\"}", &st, "BOBCarolalice");
	for (int i = 0; i < N; i++) {
		nfa_expr_destroy(e[i]);
	}
	nfa_scratch_destroy(s);
	cep_event_unref(ev, NULL);
	tx_steps_clear(&st);
}
END_TEST

START_TEST(a_test_gives_its_scratch_back)
{
	nfa_expr    *e   = tx_compile("s + s + s + s == \"\"");
	nfa_expr    *e2  = tx_compile("lower(s + \"X\") == s + \"x\"");
	cep_event   *ev  = cep_test_event("{\"s\":\"0123456789abcdef\"}");
	nfa_scratch *s   = nfa_scratch_create();
	nfa_eval_ctx ctx = { ev, NULL, NULL, s };

	int trues = 0;

	ck_assert_int_eq(nfa_expr_test(e, &ctx), 0);
	/* Without any reset, 100000 tests fit in the first chunk (which
	 * holds 27 rounds). */
	cep_alloc_fail_after(1, 1);
	for (int i = 0; i < 100000; i++) {
		trues += nfa_expr_test(e2, &ctx);
		trues += nfa_expr_test(e, &ctx);
	}
	cep_alloc_fail_after(0, 0);
	ck_assert_int_eq(trues, 100000);
	nfa_expr_destroy(e2);
	nfa_expr_destroy(e);
	nfa_scratch_destroy(s);
	cep_event_unref(ev, NULL);
}
END_TEST

START_TEST(big_strings_grow_the_scratch_and_stay_valid)
{
	char        *big = malloc(20001), *text;
	size_t       tl  = 20100;
	nfa_scratch *s   = nfa_scratch_create();
	nfa_expr    *e;
	cep_event   *ev;
	cep_val      v[8];

	ck_assert_ptr_nonnull(big);
	memset(big, 'A', 20000);
	big[20000] = '\0';
	text       = malloc(tl);
	snprintf(text, tl, "{\"s\":\"%s\"}", big);
	ev = cep_test_event(text);
	e  = tx_compile("lower(s + \"B\")");
	{
		nfa_eval_ctx ctx = { ev, NULL, NULL, s };
		for (int round = 0; round < 3; round++) {
			for (int i = 0; i < 8; i++) {
				CEP_ASSERT_OK(nfa_expr_eval(e, &ctx, &v[i]));
			}
			/* Earlier results are intact after later ones. */
			for (int i = 0; i < 8; i++) {
				ck_assert_uint_eq(v[i].len, 20001);
				ck_assert_int_eq(v[i].u.s[0], 'a');
				ck_assert_int_eq(v[i].u.s[19999], 'a');
				ck_assert_int_eq(v[i].u.s[20000], 'b');
				ck_assert_int_eq(v[i].u.s[20001], '\0');
			}
			nfa_scratch_reset(s);
			if (round == 0) {
				cep_alloc_fail_after(1, 1);
			}
		}
		cep_alloc_fail_after(0, 0);
	}
	nfa_expr_destroy(e);
	nfa_scratch_destroy(s);
	nfa_scratch_destroy(NULL);
	cep_event_unref(ev, NULL);
	free(big);
	free(text);
}
END_TEST

START_TEST(out_of_memory_in_the_scratch_is_enomem)
{
	nfa_expr    *e   = tx_compile("lower(s) + s");
	cep_event   *ev  = cep_test_event("{\"s\":\"ABC\"}");
	nfa_scratch *s   = nfa_scratch_create();
	nfa_eval_ctx ctx = { ev, NULL, NULL, s };
	cep_val      v   = cep_val_int(3);
	int          n   = 0;

	/* Fill the first chunk, then fail the next one. */
	cep_alloc_fail_after(1, 1);
	while (nfa_expr_eval(e, &ctx, &v) == CEP_OK && n < 100000) {
		n++;
	}
	CEP_ASSERT_ERR(nfa_expr_eval(e, &ctx, &v), CEP_ENOMEM);
	cep_alloc_fail_after(0, 0);
	ck_assert_int_gt(n, 100);
	ck_assert_int_lt(n, 100000);
	ck_assert_int_eq(nfa_expr_test(e, &ctx), 0);
	nfa_scratch_reset(s);
	CEP_ASSERT_OK(nfa_expr_eval(e, &ctx, &v));
	nfa_expr_destroy(e);
	nfa_scratch_destroy(s);
	cep_event_unref(ev, NULL);
}
END_TEST

START_TEST(scratch_creation_survives_out_of_memory)
{
	for (uint64_t n = 1; n < 20; n++) {
		nfa_scratch *s;
		cep_alloc_fail_after(n, 1);
		s = nfa_scratch_create();
		cep_alloc_fail_after(0, 0);
		nfa_scratch_destroy(s);
	}
}
END_TEST

static Suite *
expr_eval_suite(void)
{
	Suite *s = suite_create("expr_eval");
	TCase *t = tcase_create("expr_eval");

	tcase_add_test(t, comparisons_with_null_are_false);
	tcase_add_test(t, equality_with_literal_null_tests_for_null);
	tcase_add_test(t, null_is_false_for_and_or_not);
	tcase_add_test(t, arithmetic_with_null_gives_null);
	tcase_add_test(t, integer_arithmetic_stays_int);
	tcase_add_test(t, integer_overflow_gives_a_double);
	tcase_add_test(t, mixing_int_and_double_gives_a_double);
	tcase_add_test(t, division_and_modulo_by_zero_give_null);
	tcase_add_test(t, plus_concatenates_strings);
	tcase_add_test(t, equality_across_types_is_false);
	tcase_add_test(t, strings_order_bytewise);
	tcase_add_test(t, run_time_type_errors_fail_the_condition);
	tcase_add_test(t, and_or_short_circuit);
	tcase_add_test(t, in_and_not_in_compare_with_every_item);
	tcase_add_test(t, nested_paths_and_missing_fields);
	tcase_add_test(t, no_event_makes_every_field_null);
	tcase_add_test(t, abs_of_numbers_null_and_strings);
	tcase_add_test(t, len_counts_code_points_and_entries);
	tcase_add_test(t, lower_is_ascii_only);
	tcase_add_test(t, string_predicates);
	tcase_add_test(t, matches_searches_with_pcre2);
	tcase_add_test(t, count_counts_events_of_a_step);
	tcase_add_test(t, sum_is_int_until_a_double_or_overflow);
	tcase_add_test(t, avg_is_a_double_or_null);
	tcase_add_test(t, min_and_max_keep_the_value_and_its_type);
	tcase_add_test(t, first_and_last_read_the_ends);
	tcase_add_test(t, a_failing_callback_fails_the_evaluation);
	tcase_add_test(t, iterative_conditions_of_the_conformance_cases);
	tcase_add_test(t, emit_values_point_into_events_or_scratch);
	tcase_add_test(t, a_warm_evaluation_allocates_nothing);
	tcase_add_test(t, a_test_gives_its_scratch_back);
	tcase_add_test(t, big_strings_grow_the_scratch_and_stay_valid);
	tcase_add_test(t, out_of_memory_in_the_scratch_is_enomem);
	tcase_add_test(t, scratch_creation_survives_out_of_memory);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(expr_eval_suite)
