/* SPDX-License-Identifier: MIT */
/*
 * test_match.c: match records (nfa_match_build) and match ids
 * (nfa_match_id).
 */
#include <ctype.h>
#include <string.h>

#include "tests/support/matcher_support.h"

static const char *const yaml = "patterns:\n"
                                "  - name: card-testing\n"
                                "    key: card\n"
                                "    sequence:\n"
                                "      - begin: small\n"
                                "        where: amount < 2\n"
                                "        times: [1, 3]\n"
                                "      - followed_by: middle\n"
                                "        where: amount == 50\n"
                                "        optional: true\n"
                                "      - followed_by: big\n"
                                "        where: amount > 100\n"
                                "    emit:\n"
                                "      total: sum(small.amount)\n"
                                "      n: count(small)\n"
                                "      last_amount: amount\n"
                                "      first_card: first(small.card)\n"
                                "      none: first(middle.amount)\n"
                                "      broken: amount + card\n"
                                "      halves: sum(small.amount) / 2\n";

static nfa_prog    *prog;
static cep_event   *evs[4];
static nfa_scratch *scratch;
static cep_builder *b;

/* The match small:[e0,e1], big:[e3] with key "c-17" (sequences 10, 11,
 * 13; steps in acceptance order). */
static nfa_match_event mevs[3];
static cep_val         key;
static nfa_match       match;

static void
setup(void)
{
	prog   = mt_compile(yaml);
	evs[0] = cep_test_event(
	    "{\"id\":1,\"ts\":100,\"card\":\"c-17\",\"amount\":1.5}");
	evs[1] = cep_test_event(
	    "{\"id\":2,\"ts\":120,\"card\":\"c-17\",\"amount\":1}");
	evs[2] = cep_test_event(
	    "{\"id\":3,\"ts\":130,\"card\":\"c-17\",\"amount\":50}");
	evs[3] = cep_test_event(
	    "{\"id\":4,\"ts\":150,\"card\":\"c-17\",\"amount\":500}");
	scratch = nfa_scratch_create();
	b       = cep_builder_create();
	ck_assert(scratch != NULL && b != NULL);
	mevs[0]       = (nfa_match_event) { evs[0], 100, 10, 0 };
	mevs[1]       = (nfa_match_event) { evs[1], 120, 11, 0 };
	mevs[2]       = (nfa_match_event) { evs[3], 150, 13, 2 };
	key           = cep_val_str("c-17", 4);
	match.prog    = prog;
	match.key     = &key;
	match.timeout = 0;
	match.nevents = 3;
	match.events  = mevs;
}

static void
teardown(void)
{
	for (int i = 0; i < 4; i++) {
		cep_event_unref(evs[i], NULL);
	}
	nfa_scratch_destroy(scratch);
	cep_builder_destroy(b);
	nfa_prog_unref(prog);
}

/* get reads a top-level field of a record. */
static cep_val
get(const cep_event *rec, const char *name)
{
	cep_val v;

	ck_assert_msg(
	    cep_map_get(rec, cep_event_root(rec), name, strlen(name), &v),
	    "no field %s", name);
	return (v);
}

static int
has(const cep_event *rec, const char *name)
{
	cep_val v;

	return (cep_map_get(rec, cep_event_root(rec), name, strlen(name), &v));
}

/* field reads name of the map value m. */
static cep_val
field(const cep_val *m, const char *name)
{
	cep_val v;

	ck_assert_int_eq(m->type, CEP_T_MAP);
	ck_assert_msg(
	    cep_map_get(m->u.c.ev, cep_event_cont(m->u.c.ev, m->u.c.off), name,
	        strlen(name), &v),
	    "no field %s", name);
	return (v);
}

/* keys lists the names of map m in order, comma-separated (static). */
static const char *
keys(const cep_val *m)
{
	static char  text[512];
	cep_map_iter it;
	const char  *name;
	size_t       len, used = 0;
	cep_val      v;

	text[0] = '\0';
	cep_map_iter_init(
	    &it, m->u.c.ev, cep_event_cont(m->u.c.ev, m->u.c.off));
	while (cep_map_iter_next(&it, &name, &len, &v)) {
		used += (size_t) snprintf(text + used, sizeof(text) - used,
		    "%s%.*s", used > 0 ? "," : "", (int) len, name);
	}
	return (text);
}

