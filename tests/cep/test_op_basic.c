/* SPDX-License-Identifier: MIT */
/*
 * test_op_basic.c: the stateless operators (cep/op_basic.c): map, filter
 * and flat_map keep each record's time and sequence, key_by marks records
 * with their key's hash and sends keyless ones to "no_key", union passes
 * both inputs through; on the source thread and on the workers alike.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/support/flow_support.h"

static const cep_window tumble_1s = { CEP_WINDOW_TUMBLE, 1000, 0 };
static const cep_agg    count_n   = { "n", CEP_AGG_COUNT, NULL };

static cep_flow *
new_flow(void)
{
	cep_flow *f = NULL;

	CEP_ASSERT_OK(cep_flow_create(&f));
	return (f);
}

static cep_val
field(const cep_event *ev, const char *name)
{
	cep_val v;

	cep_slot_val(ev, cep_event_find(ev, cep_sym_intern_str(name)), &v);
	return (v);
}

/* ---- map --------------------------------------------------------------- */

/* double_v builds {"k": k, "v": 2 * v, "ts": ts}; drops events with
 * "drop"; fails on "boom". */
static cep_err
double_v(void *arg, const cep_event *in, cep_builder *b)
{
	cep_val v = field(in, "v");

	(void) arg;
	if (field(in, "drop").type == CEP_T_BOOL) {
		return (CEP_ENOENT);
	}
	if (field(in, "boom").type == CEP_T_BOOL) {
		return (CEP_ERANGE);
	}
	cep_builder_map_begin(b);
	cep_builder_key(b, "k", 1);
	{
		cep_val k = field(in, "k");
		cep_builder_val(b, &k);
	}
	cep_builder_key(b, "v", 1);
	cep_builder_int(b, 2 * v.u.i);
	cep_builder_key(b, "ts", 2);
	{
		cep_val t = field(in, "ts");
		cep_builder_val(b, &t);
	}
	return (cep_builder_end(b));
}

START_TEST(map_builds_new_events_keeping_time_and_sequence)
{
	char        *path;
	cep_flow    *f = new_flow();
	cep_test_out out;
	cep_stream  *s;

	path = cep_test_tmp_write("{\"k\":\"a\",\"v\":1,\"ts\":10}\n"
	                          "{\"k\":\"b\",\"v\":2,\"ts\":5,"
	                          "\"drop\":true}\n"
	                          "{\"k\":\"b\",\"v\":3,\"ts\":30}\n");
	cep_test_out_init(&out, NULL);
	s = cep_flow_time(cep_flow_file(f, path, CEP_FORMAT_JSONL), "ts", 0);
	cep_flow_sink(
	    cep_flow_map(s, double_v, NULL), cep_test_out_sink, &out);
	CEP_ASSERT_OK(cep_test_run_flow(f, 1, 0));
	ck_assert_str_eq(cep_test_out_text(&out, 0),
	    "{\"k\":\"a\",\"v\":2,\"ts\":10}\n"
	    "{\"k\":\"b\",\"v\":6,\"ts\":30}\n");
	ck_assert_int_eq(out.r[0].ts, 10);
	ck_assert_uint_eq(out.r[0].seq, 1);
	ck_assert_int_eq(out.r[1].ts, 30);
	ck_assert_uint_eq(out.r[1].seq, 3);
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_tmp_remove(path);
}
END_TEST

START_TEST(a_map_error_stops_the_run_with_it)
{
	char        *path;
	cep_flow    *f = new_flow();
	cep_test_out out;
	cep_stream  *s;

	path = cep_test_tmp_write("{\"k\":\"a\",\"v\":1,\"ts\":10}\n"
	                          "{\"k\":\"a\",\"v\":1,\"ts\":11,"
	                          "\"boom\":true}\n"
	                          "{\"k\":\"a\",\"v\":1,\"ts\":12}\n");
	cep_test_out_init(&out, NULL);
	s = cep_flow_file(f, path, CEP_FORMAT_JSONL);
	cep_flow_sink(
	    cep_flow_map(s, double_v, NULL), cep_test_out_sink, &out);
	CEP_ASSERT_ERR(cep_test_run_flow(f, 2, 1), CEP_ERANGE);
	ck_assert_uint_eq(out.n, 1);
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_tmp_remove(path);
}
END_TEST

