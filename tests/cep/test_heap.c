/* SPDX-License-Identifier: MIT */
/* test_heap.c: the binary min-heap (cep/heap.c). */
#include <stdlib.h>
#include <string.h>

#include "tests/support/test_support.h"

#define N 20000

/* Items of three sizes: the timer's, the reorder buffer's and one too big
 * to move through the heap's bounce buffer. */
struct small {
	int64_t  at;
	uint32_t key;
	uint32_t tag;
};

struct big {
	int64_t  at;
	uint64_t seq;
	uint8_t  pad[80];
};

static int
small_less(const void *a, const void *b)
{
	const struct small *x = a, *y = b;

	return (x->at != y->at ? x->at < y->at : x->key < y->key);
}

static int
big_less(const void *a, const void *b)
{
	const struct big *x = a, *y = b;

	return (x->at != y->at ? x->at < y->at : x->seq < y->seq);
}

static int
cmp_small(const void *a, const void *b)
{
	return (small_less(a, b) ? -1 : small_less(b, a));
}

START_TEST(pops_in_order_with_pushes_in_between)
{
	static struct small ref[N];
	cep_heap            h;
	struct small        it, got;
	uint64_t            seed = 7;
	size_t              nref = 0;

	cep_heap_init(&h, sizeof(struct small), small_less);
	/* Interleave pushes and pops the way timers do; keep a sorted
	 * reference of what is inside. */
	for (uint32_t i = 0; i < N; i++) {
		it.at  = (int64_t) (cep_test_rand(&seed) % 1000);
		it.key = (uint32_t) (cep_test_rand(&seed) % 50);
		it.tag = i;
		CEP_ASSERT_OK(cep_heap_push(&h, &it));
		ref[nref++] = it;
		if (cep_test_rand(&seed) % 3 == 0) {
			qsort(ref, nref, sizeof(ref[0]), cmp_small);
			cep_heap_pop(&h, &got);
			ck_assert_int_eq(got.at, ref[0].at);
			ck_assert_uint_eq(got.key, ref[0].key);
			memmove(ref, ref + 1, (--nref) * sizeof(ref[0]));
		}
	}
	qsort(ref, nref, sizeof(ref[0]), cmp_small);
	for (size_t i = 0; i < nref; i++) {
		const struct small *top = cep_heap_top(&h);
		ck_assert_ptr_nonnull(top);
		ck_assert_int_eq(top->at, ref[i].at);
		ck_assert_uint_eq(top->key, ref[i].key);
		cep_heap_pop(&h, NULL);
	}
	ck_assert_ptr_null(cep_heap_top(&h));
	ck_assert_uint_eq(h.n, 0);
	cep_heap_fini(&h);
}
END_TEST

START_TEST(big_items_keep_their_bytes)
{
	cep_heap   h;
	struct big it, got;
	uint64_t   seed = 11, prev_seq = 0;

	cep_heap_init(&h, sizeof(struct big), big_less);
	for (uint64_t i = 0; i < 2000; i++) {
		it.at  = (int64_t) (cep_test_rand(&seed) % 100);
		it.seq = i;
		memset(it.pad, (int) (i & 0xff), sizeof(it.pad));
		CEP_ASSERT_OK(cep_heap_push(&h, &it));
	}
	for (int64_t prev_at = -1, i = 0; i < 2000; i++) {
		cep_heap_pop(&h, &got);
		ck_assert(got.at >= prev_at);
		if (got.at == prev_at) {
			ck_assert_uint_gt(got.seq, prev_seq);
		}
		prev_at  = got.at;
		prev_seq = got.seq;
		for (size_t j = 0; j < sizeof(got.pad); j++) {
			ck_assert_uint_eq(got.pad[j], got.seq & 0xff);
		}
	}
	cep_heap_fini(&h);
}
END_TEST

static int
keep_even(void *ctx, const void *item)
{
	(void) ctx;
	return (((const struct small *) item)->tag % 2 == 0);
}

START_TEST(filter_keeps_a_valid_heap)
{
	cep_heap     h;
	struct small it, got;
	uint64_t     seed = 3;
	int64_t      prev = -1;

	cep_heap_init(&h, sizeof(struct small), small_less);
	for (uint32_t i = 0; i < 1000; i++) {
		it.at  = (int64_t) (cep_test_rand(&seed) % 10000);
		it.key = 0;
		it.tag = i;
		CEP_ASSERT_OK(cep_heap_push(&h, &it));
	}
	cep_heap_filter(&h, keep_even, NULL);
	ck_assert_uint_eq(h.n, 500);
	while (h.n > 0) {
		cep_heap_pop(&h, &got);
		ck_assert_uint_eq(got.tag % 2, 0);
		ck_assert(got.at >= prev);
		prev = got.at;
	}
	cep_heap_fini(&h);
}
END_TEST

START_TEST(push_reports_out_of_memory)
{
	cep_heap     h;
	struct small it = { 1, 2, 3 };

	cep_heap_init(&h, sizeof(struct small), small_less);
	cep_alloc_fail_after(1, 0);
	CEP_ASSERT_ERR(cep_heap_push(&h, &it), CEP_ENOMEM);
	cep_alloc_fail_after(0, 0);
	ck_assert_uint_eq(h.n, 0);
	CEP_ASSERT_OK(cep_heap_push(&h, &it));
	ck_assert_uint_eq(h.n, 1);
	cep_heap_fini(&h);
}
END_TEST

static Suite *
heap_suite(void)
{
	Suite *s = suite_create("heap");
	TCase *t = tcase_create("heap");

	tcase_add_test(t, pops_in_order_with_pushes_in_between);
	tcase_add_test(t, big_items_keep_their_bytes);
	tcase_add_test(t, filter_keeps_a_valid_heap);
	tcase_add_test(t, push_reports_out_of_memory);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(heap_suite)
