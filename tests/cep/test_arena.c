/* SPDX-License-Identifier: MIT */
/*
 * test_arena.c: reference-counted bump allocation (cep/arena.c):
 * alignment, chunk chaining and big blocks, what contains() recognizes,
 * reset keeping the first chunk, and references dropped on other threads.
 */
#include <pthread.h>
#include <string.h>

#include "cep/arena.h"
#include "tests/support/test_support.h"

START_TEST(allocations_are_aligned_and_contained)
{
	cep_arena *a    = cep_arena_create();
	char      *prev = NULL;
	int        outside;

	ck_assert_ptr_nonnull(a);
	ck_assert_uint_gt(cep_arena_bytes(a), 0);
	for (size_t n = 1; n < 200; n++) {
		char *p = cep_arena_alloc(a, n);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t) p % 16, 0);
		ck_assert(cep_arena_contains(a, p));
		ck_assert(cep_arena_contains(a, p + n - 1));
		if (prev != NULL) {
			ck_assert_ptr_ne(p, prev);
		}
		memset(p, 0xab, n);
		prev = p;
	}
	ck_assert(!cep_arena_contains(a, &outside));
	cep_arena_unref(a);
	cep_arena_unref(NULL);
}
END_TEST

START_TEST(a_full_chunk_chains_a_new_one_and_big_blocks_fit)
{
	cep_arena *a     = cep_arena_create();
	size_t     first = cep_arena_bytes(a);
	char      *small, *big;

	/* Fill well past one chunk with small blocks... */
	for (int i = 0; i < 40000; i++) {
		small = cep_arena_alloc(a, 24);
		ck_assert_ptr_nonnull(small);
		small[0] = 1;
	}
	ck_assert_uint_gt(cep_arena_bytes(a), first);
	/* ...and take a block bigger than a chunk. */
	big = cep_arena_alloc(a, 3u << 20);
	ck_assert_ptr_nonnull(big);
	memset(big, 0, 3u << 20);
	ck_assert(cep_arena_contains(a, big + (3u << 20) - 1));
	ck_assert(cep_arena_contains(a, small));
	/* Reset keeps only the first chunk: the others are gone. */
	cep_arena_reset(a);
	ck_assert_uint_eq(cep_arena_bytes(a), first);
	ck_assert(!cep_arena_contains(a, big));
	small = cep_arena_alloc(a, 24);
	ck_assert(cep_arena_contains(a, small));
	cep_arena_unref(a);
}
END_TEST

START_TEST(the_last_reference_frees_and_alone_says_who_holds)
{
	cep_arena *a = cep_arena_create();

	ck_assert(cep_arena_alone(a));
	cep_arena_ref(a);
	cep_arena_ref(a);
	ck_assert(!cep_arena_alone(a));
	cep_arena_unref(a);
	ck_assert(!cep_arena_alone(a));
	cep_arena_unref(a);
	ck_assert(cep_arena_alone(a));
	cep_arena_unref(a); /* freed: the leak checker would say otherwise */
}
END_TEST

/* Threads drop references to arenas whose blocks they read, as workers
 * do with the batches they were sent. */
struct handoff {
	cep_arena     *a;
	const uint8_t *block;
	size_t         n;
	uint64_t       sum;
};

static void *
reader(void *arg)
{
	struct handoff *h = arg;

	for (size_t i = 0; i < h->n; i++) {
		h->sum += h->block[i];
	}
	cep_arena_unref(h->a);
	return (NULL);
}

START_TEST(references_dropped_on_other_threads)
{
	enum { ROUNDS = 200, READERS = 4 };

	for (int round = 0; round < ROUNDS; round++) {
		cep_arena     *a = cep_arena_create();
		uint8_t       *p = cep_arena_alloc(a, 4096);
		pthread_t      t[READERS];
		struct handoff h[READERS];

		ck_assert_ptr_nonnull(p);
		memset(p, 1, 4096);
		for (int i = 0; i < READERS; i++) {
			cep_arena_ref(a);
			h[i] = (struct handoff) { a, p, 4096, 0 };
			ck_assert_int_eq(
			    pthread_create(&t[i], NULL, reader, &h[i]), 0);
		}
		for (int i = 0; i < READERS; i++) {
			pthread_join(t[i], NULL);
			ck_assert_uint_eq(h[i].sum, 4096);
		}
		/* The owner is alone again and may reset and reuse it. */
		ck_assert(cep_arena_alone(a));
		cep_arena_reset(a);
		ck_assert_ptr_nonnull(cep_arena_alloc(a, 16));
		cep_arena_unref(a);
	}
}
END_TEST

START_TEST(creation_fails_cleanly_without_memory)
{
	for (uint64_t nth = 1; nth <= 2; nth++) {
		cep_alloc_fail_after(nth, 0);
		ck_assert_ptr_null(cep_arena_create());
		cep_alloc_fail_after(0, 0);
	}
	{
		cep_arena *a = cep_arena_create();
		cep_alloc_fail_after(1, 0);
		ck_assert_ptr_null(cep_arena_alloc(a, 1u << 20));
		cep_alloc_fail_after(0, 0);
		ck_assert_ptr_nonnull(cep_arena_alloc(a, 16));
		cep_arena_unref(a);
	}
}
END_TEST

static Suite *
arena_suite(void)
{
	Suite *s = suite_create("arena");
	TCase *t = tcase_create("arena");

	tcase_add_test(t, allocations_are_aligned_and_contained);
	tcase_add_test(t, a_full_chunk_chains_a_new_one_and_big_blocks_fit);
	tcase_add_test(t, the_last_reference_frees_and_alone_says_who_holds);
	tcase_add_test(t, references_dropped_on_other_threads);
	tcase_add_test(t, creation_fails_cleanly_without_memory);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(arena_suite)
