/* SPDX-License-Identifier: MIT */
/* test_event.c: the flat event block, its accessors and the builder. */
#include <stdlib.h>
#include <string.h>

#include "tests/support/test_support.h"

static cep_sym
sym(const char *s)
{
	return (cep_sym_intern_str(s));
}

static void
get(const cep_event *ev, const char *name, cep_val *v)
{
	cep_slot_val(ev, cep_event_find(ev, sym(name)), v);
}

START_TEST(built_event_holds_every_scalar_type)
{
	cep_event *ev = cep_test_event(
	    "{\"i\":-7,\"d\":2.5,\"s\":\"hey\",\"t\":true,\"f\":false,"
	    "\"n\":null}");
	cep_val v;

	get(ev, "i", &v);
	ck_assert_int_eq(v.type, CEP_T_INT);
	ck_assert_int_eq(v.u.i, -7);
	get(ev, "d", &v);
	ck_assert(v.type == CEP_T_DOUBLE && v.u.d == 2.5);
	get(ev, "s", &v);
	ck_assert_int_eq(v.type, CEP_T_STR);
	ck_assert_uint_eq(v.len, 3);
	ck_assert_str_eq(v.u.s, "hey");
	get(ev, "t", &v);
	ck_assert(v.type == CEP_T_BOOL && v.u.b);
	get(ev, "f", &v);
	ck_assert(v.type == CEP_T_BOOL && !v.u.b);
	get(ev, "n", &v);
	ck_assert_int_eq(v.type, CEP_T_NULL);
	get(ev, "missing", &v);
	ck_assert_int_eq(v.type, CEP_T_NULL);
	ck_assert_ptr_null(cep_event_find(ev, sym("missing")));
	CEP_ASSERT_OK(cep_event_verify(ev, ev->size, 64, NULL, NULL));
	cep_event_unref(ev, NULL);
}
END_TEST

START_TEST(paths_reach_into_nested_maps)
{
	cep_event *ev = cep_test_event(
	    "{\"src\":{\"geo\":{\"cc\":\"FR\"},\"ip\":\"1.2.3.4\"},"
	    "\"arr\":[1,{\"x\":2}]}");
	cep_sym path[3] = { sym("src"), sym("geo"), sym("cc") };
	cep_sym bad[2]  = { sym("arr"), sym("x") };
	cep_val v;

	cep_slot_val(ev, cep_event_find_path(ev, path, 3), &v);
	ck_assert_str_eq(v.u.s, "FR");
	ck_assert_ptr_null(cep_event_find_path(ev, bad, 2));
	get(ev, "arr", &v);
	ck_assert_int_eq(v.type, CEP_T_ARRAY);
	ck_assert_uint_eq(v.len, 2);
	cep_event_unref(ev, NULL);
}
END_TEST

START_TEST(a_repeated_name_keeps_the_last_value)
{
	cep_event   *ev = cep_test_event("{\"a\":1,\"b\":2,\"a\":3}");
	cep_map_iter it;
	const char  *name;
	size_t       len, n = 0;
	cep_val      v;

	get(ev, "a", &v);
	ck_assert_int_eq(v.u.i, 3);
	ck_assert_uint_ne(cep_event_root(ev)->flags & CEP_CONT_DUPS, 0);
	cep_map_iter_init(&it, ev, cep_event_root(ev));
	while (cep_map_iter_next(&it, &name, &len, &v)) {
		n++;
		if (strcmp(name, "a") == 0) {
			ck_assert_int_eq(v.u.i, 3);
		}
	}
	ck_assert_uint_eq(n, 2);
	cep_event_unref(ev, NULL);
}
END_TEST

START_TEST(names_refused_by_the_symbol_table_are_kept_inline)
{
	cep_builder *b = cep_builder_create();
	char         name[CEP_SYM_MAX_LEN + 10];
	cep_event   *ev;
	cep_val      v;
	cep_map_iter it;
	const char  *got;
	size_t       len;

	memset(name, 'k', sizeof(name));
	CEP_ASSERT_OK(cep_builder_map_begin(b));
	CEP_ASSERT_OK(cep_builder_key(b, name, sizeof(name)));
	CEP_ASSERT_OK(cep_builder_int(b, 5));
	CEP_ASSERT_OK(cep_builder_end(b));
	CEP_ASSERT_OK(cep_builder_finish(b, NULL, &ev));
	ck_assert_uint_eq(cep_event_root(ev)->n, 1);
	ck_assert_uint_eq(cep_cont_fields(cep_event_root(ev))[0].sym,
	    CEP_SYM_NONE);
	ck_assert(cep_map_get(ev, cep_event_root(ev), name, sizeof(name), &v));
	ck_assert_int_eq(v.u.i, 5);
	cep_map_iter_init(&it, ev, cep_event_root(ev));
	ck_assert(cep_map_iter_next(&it, &got, &len, &v));
	ck_assert_uint_eq(len, sizeof(name));
	ck_assert_int_eq(memcmp(got, name, len), 0);
	CEP_ASSERT_OK(cep_event_verify(ev, ev->size, 64, NULL, NULL));
	cep_event_unref(ev, NULL);
	cep_builder_destroy(b);
}
END_TEST