/* ids lists the "id" fields of the events in array value a. */
static const char *
ids(const cep_val *a)
{
	static char     text[256];
	size_t          used = 0;
	const cep_slot *s;

	ck_assert_int_eq(a->type, CEP_T_ARRAY);
	s       = cep_cont_slots(cep_event_cont(a->u.c.ev, a->u.c.off));
	text[0] = '\0';
	for (uint32_t i = 0; i < a->len; i++) {
		cep_val e, id;
		cep_slot_val(a->u.c.ev, &s[i], &e);
		id = field(&e, "id");
		used += (size_t) snprintf(text + used, sizeof(text) - used,
		    "%s%lld", i > 0 ? "," : "", (long long) id.u.i);
	}
	return (text);
}

static cep_event *
build(void)
{
	cep_event *rec;

	CEP_ASSERT_OK(nfa_match_build(&match, b, scratch, NULL, &rec));
	return (rec);
}

START_TEST(a_record_has_pattern_key_start_end_match_emit_and_id)
{
	cep_event *rec = build();
	cep_val    v   = get(rec, "pattern");
	cep_val    root;

	ck_assert_int_eq(v.type, CEP_T_STR);
	ck_assert_str_eq(v.u.s, "card-testing");
	v = get(rec, "key");
	ck_assert_int_eq(v.type, CEP_T_STR);
	ck_assert_str_eq(v.u.s, "c-17");
	v = get(rec, "start");
	ck_assert_int_eq(v.type, CEP_T_INT);
	ck_assert_int_eq(v.u.i, 100);
	v = get(rec, "end");
	ck_assert_int_eq(v.type, CEP_T_INT);
	ck_assert_int_eq(v.u.i, 150);
	ck_assert(!has(rec, "timeout"));
	root.type    = CEP_T_MAP;
	root.u.c.ev  = rec;
	root.u.c.off = rec->root;
	ck_assert_str_eq(keys(&root), "pattern,key,start,end,match,emit,id");
	cep_event_unref(rec, NULL);
}
END_TEST

START_TEST(match_groups_events_by_step_in_pattern_order)
{
	cep_event *rec;
	cep_val    m, small;

	/* Accepted out of step order: big's event listed first. */
	nfa_match_event order[3] = { mevs[2], mevs[0], mevs[1] };
	match.events             = order;
	rec                      = build();
	m                        = get(rec, "match");
	/* middle took nothing: absent. */
	ck_assert_str_eq(keys(&m), "small,big");
	small = field(&m, "small");
	ck_assert_str_eq(ids(&small), "1,2");
	small = field(&m, "big");
	ck_assert_str_eq(ids(&small), "4");
	/* Events are copied whole. */
	small = field(&m, "small");
	{
		const cep_slot *s = cep_cont_slots(
		    cep_event_cont(small.u.c.ev, small.u.c.off));
		cep_val e, f;
		cep_slot_val(small.u.c.ev, &s[0], &e);
		ck_assert_str_eq(keys(&e), "id,ts,card,amount");
		f = field(&e, "amount");
		ck_assert_int_eq(f.type, CEP_T_DOUBLE);
		ck_assert(f.u.d == 1.5);
	}
	cep_event_unref(rec, NULL);
}
END_TEST

START_TEST(emit_values_are_computed_and_a_failing_one_is_null)
{
	cep_event *rec = build();
	cep_val    e   = get(rec, "emit");
	cep_val    v;

	ck_assert_str_eq(
	    keys(&e), "total,n,last_amount,first_card,none,broken,halves");
	v = field(&e, "total");
	ck_assert_int_eq(v.type, CEP_T_DOUBLE);
	ck_assert(v.u.d == 2.5);
	v = field(&e, "n");
	ck_assert_int_eq(v.type, CEP_T_INT);
	ck_assert_int_eq(v.u.i, 2);
	/* Bare names read the last event. */
	v = field(&e, "last_amount");
	ck_assert_int_eq(v.type, CEP_T_INT);
	ck_assert_int_eq(v.u.i, 500);
	v = field(&e, "first_card");
	ck_assert_int_eq(v.type, CEP_T_STR);
	ck_assert_str_eq(v.u.s, "c-17");
	/* A step without events: first() is null. */
	v = field(&e, "none");
	ck_assert_int_eq(v.type, CEP_T_NULL);
	/* A number plus a string fails at run time: null. */
	v = field(&e, "broken");
	ck_assert_int_eq(v.type, CEP_T_NULL);
	v = field(&e, "halves");
	ck_assert_int_eq(v.type, CEP_T_DOUBLE);
	ck_assert(v.u.d == 1.25);
	cep_event_unref(rec, NULL);
}
END_TEST

