/* SPDX-License-Identifier: MIT */
/*
 * test_op_join.c: the interval join (cep/op_join.c): pairs with equal keys
 * and l.ts + lower <= r.ts <= l.ts + upper, both bounds included, negative
 * bounds, the pair's time, records forgotten once the watermark has passed
 * them, late records, user functions and their errors, and results that do
 * not depend on the number of workers.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/support/flow_support.h"

static int
is_side(void *arg, const cep_event *ev)
{
	cep_val v;

	cep_slot_val(ev, cep_event_find(ev, cep_sym_intern_str("side")), &v);
	return (v.type == CEP_T_STR && strcmp(v.u.s, arg) == 0);
}

/* pair_ids builds {"l": left.i, "r": right.i}; fails on right.i == 666. */
static cep_err
pair_ids(
    void *arg, const cep_event *left, const cep_event *right, cep_builder *b)
{
	cep_sym i = cep_sym_intern_str("i");
	cep_val l, r;

	(void) arg;
	cep_slot_val(left, cep_event_find(left, i), &l);
	cep_slot_val(right, cep_event_find(right, i), &r);
	if (r.type == CEP_T_INT && r.u.i == 666) {
		return (CEP_ERANGE);
	}
	cep_builder_map_begin(b);
	cep_builder_key(b, "l", 1);
	cep_builder_val(b, &l);
	cep_builder_key(b, "r", 1);
	cep_builder_val(b, &r);
	return (cep_builder_end(b));
}

struct join_run {
	cep_flow    *f;
	cep_test_out out;
	cep_test_out late;
	char        *path;
};

/* join_run joins the "L" and "R" events of text on key fields lk / rk
 * (sides split by filters after one time assigner of `delay`). */
static cep_err
join_run(struct join_run *j, const char *text, const char *lk, const char *rk,
    int64_t lower, int64_t upper, cep_join_fn fn, int64_t delay,
    unsigned workers, unsigned batch)
{
	cep_stream *s, *l, *r, *out;

	memset(j, 0, sizeof(*j));
	CEP_ASSERT_OK(cep_flow_create(&j->f));
	cep_test_out_init(&j->out, NULL);
	cep_test_out_init(&j->late, NULL);
	j->path = cep_test_tmp_write(text);
	s       = cep_flow_time(
	          cep_flow_file(j->f, j->path, CEP_FORMAT_JSONL), "ts", delay);
	s = cep_flow_op(&s, 1, &cep_test_shift_class, NULL);
	l = cep_flow_key_by(cep_flow_filter(s, is_side, "L"), lk);
	r = cep_flow_key_by(cep_flow_filter(s, is_side, "R"), rk);
	cep_flow_name_next(j->f, "join");
	out = cep_flow_join(l, r, lower, upper, fn, NULL);
	cep_flow_sink(out, cep_test_out_sink, &j->out);
	cep_flow_sink(cep_flow_side(out, "late"), cep_test_out_sink, &j->late);
	CEP_ASSERT_OK(cep_flow_error(j->f));
	return (cep_test_run_flow(j->f, workers, batch));
}

static void
join_fini(struct join_run *j)
{
	cep_flow_destroy(j->f);
	cep_test_out_fini(&j->out);
	cep_test_out_fini(&j->late);
	cep_test_tmp_remove(j->path);
}

START_TEST(both_bounds_of_the_interval_are_included)
{
	struct join_run j;

	/* l at 100, [lower, upper] = [-2, 3]: rights at 98..103 join. */
	CEP_ASSERT_OK(join_run(&j,
	    "{\"side\":\"L\",\"k\":1,\"i\":1,\"ts\":100}\n"
	    "{\"side\":\"R\",\"k\":1,\"i\":97,\"ts\":97}\n"
	    "{\"side\":\"R\",\"k\":1,\"i\":98,\"ts\":98}\n"
	    "{\"side\":\"R\",\"k\":1,\"i\":103,\"ts\":103}\n"
	    "{\"side\":\"R\",\"k\":1,\"i\":104,\"ts\":104}\n"
	    "{\"side\":\"R\",\"k\":2,\"i\":100,\"ts\":100}\n",
	    "k", "k", -2, 3, pair_ids, 1000, 1, 0));
	ck_assert_str_eq(cep_test_out_text(&j.out, 0),
	    "{\"l\":1,\"r\":98}\n{\"l\":1,\"r\":103}\n");
	/* The pair's time is the later of the two. */
	ck_assert_int_eq(j.out.r[0].ts, 100);
	ck_assert_int_eq(j.out.r[1].ts, 103);
	join_fini(&j);
}
END_TEST

