/* SPDX-License-Identifier: MIT */
/*
 * test_reorder.c: holding records until the watermark passes them
 * (cep/reorder.c): release in (time, sequence, arrival) order of what is
 * strictly older than the watermark, everything at +infinity, copies that
 * outlive the caller's events, errors, and save / load.
 */
#include <string.h>

#include "cep/reorder.h"
#include "tests/support/test_support.h"

/* A record of {"id": id} at time ts with sequence seq. */
static cep_record
rec(cep_event **ev, int id, int64_t ts, uint64_t seq)
{
	char       text[32];
	cep_record r;

	snprintf(text, sizeof(text), "{\"id\":%d}", id);
	*ev     = cep_test_event(text);
	r.ev    = *ev;
	r.ts    = ts;
	r.wm    = 0;
	r.seq   = seq;
	r.khash = (uint64_t) id * 11;
	return (r);
}

static void
hold(cep_reorder *r, int id, int64_t ts, uint64_t seq)
{
	cep_event *ev;
	cep_record x = rec(&ev, id, ts, seq);

	CEP_ASSERT_OK(cep_reorder_hold(r, &x));
	/* The held copy outlives the caller's event. */
	memset((char *) ev + sizeof(cep_event), 0xee,
	    ev->size - sizeof(cep_event));
	cep_event_unref(ev, NULL);
}

struct applied {
	char    text[256];
	int64_t wm;
	int     fail_id;
};

static cep_err
apply(void *arg, const cep_record *r)
{
	struct applied *a = arg;
	cep_val         v;
	size_t          len = strlen(a->text);

	cep_slot_val(
	    r->ev, cep_event_find(r->ev, cep_sym_intern_str("id")), &v);
	ck_assert_int_eq(r->wm, a->wm);
	ck_assert_uint_eq(r->khash, (uint64_t) v.u.i * 11);
	if (v.u.i == a->fail_id) {
		return (CEP_EIO);
	}
	snprintf(a->text + len, sizeof(a->text) - len, "%lld@%lld ",
	    (long long) v.u.i, (long long) r->ts);
	return (CEP_OK);
}

static const char *
release(cep_reorder *r, int64_t wm)
{
	static struct applied a;

	memset(&a, 0, sizeof(a));
	a.wm      = wm;
	a.fail_id = -1;
	CEP_ASSERT_OK(cep_reorder_release(r, wm, apply, &a));
	return (a.text);
}

START_TEST(records_older_than_the_watermark_come_out_in_order)
{
	cep_reorder r;

	CEP_ASSERT_OK(cep_reorder_init(&r));
	hold(&r, 1, 30, 1);
	hold(&r, 2, 10, 5);
	hold(&r, 3, 10, 2);
	hold(&r, 4, 20, 3);
	hold(&r, 5, 10, 2); /* same time and sequence: by arrival */
	hold(&r, 6, 40, 6);
	ck_assert_str_eq(release(&r, 10), "");
	ck_assert_str_eq(release(&r, 20), "3@10 5@10 2@10 ");
	ck_assert_str_eq(release(&r, 31), "4@20 1@30 ");
	ck_assert_str_eq(release(&r, 39), "");
	ck_assert_str_eq(release(&r, CEP_WM_MAX), "6@40 ");
	ck_assert_str_eq(release(&r, CEP_WM_MAX), "");
	cep_reorder_fini(&r);
}
END_TEST

START_TEST(the_last_watermark_releases_even_the_largest_time)
{
	cep_reorder r;

	CEP_ASSERT_OK(cep_reorder_init(&r));
	hold(&r, 1, INT64_MAX, 1);
	hold(&r, 2, INT64_MIN, 2);
	ck_assert_str_eq(release(&r, INT64_MIN), "");
	ck_assert_str_eq(release(&r, INT64_MAX),
	    "2@-9223372036854775808 1@9223372036854775807 ");
	cep_reorder_fini(&r);
}
END_TEST

