/* SPDX-License-Identifier: MIT */
/*
 * test_history.c: the pools of stored events and partial-match nodes:
 * reference counts, free-list reuse, long chains, allocation.
 */
#include <string.h>

#include "nfa/nfa_impl.h"
#include "tests/support/test_support.h"

static nfa_hist   h;
static cep_event *ev;

static void
setup(void)
{
	CEP_ASSERT_OK(nfa__hist_init(&h));
	ev = cep_test_event("{\"id\":1,\"kind\":\"a\",\"s\":\"hello\"}");
}

static void
teardown(void)
{
	nfa__hist_fini(&h);
	cep_event_unref(ev, NULL);
}

START_TEST(store_keeps_a_private_copy)
{
	uint32_t slot;

	CEP_ASSERT_OK(nfa__hist_store(&h, ev, 7, 42, &slot));
	ck_assert_uint_ne(slot, 0);
	ck_assert_ptr_ne(h.evs[slot].ev, ev);
	ck_assert_uint_eq(h.evs[slot].ev->size, ev->size);
	ck_assert_uint_eq(h.evs[slot].ev->root, ev->root);
	ck_assert_int_eq(
	    memcmp((const uint8_t *) h.evs[slot].ev + sizeof(cep_event),
	        (const uint8_t *) ev + sizeof(cep_event),
	        ev->size - sizeof(cep_event)),
	    0);
	ck_assert_int_eq(h.evs[slot].ts, 7);
	ck_assert_uint_eq(h.evs[slot].seq, 42);
	ck_assert_uint_eq(h.evs[slot].refs, 1);
	ck_assert_uint_eq(h.ev_live, 1);
	ck_assert_uint_eq(h.ev_bytes, ev->size);
	/* The caller's event is untouched and stays its own. */
	ck_assert_uint_eq(ev->refs, 1);
	nfa__hist_ev_unref(&h, slot);
	ck_assert_ptr_null(h.evs[slot].ev);
	ck_assert_uint_eq(h.ev_live, 0);
	ck_assert_uint_eq(h.ev_bytes, 0);
}
END_TEST

START_TEST(an_event_lives_while_referenced)
{
	uint32_t slot;

	CEP_ASSERT_OK(nfa__hist_store(&h, ev, 1, 1, &slot));
	nfa__hist_ev_ref(&h, slot);
	nfa__hist_ev_ref(&h, slot);
	ck_assert_uint_eq(h.evs[slot].refs, 3);
	nfa__hist_ev_unref(&h, slot);
	nfa__hist_ev_unref(&h, slot);
	ck_assert_ptr_nonnull(h.evs[slot].ev);
	ck_assert_uint_eq(h.ev_live, 1);
	nfa__hist_ev_unref(&h, slot);
	ck_assert_ptr_null(h.evs[slot].ev);
	ck_assert_uint_eq(h.ev_live, 0);
}
END_TEST

START_TEST(a_node_references_its_event_and_predecessor)
{
	uint32_t slot, first, second;

	CEP_ASSERT_OK(nfa__hist_store(&h, ev, 1, 1, &slot));
	CEP_ASSERT_OK(nfa__hist_node(&h, slot, 0, 3, &first));
	ck_assert_uint_ne(first, 0);
	ck_assert_uint_eq(h.nodes[first].refs, 1);
	ck_assert_uint_eq(h.nodes[first].ev, slot);
	ck_assert_uint_eq(h.nodes[first].prev, 0);
	ck_assert_uint_eq(h.nodes[first].step, 3);
	ck_assert_uint_eq(h.evs[slot].refs, 2);
	CEP_ASSERT_OK(nfa__hist_node(&h, slot, first, 4, &second));
	ck_assert_uint_eq(h.nodes[first].refs, 2);
	ck_assert_uint_eq(h.evs[slot].refs, 3);
	ck_assert_uint_eq(h.node_live, 2);
	/* The storing reference goes; the nodes keep the event. */
	nfa__hist_ev_unref(&h, slot);
	ck_assert_ptr_nonnull(h.evs[slot].ev);
	/* Dropping the first node's own reference keeps it for second. */
	nfa__hist_unref(&h, first);
	ck_assert_uint_eq(h.nodes[first].refs, 1);
	ck_assert_uint_eq(h.node_live, 2);
	/* Dropping the last node frees the whole chain and the event. */
	nfa__hist_unref(&h, second);
	ck_assert_uint_eq(h.node_live, 0);
	ck_assert_uint_eq(h.ev_live, 0);
	ck_assert_ptr_null(h.evs[slot].ev);
	nfa__hist_unref(&h, 0); /* ignored */
	nfa__hist_ref(&h, 0);   /* ignored */
	ck_assert_uint_eq(h.nodes[0].refs, 0);
}
END_TEST