START_TEST(a_timed_out_match_says_so)
{
	cep_event *rec;
	cep_val    v;

	match.timeout = 1;
	match.nevents = 2;
	rec           = build();
	v             = get(rec, "timeout");
	ck_assert_int_eq(v.type, CEP_T_BOOL);
	ck_assert(v.u.b);
	v = get(rec, "end");
	ck_assert_int_eq(v.u.i, 120);
	v = get(rec, "match");
	ck_assert_str_eq(keys(&v), "small");
	cep_event_unref(rec, NULL);
}
END_TEST

START_TEST(the_id_is_32_hex_digits_and_matches_nfa_match_id)
{
	cep_event *rec = build();
	cep_val    v   = get(rec, "id");
	char       id[33];

	nfa_match_id(&match, id);
	ck_assert_uint_eq(strlen(id), 32);
	for (int i = 0; i < 32; i++) {
		ck_assert(isxdigit((unsigned char) id[i]) &&
		    !isupper((unsigned char) id[i]));
	}
	ck_assert_int_eq(v.type, CEP_T_STR);
	ck_assert_uint_eq(v.len, 32);
	ck_assert_str_eq(v.u.s, id);
	cep_event_unref(rec, NULL);
}
END_TEST

START_TEST(ids_are_deterministic_and_tell_matches_apart)
{
	char            a[33], c[33];
	nfa_match_event other[3];
	nfa_match       m2 = match;

	nfa_match_id(&match, a);
	nfa_match_id(&match, c);
	ck_assert_str_eq(a, c);
	/* The same sequences with other payloads and times: the same id
	 * (a replay of the same input). */
	memcpy(other, mevs, sizeof(other));
	other[0].ev = evs[2];
	other[0].ts = 1;
	m2.events   = other;
	nfa_match_id(&m2, c);
	ck_assert_str_eq(a, c);
	m2.events = mevs;
	/* The timeout flag. */
	m2.timeout = 1;
	nfa_match_id(&m2, c);
	ck_assert_str_ne(a, c);
	m2.timeout = 0;
	/* Another event. */
	memcpy(other, mevs, sizeof(other));
	other[1].seq = 12;
	m2.events    = other;
	nfa_match_id(&m2, c);
	ck_assert_str_ne(a, c);
	/* One event fewer. */
	m2.events  = mevs;
	m2.nevents = 2;
	nfa_match_id(&m2, c);
	ck_assert_str_ne(a, c);
	/* The same events under another step. */
	memcpy(other, mevs, sizeof(other));
	other[1].step = 1;
	m2.events     = other;
	m2.nevents    = 3;
	nfa_match_id(&m2, c);
	ck_assert_str_ne(a, c);
}
END_TEST

START_TEST(ids_are_stable_across_versions)
{
	char id[33];

	/* Consumers drop duplicates by id across restarts and upgrades:
	 * the id of a given match must not change. */
	nfa_match_id(&match, id);
	ck_assert_str_eq(id, "b24d1c9ef8e7ace80f6372c3b9748a31");
	match.timeout = 1;
	nfa_match_id(&match, id);
	ck_assert_str_eq(id, "a97090664467c31f0215cc83239dfb9e");
}
END_TEST

START_TEST(the_id_needs_no_memory)
{
	char want[33], got[33];

	nfa_match_id(&match, want);
	cep_alloc_fail_after(1, 1);
	nfa_match_id(&match, got);
	cep_alloc_fail_after(0, 0);
	ck_assert_str_eq(got, want);
}
END_TEST

START_TEST(ids_differ_between_patterns)
{
	nfa_prog *q  = mt_compile("patterns:\n  - name: other\n    key: card\n"
	                           "    sequence:\n      - begin: small\n"
	                           "      - followed_by: middle\n"
	                           "      - followed_by: big\n");
	nfa_match m2 = match;
	char      a[33], c[33];

	m2.prog = q;
	nfa_match_id(&match, a);
	nfa_match_id(&m2, c);
	ck_assert_str_ne(a, c);
	nfa_prog_unref(q);
}
END_TEST