START_TEST(the_root_must_be_one_closed_map)
{
	cep_builder *b = cep_builder_create();
	cep_event   *ev;

	CEP_ASSERT_ERR(cep_builder_int(b, 1), CEP_EPARSE);
	CEP_ASSERT_ERR(cep_builder_finish(b, NULL, &ev), CEP_EPARSE);
	CEP_ASSERT_ERR(cep_builder_array_begin(b), CEP_EPARSE);
	cep_builder_reset(b);
	CEP_ASSERT_OK(cep_builder_map_begin(b));
	CEP_ASSERT_ERR(cep_builder_finish(b, NULL, &ev), CEP_EPARSE);
	/* A value in a map needs a key first. */
	CEP_ASSERT_OK(cep_builder_map_begin(b));
	CEP_ASSERT_ERR(cep_builder_int(b, 1), CEP_EPARSE);
	/* The failure sticks until reset. */
	CEP_ASSERT_ERR(cep_builder_key(b, "a", 1), CEP_EPARSE);
	cep_builder_reset(b);
	CEP_ASSERT_OK(cep_builder_map_begin(b));
	CEP_ASSERT_OK(cep_builder_end(b));
	CEP_ASSERT_ERR(cep_builder_map_begin(b), CEP_EPARSE);
	cep_builder_destroy(b);
}
END_TEST

START_TEST(nesting_beyond_the_limit_fails_cleanly)
{
	cep_builder *b = cep_builder_create();
	cep_err      rv = CEP_OK;
	int          i;

	cep_builder_set_limits(b, 10, 0);
	CEP_ASSERT_OK(cep_builder_map_begin(b));
	CEP_ASSERT_OK(cep_builder_key(b, "a", 1));
	for (i = 0; i < 100 && rv == CEP_OK; i++) {
		rv = cep_builder_array_begin(b);
	}
	ck_assert_int_eq(rv, CEP_ELIMIT);
	ck_assert_int_eq(i, 10);
	cep_builder_destroy(b);
}
END_TEST

START_TEST(events_beyond_the_size_limit_fail_cleanly)
{
	cep_builder *b   = cep_builder_create();
	char        *big = malloc(100000);

	memset(big, 'x', 100000);
	cep_builder_set_limits(b, 0, 65536);
	CEP_ASSERT_OK(cep_builder_map_begin(b));
	CEP_ASSERT_OK(cep_builder_key(b, "a", 1));
	CEP_ASSERT_ERR(cep_builder_str(b, big, 100000), CEP_ELIMIT);
	free(big);
	cep_builder_destroy(b);
}
END_TEST

START_TEST(a_64k_string_survives_the_round_trip)
{
	cep_builder *b   = cep_builder_create();
	char        *big = malloc(65536);
	cep_event   *ev;
	cep_val      v;

	for (int i = 0; i < 65536; i++) {
		big[i] = (char) ('a' + i % 26);
	}
	CEP_ASSERT_OK(cep_builder_map_begin(b));
	CEP_ASSERT_OK(cep_builder_key(b, "big", 3));
	CEP_ASSERT_OK(cep_builder_str(b, big, 65536));
	CEP_ASSERT_OK(cep_builder_end(b));
	CEP_ASSERT_OK(cep_builder_finish(b, NULL, &ev));
	get(ev, "big", &v);
	ck_assert_uint_eq(v.len, 65536);
	ck_assert_int_eq(memcmp(v.u.s, big, 65536), 0);
	ck_assert_int_eq(v.u.s[65536], '\0');
	free(big);
	cep_event_unref(ev, NULL);
	cep_builder_destroy(b);
}
END_TEST