START_TEST(branches_share_their_prefix)
{
	uint32_t slot, root, left, right;

	CEP_ASSERT_OK(nfa__hist_store(&h, ev, 1, 1, &slot));
	CEP_ASSERT_OK(nfa__hist_node(&h, slot, 0, 0, &root));
	CEP_ASSERT_OK(nfa__hist_node(&h, slot, root, 1, &left));
	CEP_ASSERT_OK(nfa__hist_node(&h, slot, root, 1, &right));
	nfa__hist_unref(&h, root);
	nfa__hist_ev_unref(&h, slot);
	ck_assert_uint_eq(h.nodes[root].refs, 2);
	nfa__hist_unref(&h, left);
	ck_assert_uint_eq(h.nodes[root].refs, 1);
	ck_assert_uint_eq(h.node_live, 2);
	ck_assert_uint_eq(h.ev_live, 1);
	nfa__hist_unref(&h, right);
	ck_assert_uint_eq(h.node_live, 0);
	ck_assert_uint_eq(h.ev_live, 0);
}
END_TEST

START_TEST(freed_entries_are_reused_before_the_pools_grow)
{
	uint32_t slots[8], nodes[8], again;
	uint32_t nevs, nnodes;

	for (int i = 0; i < 8; i++) {
		CEP_ASSERT_OK(
		    nfa__hist_store(&h, ev, i, (uint64_t) i, &slots[i]));
		CEP_ASSERT_OK(nfa__hist_node(&h, slots[i], 0, 0, &nodes[i]));
		nfa__hist_ev_unref(&h, slots[i]);
	}
	nevs   = h.nevs;
	nnodes = h.nnodes;
	/* Free 2 and 5; the last freed is reused first. */
	nfa__hist_unref(&h, nodes[2]);
	nfa__hist_unref(&h, nodes[5]);
	ck_assert_uint_eq(h.node_live, 6);
	ck_assert_uint_eq(h.ev_live, 6);
	CEP_ASSERT_OK(nfa__hist_store(&h, ev, 9, 9, &again));
	ck_assert_uint_eq(again, slots[5]);
	CEP_ASSERT_OK(nfa__hist_node(&h, again, 0, 0, &again));
	ck_assert_uint_eq(again, nodes[5]);
	CEP_ASSERT_OK(nfa__hist_store(&h, ev, 9, 10, &again));
	ck_assert_uint_eq(again, slots[2]);
	CEP_ASSERT_OK(nfa__hist_node(&h, again, 0, 0, &again));
	ck_assert_uint_eq(again, nodes[2]);
	ck_assert_uint_eq(h.nevs, nevs);
	ck_assert_uint_eq(h.nnodes, nnodes);
	/* The next ones grow the pools. */
	CEP_ASSERT_OK(nfa__hist_store(&h, ev, 9, 11, &again));
	ck_assert_uint_eq(again, nevs);
	ck_assert_uint_eq(h.nevs, nevs + 1);
	/* fini frees whatever is left (the leak checker watches). */
}
END_TEST

START_TEST(a_million_node_chain_is_freed_without_recursion)
{
	enum { N = 1000000 };
	uint32_t slot, node = 0;

	CEP_ASSERT_OK(nfa__hist_store(&h, ev, 1, 1, &slot));
	for (uint32_t i = 0; i < N; i++) {
		uint32_t next;
		CEP_ASSERT_OK(nfa__hist_node(&h, slot, node, 0, &next));
		nfa__hist_unref(&h, node); /* the chain holds it now */
		node = next;
	}
	nfa__hist_ev_unref(&h, slot);
	ck_assert_uint_eq(h.node_live, N);
	ck_assert_uint_eq(h.evs[slot].refs, N);
	/* A recursive free of a million nodes would overflow the stack. */
	nfa__hist_unref(&h, node);
	ck_assert_uint_eq(h.node_live, 0);
	ck_assert_uint_eq(h.ev_live, 0);
	/* And the free list holds them all for reuse. */
	CEP_ASSERT_OK(nfa__hist_store(&h, ev, 1, 1, &slot));
	for (uint32_t i = 0; i < N; i++) {
		uint32_t next;
		CEP_ASSERT_OK(nfa__hist_node(&h, slot, 0, 0, &next));
		ck_assert_uint_lt(next, h.nnodes);
	}
	ck_assert_uint_eq(h.nnodes, N + 1);
}
END_TEST

