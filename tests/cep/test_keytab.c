/* SPDX-License-Identifier: MIT */
/*
 * test_keytab.c: partition keys to slots (cep/keytab.c): equal values are
 * one key (1 and 1.0, 0.0 and -0.0), other types are not; string keys are
 * copied; removed slots are reused with a new generation; key values
 * survive put_val / read_val, which refuses damaged bytes.
 */
#include <string.h>

#include "cep/keytab.h"
#include "tests/support/test_support.h"

START_TEST(equal_values_are_one_key_and_other_types_are_not)
{
	cep_keytab t;
	cep_val    keys[] = {
		   cep_val_int(1),
		   cep_val_double(1.0),
		   cep_val_str("1", 1),
		   cep_val_bool(1),
		   cep_val_double(1.5),
		   cep_val_double(-0.0),
		   cep_val_int(0),
	};
	uint32_t s[7];

	cep_keytab_init(&t);
	for (int i = 0; i < 7; i++) {
		CEP_ASSERT_OK(cep_keytab_get(&t, &keys[i], &s[i]));
		ck_assert(cep_keytab_used(&t, s[i]));
	}
	ck_assert_uint_eq(s[0], s[1]);
	ck_assert_uint_ne(s[0], s[2]);
	ck_assert_uint_ne(s[0], s[3]);
	ck_assert_uint_ne(s[2], s[3]);
	ck_assert_uint_ne(s[0], s[4]);
	ck_assert_uint_eq(s[5], s[6]);
	ck_assert_uint_eq(t.live, 5);
	ck_assert_uint_eq(
	    cep_keytab_hash(&keys[0]), cep_keytab_hash(&keys[1]));
	ck_assert_uint_eq(
	    cep_keytab_find(&t, &keys[1], cep_keytab_hash(&keys[1])), s[0]);
	/* The first value seen is the one kept. */
	ck_assert_int_eq(cep_keytab_key(&t, s[0])->type, CEP_T_INT);
	cep_keytab_fini(&t);
}
END_TEST

START_TEST(string_keys_are_copied)
{
	cep_keytab t;
	char       buf[8] = "user-1";
	cep_val    k      = cep_val_str(buf, 6);
	uint32_t   slot, again;

	cep_keytab_init(&t);
	CEP_ASSERT_OK(cep_keytab_get(&t, &k, &slot));
	memcpy(buf, "XXXXXX", 6);
	ck_assert_str_eq(cep_keytab_key(&t, slot)->u.s, "user-1");
	k = cep_val_str("user-1", 6);
	CEP_ASSERT_OK(cep_keytab_get(&t, &k, &again));
	ck_assert_uint_eq(slot, again);
	k = cep_val_str(buf, 6);
	ck_assert_uint_eq(
	    cep_keytab_find(&t, &k, cep_keytab_hash(&k)), CEP_KEYTAB_NONE);
	cep_keytab_fini(&t);
}
END_TEST

START_TEST(removed_slots_are_reused_with_a_new_generation)
{
	cep_keytab t;
	cep_val    a = cep_val_str("a", 1), b = cep_val_str("b", 1);
	uint32_t   sa, sb, gen;

	cep_keytab_init(&t);
	CEP_ASSERT_OK(cep_keytab_get(&t, &a, &sa));
	gen = t.ents[sa].gen;
	cep_keytab_remove(&t, sa);
	ck_assert(!cep_keytab_used(&t, sa));
	ck_assert_uint_eq(t.live, 0);
	ck_assert_uint_eq(
	    cep_keytab_find(&t, &a, cep_keytab_hash(&a)), CEP_KEYTAB_NONE);
	cep_keytab_remove(&t, sa); /* twice: no effect */
	ck_assert_uint_eq(t.live, 0);
	CEP_ASSERT_OK(cep_keytab_get(&t, &b, &sb));
	ck_assert_uint_eq(sb, sa);
	ck_assert_uint_ne(t.ents[sb].gen, gen);
	ck_assert_str_eq(cep_keytab_key(&t, sb)->u.s, "b");
	ck_assert(!cep_keytab_used(&t, 99));
	cep_keytab_fini(&t);
}
END_TEST