/* half_built opens a map and forgets to close it on "odd" events. */
static cep_err
half_built(void *arg, const cep_event *in, cep_builder *b)
{
	(void) arg;
	cep_builder_map_begin(b);
	cep_builder_key(b, "x", 1);
	cep_builder_int(b, 1);
	if (field(in, "odd").type == CEP_T_BOOL) {
		return (CEP_OK);
	}
	return (cep_builder_end(b));
}

START_TEST(a_map_that_builds_nothing_fails_instead_of_dropping_the_batch)
{
	char        *path;
	cep_flow    *f = new_flow();
	cep_test_out out;

	path = cep_test_tmp_write("{\"i\":1}\n{\"i\":2,\"odd\":true}\n"
	                          "{\"i\":3}\n{\"i\":4}\n");
	cep_test_out_init(&out, NULL);
	cep_flow_sink(cep_flow_map(cep_flow_file(f, path, CEP_FORMAT_JSONL),
	                  half_built, NULL),
	    cep_test_out_sink, &out);
	/* The contract allows CEP_OK only with an event built: anything
	 * else is an error of the run, never a silent loss of the records
	 * that follow in the batch. */
	CEP_ASSERT_ERR(cep_test_run_flow(f, 1, 1), CEP_EINVAL);
	ck_assert_uint_eq(out.n, 1);
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_tmp_remove(path);
}
END_TEST

/* ---- filter ------------------------------------------------------------ */

static int
v_above(void *arg, const cep_event *ev)
{
	cep_val v = field(ev, "v");

	return (v.type == CEP_T_INT && v.u.i > *(const int64_t *) arg);
}

START_TEST(filter_passes_matching_events_unchanged)
{
	char *path =
	    cep_test_tmp_write("{\"v\":1,\"ts\":1}\n"
	                       "{\"v\":5,\"ts\":2,\"x\":[1,{\"y\":2}]}\n"
	                       "{\"v\":\"5\",\"ts\":3}\n"
	                       "{\"v\":9,\"ts\":4}\n");
	int64_t      min = 3;
	cep_flow    *f   = new_flow();
	cep_test_out out;
	cep_stream  *s;

	cep_test_out_init(&out, NULL);
	s = cep_flow_time(cep_flow_file(f, path, CEP_FORMAT_JSONL), "ts", 0);
	cep_flow_sink(
	    cep_flow_filter(s, v_above, &min), cep_test_out_sink, &out);
	CEP_ASSERT_OK(cep_test_run_flow(f, 1, 0));
	ck_assert_str_eq(cep_test_out_text(&out, 0),
	    "{\"v\":5,\"ts\":2,\"x\":[1,{\"y\":2}]}\n{\"v\":9,\"ts\":4}\n");
	ck_assert_int_eq(out.r[0].ts, 2);
	ck_assert_uint_eq(out.r[0].seq, 2);
	ck_assert_uint_eq(out.r[1].seq, 4);
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_tmp_remove(path);
}
END_TEST

/* ---- flat_map ---------------------------------------------------------- */

/* explode emits each map of the event's "items" array as an event. */
static cep_err
explode(void *arg, const cep_event *in, cep_flat_out *out)
{
	cep_val      items = field(in, "items");
	cep_builder *b     = cep_builder_create();
	cep_err      rv    = CEP_OK;

	(void) arg;
	if (b == NULL) {
		return (CEP_ENOMEM);
	}
	if (items.type == CEP_T_ARRAY) {
		const cep_cont *a = cep_event_cont(in, items.u.c.off);
		for (uint32_t i = 0; i < a->n && rv == CEP_OK; i++) {
			cep_val          v;
			const cep_event *ev;
			cep_slot_val(in, &cep_cont_slots(a)[i], &v);
			if (v.type != CEP_T_MAP) {
				continue;
			}
			cep_builder_reset(b);
			if ((rv = cep_builder_val(b, &v)) == CEP_OK) {
				ev = cep_builder_peek(b);
				rv = ev != NULL ? cep_flat_emit(out, ev)
				                : CEP_EINVAL;
			}
		}
	}
	cep_builder_destroy(b);
	return (rv);
}