START_TEST(an_apply_error_stops_the_release_and_keeps_the_rest)
{
	cep_reorder    r;
	struct applied a;

	CEP_ASSERT_OK(cep_reorder_init(&r));
	hold(&r, 1, 1, 1);
	hold(&r, 2, 2, 2);
	hold(&r, 3, 3, 3);
	memset(&a, 0, sizeof(a));
	a.wm      = 10;
	a.fail_id = 2;
	CEP_ASSERT_ERR(cep_reorder_release(&r, 10, apply, &a), CEP_EIO);
	ck_assert_str_eq(a.text, "1@1 ");
	ck_assert_str_eq(release(&r, 10), "3@3 ");
	cep_reorder_fini(&r);
}
END_TEST

START_TEST(held_records_survive_save_and_load_in_their_order)
{
	cep_reorder a, b;
	cep_buf     buf;
	cep_rd      rd;

	CEP_ASSERT_OK(cep_reorder_init(&a));
	CEP_ASSERT_OK(cep_reorder_init(&b));
	hold(&a, 1, 5, 7);
	hold(&a, 2, 5, 7);
	hold(&a, 3, 4, 9);
	cep_buf_init(&buf);
	CEP_ASSERT_OK(cep_reorder_save(&a, &buf));
	cep_rd_init(&rd, buf.data, buf.len);
	CEP_ASSERT_OK(cep_reorder_load(&b, &rd));
	ck_assert_uint_eq(cep_rd_left(&rd), 0);
	/* A record held after the load with an equal time and sequence
	 * arrived later than the loaded ones. */
	hold(&b, 4, 5, 7);
	ck_assert_str_eq(release(&b, 6), "3@4 1@5 2@5 4@5 ");
	ck_assert_str_eq(release(&a, 6), "3@4 1@5 2@5 ");
	cep_buf_fini(&buf);
	cep_reorder_fini(&a);
	cep_reorder_fini(&b);
}
END_TEST

/* apply_any accepts whatever damaged bytes decoded to. */
static cep_err
apply_any(void *arg, const cep_record *r)
{
	(void) arg;
	ck_assert_ptr_nonnull(r->ev);
	return (CEP_OK);
}

START_TEST(loading_damaged_bytes_fails_without_leaking)
{
	cep_reorder a;
	cep_buf     buf;
	uint64_t    seed = 99;

	CEP_ASSERT_OK(cep_reorder_init(&a));
	hold(&a, 1, 5, 7);
	hold(&a, 2, 6, 8);
	cep_buf_init(&buf);
	CEP_ASSERT_OK(cep_reorder_save(&a, &buf));
	for (size_t cut = 0; cut < buf.len; cut++) {
		cep_reorder b;
		cep_rd      rd;
		CEP_ASSERT_OK(cep_reorder_init(&b));
		cep_rd_init(&rd, buf.data, cut);
		ck_assert_int_ne(cep_reorder_load(&b, &rd), CEP_OK);
		cep_reorder_fini(&b);
	}
	for (int i = 0; i < 2000; i++) {
		uint8_t     copy[512];
		size_t      n;
		cep_reorder b;
		cep_rd      rd;
		ck_assert_uint_le(buf.len, sizeof(copy));
		memcpy(copy, buf.data, buf.len);
		n = cep_test_mutate(copy, buf.len, NULL, &seed);
		CEP_ASSERT_OK(cep_reorder_init(&b));
		cep_rd_init(&rd, copy, n);
		if (cep_reorder_load(&b, &rd) == CEP_OK) {
			CEP_ASSERT_OK(cep_reorder_release(
			    &b, CEP_WM_MAX, apply_any, NULL));
		}
		cep_reorder_fini(&b);
	}
	cep_buf_fini(&buf);
	cep_reorder_fini(&a);
}
END_TEST

static Suite *
reorder_suite(void)
{
	Suite *s = suite_create("reorder");
	TCase *t = tcase_create("reorder");

	tcase_add_test(t, records_older_than_the_watermark_come_out_in_order);
	tcase_add_test(t, the_last_watermark_releases_even_the_largest_time);
	tcase_add_test(t, an_apply_error_stops_the_release_and_keeps_the_rest);
	tcase_add_test(t, held_records_survive_save_and_load_in_their_order);
	tcase_add_test(t, loading_damaged_bytes_fails_without_leaking);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(reorder_suite)