START_TEST(a_right_record_first_joins_a_later_left_one)
{
	struct join_run j;

	/* Rights before the left, in arrival and in time. */
	CEP_ASSERT_OK(join_run(&j,
	    "{\"side\":\"R\",\"k\":1,\"i\":97,\"ts\":97}\n"
	    "{\"side\":\"R\",\"k\":1,\"i\":98,\"ts\":98}\n"
	    "{\"side\":\"L\",\"k\":1,\"i\":1,\"ts\":100}\n"
	    "{\"side\":\"R\",\"k\":1,\"i\":103,\"ts\":103}\n",
	    "k", "k", -2, 3, pair_ids, 1000, 3, 1));
	ck_assert_str_eq(cep_test_out_text(&j.out, 0),
	    "{\"l\":1,\"r\":98}\n{\"l\":1,\"r\":103}\n");
	join_fini(&j);
}
END_TEST

START_TEST(negative_bounds_join_only_earlier_right_records)
{
	struct join_run j;

	/* [-10, -5] around l at 100: 90..95. */
	CEP_ASSERT_OK(join_run(&j,
	    "{\"side\":\"R\",\"k\":\"a\",\"i\":89,\"ts\":89}\n"
	    "{\"side\":\"R\",\"k\":\"a\",\"i\":90,\"ts\":90}\n"
	    "{\"side\":\"R\",\"k\":\"a\",\"i\":95,\"ts\":95}\n"
	    "{\"side\":\"R\",\"k\":\"a\",\"i\":96,\"ts\":96}\n"
	    "{\"side\":\"L\",\"k\":\"a\",\"i\":1,\"ts\":100}\n"
	    "{\"side\":\"R\",\"k\":\"a\",\"i\":100,\"ts\":100}\n",
	    "k", "k", -10, -5, pair_ids, 1000, 2, 0));
	ck_assert_str_eq(cep_test_out_text(&j.out, 0),
	    "{\"l\":1,\"r\":90}\n{\"l\":1,\"r\":95}\n");
	ck_assert_int_eq(j.out.r[0].ts, 100);
	join_fini(&j);
}
END_TEST

START_TEST(keys_may_come_from_different_fields_and_must_be_equal)
{
	struct join_run j;

	CEP_ASSERT_OK(join_run(&j,
	    "{\"side\":\"L\",\"user\":\"u1\",\"i\":1,\"ts\":10}\n"
	    "{\"side\":\"L\",\"user\":\"u2\",\"i\":2,\"ts\":10}\n"
	    "{\"side\":\"R\",\"uid\":\"u1\",\"i\":3,\"ts\":10}\n"
	    "{\"side\":\"R\",\"uid\":\"u3\",\"i\":4,\"ts\":10}\n"
	    "{\"side\":\"R\",\"user\":\"u2\",\"i\":5,\"ts\":10}\n",
	    "user", "uid", 0, 0, pair_ids, 0, 2, 0));
	ck_assert_str_eq(cep_test_out_text(&j.out, 0), "{\"l\":1,\"r\":3}\n");
	join_fini(&j);
}
END_TEST

START_TEST(without_a_function_the_pair_is_left_and_right)
{
	struct join_run j;

	CEP_ASSERT_OK(join_run(&j,
	    "{\"side\":\"L\",\"k\":1,\"ts\":5}\n"
	    "{\"side\":\"R\",\"k\":1.0,\"ts\":6,\"x\":[1]}\n",
	    "k", "k", 0, 1, NULL, 0, 1, 0));
	ck_assert_str_eq(cep_test_out_text(&j.out, 0),
	    "{\"left\":{\"side\":\"L\",\"k\":1,\"ts\":5},"
	    "\"right\":{\"side\":\"R\",\"k\":1.0,\"ts\":6,\"x\":[1]}}\n");
	join_fini(&j);
}
END_TEST