START_TEST(flat_map_emits_any_number_of_events_per_input)
{
	char *path = cep_test_tmp_write(
	    "{\"ts\":7,\"items\":[{\"a\":1},2,{\"a\":3}]}\n"
	    "{\"ts\":8,\"items\":[]}\n"
	    "{\"ts\":9}\n"
	    "{\"ts\":10,\"items\":[{\"b\":{\"c\":true}}]}\n");
	cep_flow    *f = new_flow();
	cep_test_out out;
	cep_stream  *s;

	cep_test_out_init(&out, NULL);
	s = cep_flow_time(cep_flow_file(f, path, CEP_FORMAT_JSONL), "ts", 0);
	cep_flow_sink(
	    cep_flow_flat_map(s, explode, NULL), cep_test_out_sink, &out);
	CEP_ASSERT_OK(cep_test_run_flow(f, 1, 0));
	ck_assert_str_eq(cep_test_out_text(&out, 0),
	    "{\"a\":1}\n{\"a\":3}\n{\"b\":{\"c\":true}}\n");
	ck_assert_int_eq(out.r[0].ts, 7);
	ck_assert_int_eq(out.r[1].ts, 7);
	ck_assert_uint_eq(out.r[1].seq, 1);
	ck_assert_int_eq(out.r[2].ts, 10);
	ck_assert_uint_eq(out.r[2].seq, 4);
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_tmp_remove(path);
}
END_TEST

/* ---- key_by ------------------------------------------------------------ */

START_TEST(key_by_sends_missing_null_and_container_keys_to_no_key)
{
	char        *path;
	cep_flow    *f = new_flow();
	cep_test_out keyed, none;
	cep_stream  *k;

	path = cep_test_tmp_write("{\"i\":1,\"k\":\"a\"}\n"
	                          "{\"i\":2}\n"
	                          "{\"i\":3,\"k\":null}\n"
	                          "{\"i\":4,\"k\":{\"x\":1}}\n"
	                          "{\"i\":5,\"k\":[1]}\n"
	                          "{\"i\":6,\"k\":7}\n"
	                          "{\"i\":7,\"k\":false}\n"
	                          "{\"i\":8,\"k\":2.5}\n");
	cep_test_out_init(&keyed, NULL);
	cep_test_out_init(&none, NULL);
	k = cep_flow_key_by(cep_flow_file(f, path, CEP_FORMAT_JSONL), "k");
	cep_flow_sink(k, cep_test_out_sink, &keyed);
	cep_flow_sink(cep_flow_side(k, "no_key"), cep_test_out_sink, &none);
	CEP_ASSERT_OK(cep_test_run_flow(f, 2, 0));
	ck_assert_str_eq(cep_test_out_text(&keyed, 0),
	    "{\"i\":1,\"k\":\"a\"}\n{\"i\":6,\"k\":7}\n"
	    "{\"i\":7,\"k\":false}\n{\"i\":8,\"k\":2.5}\n");
	ck_assert_str_eq(cep_test_out_text(&none, 0),
	    "{\"i\":2}\n{\"i\":3,\"k\":null}\n{\"i\":4,\"k\":{\"x\":1}}\n"
	    "{\"i\":5,\"k\":[1]}\n");
	cep_flow_destroy(f);
	cep_test_out_fini(&keyed);
	cep_test_out_fini(&none);
	cep_test_tmp_remove(path);
}
END_TEST

/* hash_of collects each record's key hash. */
struct hashes {
	uint64_t h[16];
	size_t   n;
};

static cep_err
hash_sink(void *arg, const cep_record *r)
{
	struct hashes *h = arg;

	ck_assert_uint_lt(h->n, 16);
	h->h[h->n++] = r->khash;
	return (CEP_OK);
}