START_TEST(copies_and_nested_event_values_are_equal)
{
	cep_event   *ev   = cep_test_event("{\"a\":[1,\"x\",{\"b\":null}]}");
	cep_slab    *slab = cep_slab_create();
	cep_event   *copy = cep_event_copy(ev, slab);
	cep_builder *b    = cep_builder_create();
	cep_event   *wrap;
	cep_val      va, vb, inner;

	get(ev, "a", &va);
	get(copy, "a", &vb);
	ck_assert(cep_val_equal(&va, &vb));
	CEP_ASSERT_OK(cep_builder_map_begin(b));
	CEP_ASSERT_OK(cep_builder_key(b, "ev", 2));
	CEP_ASSERT_OK(cep_builder_event(b, ev));
	CEP_ASSERT_OK(cep_builder_end(b));
	CEP_ASSERT_OK(cep_builder_finish(b, NULL, &wrap));
	get(wrap, "ev", &inner);
	ck_assert_int_eq(inner.type, CEP_T_MAP);
	ck_assert(cep_map_get(wrap, cep_event_cont(wrap, inner.u.c.off), "a",
	    1, &vb));
	ck_assert(cep_val_equal(&va, &vb));
	cep_event_unref(copy, slab);
	cep_event_unref(ev, NULL);
	cep_event_unref(wrap, NULL);
	cep_slab_destroy(slab);
	cep_builder_destroy(b);
}
END_TEST

START_TEST(a_warm_builder_and_slab_allocate_nothing_per_event)
{
	cep_builder *b    = cep_builder_create();
	cep_slab    *slab = cep_slab_create();
	cep_event   *ev;

	for (int round = 0; round < 3; round++) {
		if (round == 2) {
			/* Any allocation from here on would fail. */
			cep_alloc_fail_after(1, 1);
		}
		for (int i = 0; i < 100; i++) {
			CEP_ASSERT_OK(cep_builder_map_begin(b));
			CEP_ASSERT_OK(cep_builder_key(b, "card_id", 7));
			CEP_ASSERT_OK(cep_builder_str(b, "c-12345", 7));
			CEP_ASSERT_OK(cep_builder_key(b, "amount", 6));
			CEP_ASSERT_OK(cep_builder_double(b, 1.5 * i));
			CEP_ASSERT_OK(cep_builder_end(b));
			CEP_ASSERT_OK(cep_builder_finish(b, slab, &ev));
			cep_event_unref(ev, slab);
		}
	}
	cep_alloc_fail_after(0, 0);
	cep_slab_destroy(slab);
	cep_builder_destroy(b);
}
END_TEST

START_TEST(verify_rejects_damaged_blocks_without_crashing)
{
	cep_event *ev = cep_test_event(
	    "{\"a\":\"some text\",\"b\":[1,2,{\"c\":\"d\"}],\"e\":1.5}");
	uint8_t   *copy = malloc(ev->size);
	unsigned   seed = 7, rejected = 0;

	CEP_ASSERT_OK(cep_event_verify(ev, ev->size, 64, NULL, NULL));
	CEP_ASSERT_ERR(cep_event_verify(ev, ev->size - 8, 64, NULL, NULL), CEP_ECORRUPT);
	CEP_ASSERT_ERR(cep_event_verify(ev, ev->size, 1, NULL, NULL), CEP_ECORRUPT);
	for (int i = 0; i < 20000; i++) {
		memcpy(copy, ev, ev->size);
		seed         = seed * 1103515245u + 12345u;
		size_t pos   = (seed >> 8) % ev->size;
		copy[pos] ^= (uint8_t) (1u << ((seed >> 4) % 8));
		rejected += cep_event_verify(copy, ev->size, 64, NULL, NULL) != CEP_OK;
	}
	ck_assert_uint_gt(rejected, 0);
	free(copy);
	cep_event_unref(ev, NULL);
}
END_TEST

static Suite *
event_suite(void)
{
	Suite *s = suite_create("event");
	TCase *t = tcase_create("event");

	tcase_add_test(t, built_event_holds_every_scalar_type);
	tcase_add_test(t, paths_reach_into_nested_maps);
	tcase_add_test(t, a_repeated_name_keeps_the_last_value);
	tcase_add_test(t, names_refused_by_the_symbol_table_are_kept_inline);
	tcase_add_test(t, the_root_must_be_one_closed_map);
	tcase_add_test(t, nesting_beyond_the_limit_fails_cleanly);
	tcase_add_test(t, events_beyond_the_size_limit_fail_cleanly);
	tcase_add_test(t, a_64k_string_survives_the_round_trip);
	tcase_add_test(t, copies_and_nested_event_values_are_equal);
	tcase_add_test(t, a_warm_builder_and_slab_allocate_nothing_per_event);
	tcase_add_test(t, verify_rejects_damaged_blocks_without_crashing);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(event_suite)
