/* SPDX-License-Identifier: MIT */
/* test_value.c: value equality, ordering, hashing, UTF-8 and doubles. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/test_support.h"

START_TEST(ints_and_doubles_compare_as_numbers)
{
	cep_val one = cep_val_int(1), onef = cep_val_double(1.0);
	cep_val half = cep_val_double(0.5);
	int     cmp;

	ck_assert(cep_val_equal(&one, &onef));
	CEP_ASSERT_OK(cep_val_compare(&half, &one, &cmp));
	ck_assert_int_lt(cmp, 0);
	ck_assert_uint_eq(cep_val_hash(&one, 0), cep_val_hash(&onef, 0));
}
END_TEST

START_TEST(large_ints_compare_exactly_with_doubles)
{
	cep_val big  = cep_val_int(INT64_MAX);
	cep_val bigd = cep_val_double(9223372036854775807.0); /* 2^63 */
	cep_val a    = cep_val_int(9007199254740993); /* 2^53 + 1 */
	cep_val ad   = cep_val_double(9007199254740992.0);
	int     cmp;

	CEP_ASSERT_OK(cep_val_compare(&big, &bigd, &cmp));
	ck_assert_int_lt(cmp, 0);
	ck_assert(!cep_val_equal(&a, &ad));
	CEP_ASSERT_OK(cep_val_compare(&a, &ad, &cmp));
	ck_assert_int_gt(cmp, 0);
}
END_TEST

START_TEST(mixed_types_are_unequal_and_unordered)
{
	cep_val s = cep_val_str("1", 1), i = cep_val_int(1);
	cep_val t = cep_val_bool(1), n = cep_val_null();
	cep_val nan = cep_val_double(NAN);
	int     cmp;

	ck_assert(!cep_val_equal(&s, &i));
	ck_assert(!cep_val_equal(&t, &i));
	ck_assert(cep_val_equal(&n, &n));
	ck_assert(!cep_val_equal(&nan, &nan));
	CEP_ASSERT_ERR(cep_val_compare(&s, &i, &cmp), CEP_ETYPE);
	CEP_ASSERT_ERR(cep_val_compare(&t, &t, &cmp), CEP_ETYPE);
	CEP_ASSERT_ERR(cep_val_compare(&nan, &i, &cmp), CEP_ETYPE);
}
END_TEST

START_TEST(strings_order_bytewise_with_prefixes_first)
{
	cep_val a = cep_val_str("ab", 2), b = cep_val_str("abc", 3);
	cep_val c = cep_val_str("b", 1);
	int     cmp;

	CEP_ASSERT_OK(cep_val_compare(&a, &b, &cmp));
	ck_assert_int_lt(cmp, 0);
	CEP_ASSERT_OK(cep_val_compare(&c, &b, &cmp));
	ck_assert_int_gt(cmp, 0);
}
END_TEST

START_TEST(containers_compare_deeply)
{
	cep_event *a = cep_test_event("{\"m\":{\"x\":1,\"y\":[1,2]}}");
	cep_event *b = cep_test_event("{\"m\":{\"y\":[1,2.0],\"x\":1}}");
	cep_event *c = cep_test_event("{\"m\":{\"y\":[1,3],\"x\":1}}");
	cep_val    va, vb, vc;

	cep_slot_val(a, cep_event_find(a, cep_sym_intern_str("m")), &va);
	cep_slot_val(b, cep_event_find(b, cep_sym_intern_str("m")), &vb);
	cep_slot_val(c, cep_event_find(c, cep_sym_intern_str("m")), &vc);
	ck_assert(cep_val_equal(&va, &vb));
	ck_assert(!cep_val_equal(&va, &vc));
	{
		/* A repeated name counts once: {x:1,x:2} equals {x:2}. */
		cep_event *d = cep_test_event("{\"m\":{\"x\":1,\"x\":2}}");
		cep_event *e = cep_test_event("{\"m\":{\"x\":2}}");
		cep_val    vd, ve;
		cep_slot_val(d, cep_event_find(d, cep_sym_intern_str("m")), &vd);
		cep_slot_val(e, cep_event_find(e, cep_sym_intern_str("m")), &ve);
		ck_assert(cep_val_equal(&vd, &ve));
		cep_event_unref(d, NULL);
		cep_event_unref(e, NULL);
	}
	cep_event_unref(a, NULL);
	cep_event_unref(b, NULL);
	cep_event_unref(c, NULL);
}
END_TEST

START_TEST(utf8_validation_rejects_every_malformation)
{
	ck_assert(cep_utf8_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80",
	    15));
	ck_assert(!cep_utf8_valid("\xc0\xaf", 2));         /* overlong */
	ck_assert(!cep_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	ck_assert(!cep_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	ck_assert(!cep_utf8_valid("\xe2\x82", 2));         /* truncated */
	ck_assert(!cep_utf8_valid("\x80", 1));             /* lone tail */
	ck_assert(!cep_utf8_valid("\xff", 1));
}
END_TEST

START_TEST(doubles_format_shortest_and_read_back)
{
	static const double vals[] = { 0.1, 2.0, -0.5, 1e300, 123456.789,
		5e-324, 1.7976931348623157e308, 100.0 };
	char buf[CEP_DOUBLE_BUF];

	cep_fmt_double(2.0, buf);
	ck_assert_str_eq(buf, "2.0");
	cep_fmt_double(0.1, buf);
	ck_assert_str_eq(buf, "0.1");
	cep_fmt_double(NAN, buf);
	ck_assert_str_eq(buf, "null");
	cep_fmt_double(100.0, buf);
	ck_assert_str_eq(buf, "100.0");
	cep_fmt_double(1.0 / 3.0, buf);
	ck_assert_str_eq(buf, "0.3333333333333333");
	cep_fmt_double(1e300, buf);
	ck_assert_str_eq(buf, "1e+300");
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		cep_fmt_double(vals[i], buf);
		ck_assert_msg(strtod(buf, NULL) == vals[i], "%s", buf);
		ck_assert_msg(strpbrk(buf, ".e") != NULL, "%s", buf);
	}
}
END_TEST

static Suite *
value_suite(void)
{
	Suite *s = suite_create("value");
	TCase *t = tcase_create("value");

	tcase_add_test(t, ints_and_doubles_compare_as_numbers);
	tcase_add_test(t, large_ints_compare_exactly_with_doubles);
	tcase_add_test(t, mixed_types_are_unequal_and_unordered);
	tcase_add_test(t, strings_order_bytewise_with_prefixes_first);
	tcase_add_test(t, containers_compare_deeply);
	tcase_add_test(t, utf8_validation_rejects_every_malformation);
	tcase_add_test(t, doubles_format_shortest_and_read_back);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(value_suite)