START_TEST(equal_keys_hash_alike_and_nested_paths_reach_in)
{
	char         *path;
	cep_flow     *f = new_flow();
	struct hashes h = { { 0 }, 0 };

	path = cep_test_tmp_write("{\"s\":{\"ip\":1}}\n"
	                          "{\"s\":{\"ip\":1.0}}\n"
	                          "{\"s\":{\"ip\":\"1\"}}\n"
	                          "{\"s\":{\"ip\":\"1\"},\"other\":2}\n"
	                          "{\"s\":{\"ip\":true}}\n");
	cep_flow_sink(
	    cep_flow_key_by(cep_flow_file(f, path, CEP_FORMAT_JSONL), "s.ip"),
	    hash_sink, &h);
	CEP_ASSERT_OK(cep_test_run_flow(f, 1, 0));
	ck_assert_uint_eq(h.n, 5);
	ck_assert_uint_eq(h.h[0], h.h[1]); /* 1 == 1.0 */
	ck_assert_uint_ne(h.h[0], h.h[2]); /* 1 != "1" */
	ck_assert_uint_eq(h.h[2], h.h[3]);
	ck_assert_uint_ne(h.h[0], h.h[4]);
	cep_flow_destroy(f);
	cep_test_tmp_remove(path);
}
END_TEST

START_TEST(one_and_one_point_zero_are_one_key_for_a_window)
{
	char    *path;
	unsigned workers[] = { 1, 3 };

	path = cep_test_tmp_write("{\"k\":1,\"ts\":1}\n"
	                          "{\"k\":1.0,\"ts\":2}\n"
	                          "{\"k\":\"1\",\"ts\":3}\n");
	for (size_t i = 0; i < 2; i++) {
		cep_flow    *f = new_flow();
		cep_test_out out;
		cep_stream  *s;

		cep_test_out_init(&out, NULL);
		s = cep_flow_time(
		    cep_flow_file(f, path, CEP_FORMAT_JSONL), "ts", 0);
		s = cep_flow_window(
		    cep_flow_key_by(s, "k"), &tumble_1s, &count_n, 1, NULL);
		cep_flow_sink(s, cep_test_out_sink, &out);
		CEP_ASSERT_OK(cep_test_run_flow(f, workers[i], 0));
		ck_assert_str_eq(cep_test_out_text(&out, 1),
		    "{\"k\":\"1\",\"window_start\":0,\"window_end\":1000,"
		    "\"ts\":999,\"n\":1}\n"
		    "{\"k\":1,\"window_start\":0,\"window_end\":1000,"
		    "\"ts\":999,\"n\":2}\n");
		cep_flow_destroy(f);
		cep_test_out_fini(&out);
	}
	cep_test_tmp_remove(path);
}
END_TEST

START_TEST(key_by_without_a_field_is_one_global_key)
{
	char        *path;
	cep_flow    *f = new_flow();
	cep_test_out out;
	cep_stream  *s;

	path = cep_test_tmp_write("{\"k\":1,\"ts\":1}\n"
	                          "{\"ts\":2}\n"
	                          "{\"k\":null,\"ts\":3}\n");
	cep_test_out_init(&out, NULL);
	s = cep_flow_time(cep_flow_file(f, path, CEP_FORMAT_JSONL), "ts", 0);
	s = cep_flow_window(
	    cep_flow_key_by(s, NULL), &tumble_1s, &count_n, 1, NULL);
	cep_flow_sink(s, cep_test_out_sink, &out);
	CEP_ASSERT_OK(cep_test_run_flow(f, 4, 0));
	ck_assert_str_eq(cep_test_out_text(&out, 0),
	    "{\"window_start\":0,\"window_end\":1000,\"ts\":999,\"n\":3}\n");
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_tmp_remove(path);
}
END_TEST

/* ---- union ------------------------------------------------------------- */

START_TEST(union_passes_every_record_of_both_inputs)
{
	char        *a;
	char        *b = cep_test_tmp_write("{\"src\":\"b\",\"i\":1}\n");
	cep_flow    *f = new_flow();
	cep_test_out out;
	cep_stream  *u;

	a = cep_test_tmp_write("{\"src\":\"a\",\"i\":1}\n"
	                       "{\"src\":\"a\",\"i\":2}\n");
	cep_test_out_init(&out, NULL);
	u = cep_flow_union(cep_flow_file(f, a, CEP_FORMAT_JSONL),
	    cep_flow_file(f, b, CEP_FORMAT_JSONL));
	cep_flow_sink(u, cep_test_out_sink, &out);
	CEP_ASSERT_OK(cep_test_run_flow(f, 1, 0));
	ck_assert_str_eq(cep_test_out_text(&out, 1),
	    "{\"src\":\"a\",\"i\":1}\n{\"src\":\"a\",\"i\":2}\n"
	    "{\"src\":\"b\",\"i\":1}\n");
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_tmp_remove(a);
	cep_test_tmp_remove(b);
}
END_TEST

