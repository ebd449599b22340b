/* SPDX-License-Identifier: MIT */
/* test_hash.c: XXH3 wrappers and the open-addressing index. */
#include <string.h>

#include "tests/support/test_support.h"

#define N 5000

static uint64_t keys[N];

static int
key_eq(const void *ctx, uint32_t val)
{
	return (keys[val] == *(const uint64_t *) ctx);
}

/* A deliberately weak hash so that clusters form and deletion has to
 * shift entries back. */
static uint64_t
weak_hash(uint64_t k)
{
	return (k % 97);
}

START_TEST(hashes_are_deterministic_and_seeded)
{
	uint64_t a = cep_hash64("abc", 3, 0);
	uint64_t b = cep_hash64("abc", 3, 0);
	uint64_t c = cep_hash64("abc", 3, 1);
	uint64_t hi, lo;

	ck_assert_uint_eq(a, b);
	ck_assert_uint_ne(a, c);
	cep_hash128("abc", 3, &hi, &lo);
	ck_assert(hi != 0 || lo != 0);
}
END_TEST

START_TEST(hash128_in_pieces_equals_the_whole)
{
	uint8_t           data[3000];
	cep_hash128_state st;
	uint64_t          hi, lo, hi2, lo2;

	for (size_t i = 0; i < sizeof(data); i++) {
		data[i] = (uint8_t) (i * 131 + 7);
	}
	/* Lengths around XXH3's thresholds, cut at several places. */
	for (size_t n = 0; n <= sizeof(data); n += n < 300 ? 1 : 97) {
		cep_hash128(data, n, &hi, &lo);
		for (size_t step = 1; step <= 257; step += 64) {
			cep_hash128_init(&st);
			for (size_t off = 0; off < n; off += step) {
				cep_hash128_add(&st, data + off,
				    n - off < step ? n - off : step);
			}
			cep_hash128_digest(&st, &hi2, &lo2);
			ck_assert_msg(hi == hi2 && lo == lo2,
			    "length %zu in pieces of %zu", n, step);
		}
	}
	/* No allocation. */
	cep_alloc_fail_after(1, 1);
	cep_hash128_init(&st);
	cep_hash128_add(&st, "abc", 3);
	cep_hash128_digest(&st, &hi2, &lo2);
	cep_alloc_fail_after(0, 0);
	cep_hash128("abc", 3, &hi, &lo);
	ck_assert(hi == hi2 && lo == lo2);
}
END_TEST

START_TEST(insert_find_remove_survive_heavy_collisions)
{
	cep_htab t;

	cep_htab_init(&t);
	for (uint32_t i = 0; i < N; i++) {
		keys[i] = (uint64_t) i * 7919u + 13;
		CEP_ASSERT_OK(cep_htab_insert(&t, weak_hash(keys[i]), i));
	}
	ck_assert_uint_eq(t.n, N);
	/* Remove every third key, then check all the others are found. */
	for (uint32_t i = 0; i < N; i += 3) {
		ck_assert_int_eq(cep_htab_remove(&t, weak_hash(keys[i]),
		                     key_eq, &keys[i]),
		    1);
	}
	for (uint32_t i = 0; i < N; i++) {
		uint32_t *v = cep_htab_find(&t, weak_hash(keys[i]), key_eq,
		    &keys[i]);
		if (i % 3 == 0) {
			ck_assert_ptr_null(v);
		} else {
			ck_assert_ptr_nonnull(v);
			ck_assert_uint_eq(*v, i);
		}
	}
	ck_assert_int_eq(cep_htab_remove(&t, weak_hash(keys[0]), key_eq,
	                     &keys[0]),
	    0);
	cep_htab_fini(&t);
}
END_TEST

START_TEST(remove_val_removes_only_that_entry)
{
	cep_htab t;

	cep_htab_init(&t);
	keys[0] = 1;
	keys[1] = 1;
	CEP_ASSERT_OK(cep_htab_insert(&t, 5, 0));
	CEP_ASSERT_OK(cep_htab_insert(&t, 5, 1));
	ck_assert_int_eq(cep_htab_remove_val(&t, 5, 1), 1);
	ck_assert_uint_eq(*cep_htab_find(&t, 5, key_eq, &keys[0]), 0);
	ck_assert_int_eq(cep_htab_remove_val(&t, 5, 1), 0);
	cep_htab_clear(&t);
	ck_assert_ptr_null(cep_htab_find(&t, 5, key_eq, &keys[0]));
	cep_htab_fini(&t);
}
END_TEST

START_TEST(insert_reports_out_of_memory)
{
	cep_htab t;

	cep_htab_init(&t);
	cep_alloc_fail_after(1, 0);
	CEP_ASSERT_ERR(cep_htab_insert(&t, 1, 1), CEP_ENOMEM);
	cep_alloc_fail_after(0, 0);
	CEP_ASSERT_OK(cep_htab_insert(&t, 1, 1));
	cep_htab_fini(&t);
}
END_TEST

static Suite *
hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *t = tcase_create("hash");

	tcase_add_test(t, hashes_are_deterministic_and_seeded);
	tcase_add_test(t, hash128_in_pieces_equals_the_whole);
	tcase_add_test(t, insert_find_remove_survive_heavy_collisions);
	tcase_add_test(t, remove_val_removes_only_that_entry);
	tcase_add_test(t, insert_reports_out_of_memory);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(hash_suite)