START_TEST(an_unkeyed_match_has_a_null_key)
{
	nfa_prog  *q   = mt_compile("patterns:\n  - name: u\n    sequence:\n"
	                               "      - begin: small\n");
	cep_val    nul = cep_val_null();
	nfa_match  m2  = match;
	cep_event *rec;
	cep_val    v;

	m2.prog    = q;
	m2.key     = &nul;
	m2.nevents = 1;
	CEP_ASSERT_OK(nfa_match_build(&m2, b, scratch, NULL, &rec));
	v = get(rec, "key");
	ck_assert_int_eq(v.type, CEP_T_NULL);
	ck_assert(!has(rec, "emit"));
	cep_event_unref(rec, NULL);
	nfa_prog_unref(q);
}
END_TEST

START_TEST(other_key_types_are_kept)
{
	cep_val    keys_[3] = { cep_val_int(-7), cep_val_bool(1),
		   cep_val_double(2.5) };
	cep_event *rec;
	cep_val    v;

	for (int i = 0; i < 3; i++) {
		match.key = &keys_[i];
		rec       = build();
		v         = get(rec, "key");
		ck_assert(cep_val_equal(&v, &keys_[i]));
		cep_event_unref(rec, NULL);
	}
}
END_TEST

START_TEST(an_empty_match_has_null_start_and_end)
{
	cep_event *rec;
	cep_val    v;

	match.nevents = 0;
	rec           = build();
	v             = get(rec, "start");
	ck_assert_int_eq(v.type, CEP_T_NULL);
	v = get(rec, "end");
	ck_assert_int_eq(v.type, CEP_T_NULL);
	v = get(rec, "match");
	ck_assert_str_eq(keys(&v), "");
	cep_event_unref(rec, NULL);
}
END_TEST

START_TEST(records_go_to_the_slab_when_given_one)
{
	cep_slab  *slab = cep_slab_create();
	cep_event *rec;

	CEP_ASSERT_OK(nfa_match_build(&match, b, scratch, slab, &rec));
	ck_assert(rec->flags & CEP_EVF_SLAB);
	cep_event_unref(rec, slab);
	cep_slab_destroy(slab);
}
END_TEST

START_TEST(build_survives_allocation_failure)
{
	cep_event *want = build();
	int        ok   = 0;

	for (uint64_t n = 1; !ok; n++) {
		cep_event *rec = NULL;
		cep_err    rv;
		cep_alloc_fail_after(n, 1);
		rv = nfa_match_build(&match, b, scratch, NULL, &rec);
		cep_alloc_fail_after(0, 0);
		if (rv == CEP_OK) {
			ck_assert_uint_eq(rec->size, want->size);
			cep_event_unref(rec, NULL);
			ok = 1;
		} else {
			CEP_ASSERT_ERR(rv, CEP_ENOMEM);
			ck_assert_ptr_null(rec);
		}
		ck_assert_uint_lt(n, 10000);
	}
	cep_event_unref(want, NULL);
	/* The builder is usable afterwards. */
	want = build();
	cep_event_unref(want, NULL);
}
END_TEST

static Suite *
match_suite(void)
{
	Suite *s = suite_create("match");
	TCase *t = tcase_create("build");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(
	    t, a_record_has_pattern_key_start_end_match_emit_and_id);
	tcase_add_test(t, match_groups_events_by_step_in_pattern_order);
	tcase_add_test(t, emit_values_are_computed_and_a_failing_one_is_null);
	tcase_add_test(t, a_timed_out_match_says_so);
	tcase_add_test(t, an_unkeyed_match_has_a_null_key);
	tcase_add_test(t, other_key_types_are_kept);
	tcase_add_test(t, an_empty_match_has_null_start_and_end);
	tcase_add_test(t, records_go_to_the_slab_when_given_one);
	tcase_add_test(t, build_survives_allocation_failure);
	suite_add_tcase(s, t);
	t = tcase_create("id");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, the_id_is_32_hex_digits_and_matches_nfa_match_id);
	tcase_add_test(t, ids_are_deterministic_and_tell_matches_apart);
	tcase_add_test(t, ids_differ_between_patterns);
	tcase_add_test(t, ids_are_stable_across_versions);
	tcase_add_test(t, the_id_needs_no_memory);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(match_suite)