START_TEST(union_of_a_stream_with_itself_doubles_it)
{
	char        *a = cep_test_tmp_write("{\"i\":1}\n{\"i\":2}\n");
	cep_flow    *f = new_flow();
	cep_test_out out;
	cep_stream  *s;

	cep_test_out_init(&out, NULL);
	s = cep_flow_file(f, a, CEP_FORMAT_JSONL);
	cep_flow_sink(cep_flow_union(s, s), cep_test_out_sink, &out);
	CEP_ASSERT_OK(cep_test_run_flow(f, 1, 0));
	ck_assert_str_eq(cep_test_out_text(&out, 1),
	    "{\"i\":1}\n{\"i\":1}\n{\"i\":2}\n{\"i\":2}\n");
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_tmp_remove(a);
}
END_TEST

/* ---- on the workers ---------------------------------------------------- */

static int
n_even(void *arg, const cep_event *ev)
{
	(void) arg;
	return (field(ev, "n").u.i % 2 == 0);
}

START_TEST(stateless_operators_after_a_keyed_one_run_on_the_workers)
{
	cep_test_out ref;
	FILE        *fp;
	char        *path;

	fp = cep_test_tmp_open(&path);
	for (int i = 0; i < 5000; i++) {
		fprintf(fp, "{\"k\":\"k%d\",\"ts\":%d}\n", (i * 7) % 13, i);
	}
	ck_assert_int_eq(fclose(fp), 0);
	cep_test_out_init(&ref, "k");
	for (unsigned w = 1; w <= 4; w *= 2) {
		cep_flow    *f = new_flow();
		cep_test_out out;
		cep_stream  *s;

		cep_test_out_init(&out, "k");
		s = cep_flow_time(
		    cep_flow_file(f, path, CEP_FORMAT_JSONL), "ts", 0);
		s = cep_flow_window(
		    cep_flow_key_by(s, "k"), &tumble_1s, &count_n, 1, NULL);
		s = cep_flow_filter(s, n_even, NULL);
		s = cep_flow_union(s, s);
		cep_flow_sink(s, cep_test_out_sink, w == 1 ? &ref : &out);
		CEP_ASSERT_OK(cep_test_run_flow(f, w, 64));
		if (w == 1) {
			ck_assert_uint_gt(ref.n, 0);
		} else {
			cep_test_out_assert_same(&ref, &out);
		}
		cep_flow_destroy(f);
		cep_test_out_fini(&out);
	}
	cep_test_out_fini(&ref);
	cep_test_tmp_remove(path);
}
END_TEST

static Suite *
op_basic_suite(void)
{
	Suite *s = suite_create("op_basic");
	TCase *t = tcase_create("op_basic");

	tcase_add_test(t, map_builds_new_events_keeping_time_and_sequence);
	tcase_add_test(t, a_map_error_stops_the_run_with_it);
	tcase_add_test(
	    t, a_map_that_builds_nothing_fails_instead_of_dropping_the_batch);
	tcase_add_test(t, filter_passes_matching_events_unchanged);
	tcase_add_test(t, flat_map_emits_any_number_of_events_per_input);
	tcase_add_test(
	    t, key_by_sends_missing_null_and_container_keys_to_no_key);
	tcase_add_test(t, equal_keys_hash_alike_and_nested_paths_reach_in);
	tcase_add_test(t, one_and_one_point_zero_are_one_key_for_a_window);
	tcase_add_test(t, key_by_without_a_field_is_one_global_key);
	tcase_add_test(t, union_passes_every_record_of_both_inputs);
	tcase_add_test(t, union_of_a_stream_with_itself_doubles_it);
	tcase_add_test(
	    t, stateless_operators_after_a_keyed_one_run_on_the_workers);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(op_basic_suite)