START_TEST(many_keys_added_removed_and_added_again)
{
	cep_keytab t;
	uint32_t   slots[20000];
	char       name[32];

	cep_keytab_init(&t);
	for (int i = 0; i < 20000; i++) {
		cep_val k = cep_val_int(i * 7919);
		CEP_ASSERT_OK(cep_keytab_get(&t, &k, &slots[i]));
	}
	for (int i = 0; i < 20000; i += 2) {
		cep_keytab_remove(&t, slots[i]);
	}
	ck_assert_uint_eq(t.live, 10000);
	for (int i = 0; i < 10000; i++) {
		cep_val  k;
		uint32_t s;
		snprintf(name, sizeof(name), "s%d", i);
		k = cep_val_str(name, strlen(name));
		CEP_ASSERT_OK(cep_keytab_get(&t, &k, &s));
		ck_assert_uint_lt(s, 20000); /* freed slots first */
	}
	for (int i = 1; i < 20000; i += 2) {
		cep_val k = cep_val_int(i * 7919);
		ck_assert_uint_eq(
		    cep_keytab_find(&t, &k, cep_keytab_hash(&k)), slots[i]);
	}
	ck_assert_uint_eq(t.live, 20000);
	ck_assert_uint_eq(t.n, 20000);
	cep_keytab_fini(&t);
}
END_TEST

START_TEST(key_values_survive_put_and_read)
{
	cep_val vals[] = {
		cep_val_null(),
		cep_val_int(-42),
		cep_val_double(2.75),
		cep_val_bool(1),
		cep_val_str("k\0y", 3),
		cep_val_str("", 0),
	};
	cep_buf b;
	cep_rd  r;

	cep_buf_init(&b);
	for (size_t i = 0; i < 6; i++) {
		cep_keytab_put_val(&b, &vals[i]);
	}
	CEP_ASSERT_OK(cep_buf_status(&b));
	cep_rd_init(&r, b.data, b.len);
	for (size_t i = 0; i < 6; i++) {
		cep_val v;
		CEP_ASSERT_OK(cep_keytab_read_val(&r, &v));
		ck_assert_int_eq(v.type, vals[i].type);
		ck_assert(v.type == CEP_T_NULL || cep_val_equal(&v, &vals[i]));
	}
	ck_assert_uint_eq(cep_rd_left(&r), 0);
	cep_buf_fini(&b);
}
END_TEST

START_TEST(read_val_refuses_damaged_bytes)
{
	static const uint8_t bad[][4] = {
		{ CEP_T_MAP, 0, 0, 0 },   /* a container */
		{ 99, 0, 0, 0 },          /* no such type */
		{ CEP_T_STR, 9, 'a', 0 }, /* a string longer than its bytes */
	};
	static const size_t  len[]       = { 1, 1, 3 };
	static const uint8_t short_int[] = { CEP_T_INT, 1, 2 };
	cep_rd               r;
	cep_val              v;

	for (size_t i = 0; i < 3; i++) {
		cep_rd_init(&r, bad[i], len[i]);
		CEP_ASSERT_ERR(cep_keytab_read_val(&r, &v), CEP_ECORRUPT);
	}
	cep_rd_init(&r, short_int, sizeof(short_int));
	CEP_ASSERT_ERR(cep_keytab_read_val(&r, &v), CEP_ECORRUPT);
	cep_rd_init(&r, NULL, 0);
	CEP_ASSERT_ERR(cep_keytab_read_val(&r, &v), CEP_ECORRUPT);
}
END_TEST

START_TEST(allocation_failures_add_nothing)
{
	cep_keytab t;
	cep_val    k = cep_val_str("key", 3);
	uint32_t   slot;
	int        failed = 0;

	cep_keytab_init(&t);
	for (uint64_t nth = 1; nth < 10; nth++) {
		cep_err rv;
		cep_alloc_fail_after(nth, 0);
		rv = cep_keytab_get(&t, &k, &slot);
		cep_alloc_fail_after(0, 0);
		if (rv == CEP_OK) {
			break;
		}
		CEP_ASSERT_ERR(rv, CEP_ENOMEM);
		ck_assert_uint_eq(t.live, 0);
		ck_assert_uint_eq(cep_keytab_find(&t, &k, cep_keytab_hash(&k)),
		    CEP_KEYTAB_NONE);
		failed++;
	}
	ck_assert_int_gt(failed, 0);
	ck_assert_uint_eq(t.live, 1);
	cep_keytab_fini(&t);
}
END_TEST

static Suite *
keytab_suite(void)
{
	Suite *s = suite_create("keytab");
	TCase *t = tcase_create("keytab");

	tcase_add_test(t, equal_values_are_one_key_and_other_types_are_not);
	tcase_add_test(t, string_keys_are_copied);
	tcase_add_test(t, removed_slots_are_reused_with_a_new_generation);
	tcase_add_test(t, many_keys_added_removed_and_added_again);
	tcase_add_test(t, key_values_survive_put_and_read);
	tcase_add_test(t, read_val_refuses_damaged_bytes);
	tcase_add_test(t, allocation_failures_add_nothing);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(keytab_suite)
