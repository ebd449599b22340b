/* SPDX-License-Identifier: MIT */
/* test_alloc.c: allocation wrappers, failure injection and the slab. */
#include <string.h>

#include "tests/support/test_support.h"

START_TEST(injected_failure_hits_the_nth_allocation)
{
	void *a, *b, *c;

	cep_alloc_fail_after(2, 0);
	a = cep_alloc(8);
	b = cep_alloc(8);
	c = cep_alloc(8);
	cep_alloc_fail_after(0, 0);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(c);
	cep_free(a, 8);
	cep_free(c, 8);
}
END_TEST

START_TEST(sticky_failure_fails_every_later_allocation)
{
	cep_alloc_fail_after(1, 1);
	ck_assert_ptr_null(cep_alloc(1));
	ck_assert_ptr_null(cep_zalloc(1));
	ck_assert_ptr_null(cep_strdup("x"));
	cep_alloc_fail_after(0, 0);
	{
		char *x = cep_strdup("x");
		ck_assert_ptr_nonnull(x);
		cep_strfree(x);
	}
}
END_TEST

START_TEST(calloc_refuses_overflowing_sizes)
{
	ck_assert_ptr_null(cep_calloc(SIZE_MAX / 2, 4));
}
END_TEST

START_TEST(grow_doubles_and_keeps_contents)
{
	int   *arr = NULL;
	size_t cap = 0;

	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(cep_grow(&arr, &cap, (size_t) i + 1,
		                     sizeof(int)),
		    CEP_OK);
		arr[i] = i;
	}
	ck_assert_uint_ge(cap, 1000);
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(arr[i], i);
	}
	cep_free(arr, cap * sizeof(int));
}
END_TEST

START_TEST(slab_reuses_freed_blocks_of_the_same_class)
{
	cep_slab *s = cep_slab_create();
	void     *a, *b;
	size_t    bytes;

	a = cep_slab_alloc(s, 100);
	ck_assert_ptr_nonnull(a);
	memset(a, 0xab, 100);
	bytes = cep_slab_bytes(s);
	cep_slab_free(s, a, 100);
	b = cep_slab_alloc(s, 97); /* same 16-byte class as 100 */
	ck_assert_ptr_eq(a, b);
	ck_assert_uint_eq(cep_slab_bytes(s), bytes);
	cep_slab_free(s, b, 97);
	cep_slab_destroy(s);
}
END_TEST

START_TEST(slab_serves_every_size_up_to_and_past_its_classes)
{
	cep_slab *s = cep_slab_create();
	void     *p[200];
	size_t    sizes[200];

	for (int i = 0; i < 200; i++) {
		sizes[i] = (size_t) i * 397 + 1;
		p[i]     = cep_slab_alloc(s, sizes[i]);
		ck_assert_ptr_nonnull(p[i]);
		ck_assert_uint_eq((uintptr_t) p[i] % 16, 0);
		memset(p[i], i, sizes[i]);
	}
	cep_slab_free(s, p[0], sizes[0]);
	p[0] = cep_slab_alloc(s, 1 << 20); /* past the largest class */
	ck_assert_ptr_nonnull(p[0]);
	cep_slab_free(s, p[0], 1 << 20);
	for (int i = 1; i < 200; i++) {
		ck_assert_int_eq(((unsigned char *) p[i])[sizes[i] - 1], i);
		cep_slab_free(s, p[i], sizes[i]);
	}
	cep_slab_destroy(s);
}
END_TEST

static Suite *
alloc_suite(void)
{
	Suite *s = suite_create("alloc");
	TCase *t = tcase_create("alloc");

	tcase_add_test(t, injected_failure_hits_the_nth_allocation);
	tcase_add_test(t, sticky_failure_fails_every_later_allocation);
	tcase_add_test(t, calloc_refuses_overflowing_sizes);
	tcase_add_test(t, grow_doubles_and_keeps_contents);
	tcase_add_test(t, slab_reuses_freed_blocks_of_the_same_class);
	tcase_add_test(t, slab_serves_every_size_up_to_and_past_its_classes);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(alloc_suite)