START_TEST(records_behind_the_join_watermark_are_late)
{
	struct join_run j;

	/* After l at 100 (delay 10) the watermark is 90; a right moved back
	 * to 89 is late, one moved to 90 joins (bounds [-20, 20]). */
	CEP_ASSERT_OK(join_run(&j,
	    "{\"side\":\"L\",\"k\":1,\"i\":1,\"ts\":100}\n"
	    "{\"side\":\"R\",\"k\":1,\"i\":2,\"ts\":100,\"back\":11}\n"
	    "{\"side\":\"R\",\"k\":1,\"i\":3,\"ts\":100,\"back\":10}\n",
	    "k", "k", -20, 20, pair_ids, 10, 1, 1));
	ck_assert_str_eq(cep_test_out_text(&j.out, 0), "{\"l\":1,\"r\":3}\n");
	ck_assert_str_eq(cep_test_out_text(&j.late, 0),
	    "{\"side\":\"R\",\"k\":1,\"i\":2,\"ts\":100,\"back\":11}\n");
	ck_assert_int_eq(j.late.r[0].ts, 89);
	join_fini(&j);
}
END_TEST

START_TEST(a_join_function_error_stops_the_run)
{
	struct join_run j;

	CEP_ASSERT_ERR(join_run(&j,
	                   "{\"side\":\"L\",\"k\":1,\"i\":1,\"ts\":1}\n"
	                   "{\"side\":\"R\",\"k\":1,\"i\":2,\"ts\":1}\n"
	                   "{\"side\":\"R\",\"k\":1,\"i\":666,\"ts\":1}\n"
	                   "{\"side\":\"R\",\"k\":1,\"i\":3,\"ts\":1}\n",
	                   "k", "k", 0, 0, pair_ids, 0, 2, 1),
	    CEP_ERANGE);
	ck_assert_uint_eq(j.out.n, 1);
	join_fini(&j);
}
END_TEST

/* count_entries counts a namespace's entries and those of its keys. */
static cep_err
count_entry(
    void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	size_t *n = arg;

	(void) key;
	(void) val;
	(void) vlen;
	n[klen == 0 ? 0 : 1]++;
	return (CEP_OK);
}

/* keys_kept runs the join until the event numbered stop_at (a sink on
 * the source stops the run there), saves it and counts the keys whose
 * records it still holds. */
static size_t
keys_kept(const char *text, unsigned stop_at, int64_t lower, int64_t upper)
{
	cep_flow      *f    = NULL;
	char          *p    = cep_test_tmp_write(text);
	cep_state_mem *m    = cep_state_mem_create();
	cep_state_out  so   = cep_state_mem_out(m);
	cep_state_in   si   = cep_state_mem_in(m);
	size_t         n[2] = { 0, 0 };
	cep_test_out   seen, pairs;
	cep_stream    *s, *l, *r;

	CEP_ASSERT_OK(cep_flow_create(&f));
	cep_test_out_init(&seen, NULL);
	cep_test_out_init(&pairs, NULL);
	seen.stop_after = stop_at;
	seen.flow       = f;
	s = cep_flow_time(cep_flow_file(f, p, CEP_FORMAT_JSONL), "ts", 0);
	cep_flow_sink(s, cep_test_out_sink, &seen);
	l = cep_flow_key_by(cep_flow_filter(s, is_side, "L"), "k");
	r = cep_flow_key_by(cep_flow_filter(s, is_side, "R"), "k");
	cep_flow_name_next(f, "join");
	cep_flow_sink(cep_flow_join(l, r, lower, upper, NULL, NULL),
	    cep_test_out_sink, &pairs);
	CEP_ASSERT_OK(cep_test_run_flow(f, 2, 1));
	CEP_ASSERT_OK(cep_flow_save(f, &so));
	for (unsigned w = 0; w < 2; w++) {
		char ns[32];
		snprintf(ns, sizeof(ns), "join/%u", w);
		CEP_ASSERT_OK(cep_state_each(&si, ns, count_entry, n));
	}
	ck_assert_uint_eq(n[0], 2); /* each worker's watermark */
	cep_flow_destroy(f);
	cep_state_mem_destroy(m);
	cep_test_out_fini(&seen);
	cep_test_out_fini(&pairs);
	cep_test_tmp_remove(p);
	return (n[1]);
}

