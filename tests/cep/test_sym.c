/* SPDX-License-Identifier: MIT */
/* test_sym.c: the process-wide symbol table. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tests/support/test_support.h"

START_TEST(interning_twice_gives_the_same_symbol)
{
	cep_sym a = cep_sym_intern("card_id", 7);
	cep_sym b = cep_sym_intern_str("card_id");
	size_t  len;

	ck_assert_uint_ne(a, CEP_SYM_NONE);
	ck_assert_uint_eq(a, b);
	ck_assert_str_eq(cep_sym_name(a, &len), "card_id");
	ck_assert_uint_eq(len, 7);
	ck_assert_uint_eq(cep_sym_lookup("card_id", 7), a);
}
END_TEST

START_TEST(lookup_never_inserts)
{
	size_t before = cep_sym_count();

	ck_assert_uint_eq(cep_sym_lookup("never-seen-name", 15), CEP_SYM_NONE);
	ck_assert_uint_eq(cep_sym_count(), before);
}
END_TEST

START_TEST(empty_and_overlong_names_are_refused)
{
	char big[CEP_SYM_MAX_LEN + 2];

	memset(big, 'x', sizeof(big));
	ck_assert_uint_eq(cep_sym_intern("", 0), CEP_SYM_NONE);
	ck_assert_uint_eq(cep_sym_intern(big, sizeof(big)), CEP_SYM_NONE);
	ck_assert_uint_ne(cep_sym_intern(big, CEP_SYM_MAX_LEN), CEP_SYM_NONE);
	ck_assert_ptr_null(cep_sym_name(CEP_SYM_NONE, NULL));
}
END_TEST

START_TEST(names_with_nul_bytes_are_distinct)
{
	cep_sym a = cep_sym_intern("a\0b", 3);
	cep_sym b = cep_sym_intern("a\0c", 3);

	ck_assert_uint_ne(a, b);
}
END_TEST

static void *
intern_many(void *arg)
{
	char name[32];

	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		if (cep_sym_intern_str(name) == CEP_SYM_NONE) {
			return ((void *) 1);
		}
	}
	return (arg);
}

START_TEST(concurrent_interning_agrees)
{
	pthread_t th[4];
	char      name[32];

	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_create(&th[i], NULL, intern_many, NULL),
		    0);
	}
	for (int i = 0; i < 4; i++) {
		void *rv;
		pthread_join(th[i], &rv);
		ck_assert_ptr_null(rv);
	}
	for (int i = 0; i < 2000; i++) {
		cep_sym s;
		snprintf(name, sizeof(name), "f%d", i);
		s = cep_sym_lookup(name, strlen(name));
		ck_assert_uint_ne(s, CEP_SYM_NONE);
		ck_assert_str_eq(cep_sym_name(s, NULL), name);
	}
}
END_TEST

static Suite *
sym_suite(void)
{
	Suite *s = suite_create("sym");
	TCase *t = tcase_create("sym");

	tcase_add_test(t, interning_twice_gives_the_same_symbol);
	tcase_add_test(t, lookup_never_inserts);
	tcase_add_test(t, empty_and_overlong_names_are_refused);
	tcase_add_test(t, names_with_nul_bytes_are_distinct);
	tcase_add_test(t, concurrent_interning_agrees);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(sym_suite)