START_TEST(a_warm_history_allocates_nothing)
{
	uint32_t slot, node;

	/* Warm up: one event and one node of each kind in flight. */
	for (int i = 0; i < 4; i++) {
		CEP_ASSERT_OK(nfa__hist_store(&h, ev, i, (uint64_t) i, &slot));
		CEP_ASSERT_OK(nfa__hist_node(&h, slot, 0, 0, &node));
		nfa__hist_ev_unref(&h, slot);
		nfa__hist_unref(&h, node);
	}
	cep_alloc_fail_after(1, 1);
	for (int i = 0; i < 1000; i++) {
		cep_err a = nfa__hist_store(&h, ev, i, (uint64_t) i, &slot);
		cep_err b =
		    a == CEP_OK ? nfa__hist_node(&h, slot, 0, 0, &node) : a;
		if (a == CEP_OK) {
			nfa__hist_ev_unref(&h, slot);
		}
		if (b == CEP_OK) {
			nfa__hist_unref(&h, node);
		}
		if (a != CEP_OK || b != CEP_OK) {
			cep_alloc_fail_after(0, 0);
			ck_abort_msg("allocation at round %d", i);
		}
	}
	cep_alloc_fail_after(0, 0);
}
END_TEST

START_TEST(out_of_memory_leaves_the_pools_intact)
{
	uint32_t slot, node, got = 0;
	cep_err  rv;

	/* Fill the first chunks, then fail every growth. */
	CEP_ASSERT_OK(nfa__hist_store(&h, ev, 1, 1, &slot));
	for (uint64_t n = 1; n < 64; n++) {
		cep_alloc_fail_after(n, 1);
		rv = nfa__hist_node(&h, slot, 0, 0, &node);
		cep_alloc_fail_after(0, 0);
		if (rv == CEP_OK) {
			got++;
		} else {
			CEP_ASSERT_ERR(rv, CEP_ENOMEM);
		}
	}
	for (uint32_t i = 0; i < 200; i++) {
		cep_alloc_fail_after(1, 1);
		rv = nfa__hist_node(&h, slot, 0, 0, &node);
		cep_alloc_fail_after(0, 0);
		if (rv != CEP_OK) {
			CEP_ASSERT_ERR(rv, CEP_ENOMEM);
			break;
		}
		got++;
	}
	ck_assert_uint_eq(h.node_live, got);
	ck_assert_uint_eq(h.evs[slot].refs, got + 1);
	cep_alloc_fail_after(1, 1);
	rv = nfa__hist_store(&h, ev, 2, 2, &node);
	cep_alloc_fail_after(0, 0);
	CEP_ASSERT_ERR(rv, CEP_ENOMEM);
	ck_assert_uint_eq(h.ev_live, 1);
}
END_TEST

START_TEST(init_survives_out_of_memory)
{
	for (uint64_t n = 1; n < 8; n++) {
		nfa_hist t;
		cep_err  rv;
		cep_alloc_fail_after(n, 0);
		rv = nfa__hist_init(&t);
		cep_alloc_fail_after(0, 0);
		ck_assert(rv == CEP_OK || rv == CEP_ENOMEM);
		nfa__hist_fini(&t);
	}
}
END_TEST

START_TEST(adopt_takes_a_block_as_is)
{
	cep_event *copy = cep_event_copy(ev, h.slab);
	uint32_t   slot;

	ck_assert_ptr_nonnull(copy);
	CEP_ASSERT_OK(nfa__hist_adopt(&h, copy, 5, 6, &slot));
	ck_assert_ptr_eq(h.evs[slot].ev, copy);
	ck_assert_uint_eq(h.evs[slot].refs, 1);
	ck_assert_uint_eq(h.ev_bytes, copy->size);
	nfa__hist_ev_unref(&h, slot);
	ck_assert_uint_eq(h.ev_live, 0);
}
END_TEST

static Suite *
history_suite(void)
{
	Suite *s = suite_create("history");
	TCase *t = tcase_create("history");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 300); /* a million nodes under the sanitizers */
	tcase_add_test(t, store_keeps_a_private_copy);
	tcase_add_test(t, an_event_lives_while_referenced);
	tcase_add_test(t, a_node_references_its_event_and_predecessor);
	tcase_add_test(t, branches_share_their_prefix);
	tcase_add_test(t, freed_entries_are_reused_before_the_pools_grow);
	tcase_add_test(t, a_million_node_chain_is_freed_without_recursion);
	tcase_add_test(t, a_warm_history_allocates_nothing);
	tcase_add_test(t, out_of_memory_leaves_the_pools_intact);
	tcase_add_test(t, init_survives_out_of_memory);
	tcase_add_test(t, adopt_takes_a_block_as_is);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(history_suite)