START_TEST(records_are_forgotten_once_the_watermark_passes_their_reach)
{
	/* A left at 0 can meet rights up to 0 + upper = 10: it is kept while
	 * the watermark is at most 10 and forgotten once it is 11.  A right
	 * at 0 with lower = -10 can meet lefts up to 10 alike. */
	const char *left  = "{\"side\":\"L\",\"k\":\"a\",\"ts\":0}\n"
	                    "{\"side\":\"X\",\"k\":\"b\",\"ts\":10}\n"
	                    "{\"side\":\"X\",\"k\":\"b\",\"ts\":11}\n";
	const char *right = "{\"side\":\"R\",\"k\":\"a\",\"ts\":0}\n"
	                    "{\"side\":\"X\",\"k\":\"b\",\"ts\":10}\n"
	                    "{\"side\":\"X\",\"k\":\"b\",\"ts\":11}\n";

	ck_assert_uint_eq(keys_kept(left, 1, -10, 10), 1);
	ck_assert_uint_eq(keys_kept(left, 2, -10, 10), 1);
	ck_assert_uint_eq(keys_kept(left, 3, -10, 10), 0);
	ck_assert_uint_eq(keys_kept(right, 2, -10, 10), 1);
	ck_assert_uint_eq(keys_kept(right, 3, -10, 10), 0);
}
END_TEST

START_TEST(join_results_do_not_depend_on_the_number_of_workers)
{
	cep_test_out ref;
	FILE        *fp;
	char        *path;
	uint64_t     seed = 5;

	fp = cep_test_tmp_open(&path);
	for (int i = 0, t = 0; i < 20000; i++) {
		t += (int) (cep_test_rand(&seed) % 5);
		fprintf(fp, "{\"side\":\"%s\",\"k\":%d,\"i\":%d,\"ts\":%d}\n",
		    cep_test_rand(&seed) % 2 ? "L" : "R",
		    (int) (cep_test_rand(&seed) % 100), 1000 + i, t);
	}
	ck_assert_int_eq(fclose(fp), 0);
	cep_test_out_init(&ref, "l");
	for (unsigned w = 1; w <= 4; w *= 2) {
		cep_flow    *f = NULL;
		cep_test_out out;
		cep_stream  *s, *l, *r;

		CEP_ASSERT_OK(cep_flow_create(&f));
		cep_test_out_init(&out, "l");
		s = cep_flow_time(
		    cep_flow_file(f, path, CEP_FORMAT_JSONL), "ts", 0);
		l = cep_flow_key_by(cep_flow_filter(s, is_side, "L"), "k");
		r = cep_flow_key_by(cep_flow_filter(s, is_side, "R"), "k");
		cep_flow_sink(cep_flow_join(l, r, -30, 20, pair_ids, NULL),
		    cep_test_out_sink, w == 1 ? &ref : &out);
		CEP_ASSERT_OK(cep_test_run_flow(f, w, 0));
		if (w > 1) {
			cep_test_out_assert_same(&ref, &out);
		} else {
			ck_assert_uint_gt(ref.n, 1000);
		}
		cep_flow_destroy(f);
		cep_test_out_fini(&out);
	}
	cep_test_out_fini(&ref);
	cep_test_tmp_remove(path);
}
END_TEST

static Suite *
op_join_suite(void)
{
	Suite *s = suite_create("op_join");
	TCase *t = tcase_create("op_join");

	tcase_add_test(t, both_bounds_of_the_interval_are_included);
	tcase_add_test(t, a_right_record_first_joins_a_later_left_one);
	tcase_add_test(t, negative_bounds_join_only_earlier_right_records);
	tcase_add_test(
	    t, keys_may_come_from_different_fields_and_must_be_equal);
	tcase_add_test(t, without_a_function_the_pair_is_left_and_right);
	tcase_add_test(t, records_behind_the_join_watermark_are_late);
	tcase_add_test(t, a_join_function_error_stops_the_run);
	tcase_add_test(
	    t, records_are_forgotten_once_the_watermark_passes_their_reach);
	tcase_add_test(t, join_results_do_not_depend_on_the_number_of_workers);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(op_join_suite)
