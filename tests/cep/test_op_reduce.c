/* SPDX-License-Identifier: MIT */
/*
 * test_op_reduce.c: the rolling reduce (cep/op_reduce.c): one result per
 * event folded into its key's previous one, emitted with the event's time
 * and sequence; errors stop the run; results keep across save and load;
 * order-sensitive results do not depend on the number of workers.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/support/flow_support.h"

static cep_val
get(const cep_event *ev, const char *name)
{
	cep_val v;

	cep_slot_val(ev, cep_event_find(ev, cep_sym_intern_str(name)), &v);
	return (v);
}

/* running builds {"k": k, "n": acc.n + 1, "sum": acc.sum + v, "ids":
 * acc.ids * 10 + id % 10} (ids keeps 18 digits): ids records the order
 * of folding.  A v of
 * "boom" fails. */
static cep_err
running(void *arg, const cep_event *acc, const cep_event *in, cep_builder *b)
{
	cep_val k = get(in, "k"), v = get(in, "v"), id = get(in, "id");
	int64_t n = 0, sum = 0, ids = 0;

	(void) arg;
	if (v.type == CEP_T_STR) {
		return (CEP_ERANGE);
	}
	if (acc != NULL) {
		n   = get(acc, "n").u.i;
		sum = get(acc, "sum").u.i;
		ids = get(acc, "ids").u.i;
	}
	cep_builder_map_begin(b);
	cep_builder_key(b, "k", 1);
	cep_builder_val(b, &k);
	cep_builder_key(b, "n", 1);
	cep_builder_int(b, n + 1);
	cep_builder_key(b, "sum", 3);
	cep_builder_int(b, sum + (v.type == CEP_T_INT ? v.u.i : 0));
	cep_builder_key(b, "ids", 3);
	cep_builder_int(b,
	    ids % 100000000000000000ll * 10 +
	        (id.type == CEP_T_INT ? id.u.i : 0) % 10);
	return (cep_builder_end(b));
}

/* reduce_flow: file -> time -> key_by(k) -> reduce(running) -> out. */
static cep_flow *
reduce_flow(const char *path, cep_test_out *out)
{
	cep_flow   *f = NULL;
	cep_stream *s;

	CEP_ASSERT_OK(cep_flow_create(&f));
	cep_flow_name_next(f, "time");
	s = cep_flow_time(cep_flow_file(f, path, CEP_FORMAT_JSONL), "ts", 100);
	s = cep_flow_key_by(s, "k");
	cep_flow_name_next(f, "reduce");
	s = cep_flow_reduce(s, running, NULL);
	cep_flow_sink(s, cep_test_out_sink, out);
	CEP_ASSERT_OK(cep_flow_error(f));
	return (f);
}

START_TEST(each_event_folds_into_its_keys_result_which_is_emitted)
{
	char *path =
	    cep_test_tmp_write("{\"k\":\"a\",\"v\":1,\"id\":1,\"ts\":1}\n"
	                       "{\"k\":\"b\",\"v\":10,\"id\":2,\"ts\":2}\n"
	                       "{\"k\":\"a\",\"v\":2,\"id\":3,\"ts\":3}\n"
	                       "{\"v\":5,\"id\":4,\"ts\":4}\n"
	                       "{\"k\":\"a\",\"v\":3,\"id\":5,\"ts\":5}\n");
	cep_test_out out;
	cep_flow    *f;

	cep_test_out_init(&out, "k");
	f = reduce_flow(path, &out);
	CEP_ASSERT_OK(cep_test_run_flow(f, 1, 0));
	ck_assert_str_eq(cep_test_out_text(&out, 0),
	    "{\"k\":\"a\",\"n\":1,\"sum\":1,\"ids\":1}\n"
	    "{\"k\":\"b\",\"n\":1,\"sum\":10,\"ids\":2}\n"
	    "{\"k\":\"a\",\"n\":2,\"sum\":3,\"ids\":13}\n"
	    "{\"k\":\"a\",\"n\":3,\"sum\":6,\"ids\":135}\n");
	/* Each result has its event's time and sequence. */
	ck_assert_int_eq(out.r[2].ts, 3);
	ck_assert_uint_eq(out.r[2].seq, 3);
	ck_assert_uint_eq(out.r[3].seq, 5);
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_tmp_remove(path);
}
END_TEST

START_TEST(a_reduce_error_stops_the_run)
{
	char *path =
	    cep_test_tmp_write("{\"k\":\"a\",\"v\":1,\"ts\":1}\n"
	                       "{\"k\":\"a\",\"v\":\"boom\",\"ts\":2}\n"
	                       "{\"k\":\"a\",\"v\":1,\"ts\":3}\n");
	cep_test_out out;
	cep_flow    *f;

	cep_test_out_init(&out, NULL);
	f = reduce_flow(path, &out);
	CEP_ASSERT_ERR(cep_test_run_flow(f, 2, 1), CEP_ERANGE);
	ck_assert_uint_eq(out.n, 1);
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_tmp_remove(path);
}
END_TEST

START_TEST(results_are_kept_across_save_and_load)
{
	char *a =
	    cep_test_tmp_write("{\"k\":\"a\",\"v\":1,\"id\":1,\"ts\":1}\n"
	                       "{\"k\":2,\"v\":10,\"id\":2,\"ts\":2}\n");
	char *b =
	    cep_test_tmp_write("{\"k\":\"a\",\"v\":5,\"id\":3,\"ts\":300}\n"
	                       "{\"k\":2.0,\"v\":1,\"id\":4,\"ts\":301}\n");
	cep_state_mem *m    = cep_state_mem_create();
	cep_state_out  so   = cep_state_mem_out(m);
	cep_state_in   si   = cep_state_mem_in(m);
	cep_flow_opts  opts = { 3, 0, 0 };
	cep_test_out   out;
	cep_flow      *f;

	cep_test_out_init(&out, "k");
	f = reduce_flow(a, &out);
	CEP_ASSERT_OK(cep_flow_run(f, &opts));
	CEP_ASSERT_OK(cep_flow_save(f, &so));
	cep_flow_destroy(f);
	cep_test_out_clear(&out);

	f = reduce_flow(b, &out);
	CEP_ASSERT_OK(cep_flow_load(f, &opts, &si));
	CEP_ASSERT_OK(cep_flow_run(f, &opts));
	ck_assert_str_eq(cep_test_out_text(&out, 1),
	    "{\"k\":\"a\",\"n\":2,\"sum\":6,\"ids\":13}\n"
	    "{\"k\":2.0,\"n\":2,\"sum\":11,\"ids\":24}\n");
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_state_mem_destroy(m);
	cep_test_tmp_remove(a);
	cep_test_tmp_remove(b);
}
END_TEST

START_TEST(loading_damaged_state_fails)
{
	char *a = cep_test_tmp_write("{\"k\":\"a\",\"v\":1,\"ts\":1}\n");
	cep_state_mem *m      = cep_state_mem_create();
	cep_state_out  so     = cep_state_mem_out(m);
	cep_state_in   si     = cep_state_mem_in(m);
	cep_flow_opts  opts   = { 1, 0, 0 };
	uint8_t        junk[] = { 1, 0xff, 0xff };
	uint8_t        key[]  = { 1, CEP_T_STR, 1, 'a' };
	cep_test_out   out;
	cep_flow      *f;

	cep_test_out_init(&out, NULL);
	CEP_ASSERT_OK(cep_state_put(
	    &so, "reduce/0", key, sizeof(key), junk, sizeof(junk)));
	f = reduce_flow(a, &out);
	CEP_ASSERT_ERR(cep_flow_load(f, &opts, &si), CEP_ECORRUPT);
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_state_mem_destroy(m);
	cep_test_tmp_remove(a);
}
END_TEST

/* ids_in_order: a reduce over a window's output with one global key;
 * each result lists the windows folded so far, so it depends on the
 * order records are applied in. */
static void
ids_in_order(const char *path, unsigned workers, cep_test_out *out)
{
	static const cep_window w = { CEP_WINDOW_TUMBLE, 100, 0 };
	static const cep_agg    a = { "id", CEP_AGG_MAX, "id" };
	cep_flow               *f = NULL;
	cep_stream             *s;

	CEP_ASSERT_OK(cep_flow_create(&f));
	s = cep_flow_time(cep_flow_file(f, path, CEP_FORMAT_JSONL), "ts", 0);
	s = cep_flow_window(cep_flow_key_by(s, "k"), &w, &a, 1, NULL);
	s = cep_flow_reduce(cep_flow_key_by(s, NULL), running, NULL);
	cep_flow_sink(s, cep_test_out_sink, out);
	CEP_ASSERT_OK(cep_test_run_flow(f, workers, 0));
	cep_flow_destroy(f);
}

START_TEST(order_sensitive_results_do_not_depend_on_the_number_of_workers)
{
	cep_test_out ref;
	FILE        *fp;
	char        *path;

	fp = cep_test_tmp_open(&path);
	for (int i = 0; i < 3000; i++) {
		fprintf(fp, "{\"k\":\"k%d\",\"id\":%d,\"v\":1,\"ts\":%d}\n",
		    (i * 37) % 23, i, i);
	}
	ck_assert_int_eq(fclose(fp), 0);
	cep_test_out_init(&ref, NULL);
	ids_in_order(path, 1, &ref);
	ck_assert_uint_gt(ref.n, 100);
	for (unsigned w = 2; w <= 4; w *= 2) {
		cep_test_out out;
		cep_test_out_init(&out, NULL);
		ids_in_order(path, w, &out);
		cep_test_out_assert_same(&ref, &out);
		cep_test_out_fini(&out);
	}
	cep_test_out_fini(&ref);
	cep_test_tmp_remove(path);
}
END_TEST

START_TEST(reduce_results_per_key_do_not_depend_on_workers)
{
	cep_test_out ref;
	FILE        *fp;
	char        *path;

	fp = cep_test_tmp_open(&path);
	for (int i = 0; i < 20000; i++) {
		/* Out of order by up to 50 ms, within the delay of 100. */
		fprintf(fp, "{\"k\":\"k%d\",\"id\":%d,\"v\":%d,\"ts\":%d}\n",
		    (i * 7) % 101, i, i % 13, i * 10 - (i % 4) * 30);
	}
	ck_assert_int_eq(fclose(fp), 0);
	cep_test_out_init(&ref, "k");
	for (unsigned w = 1; w <= 4; w *= 2) {
		cep_test_out out;
		cep_flow    *f;
		cep_test_out_init(&out, "k");
		f = reduce_flow(path, w == 1 ? &ref : &out);
		CEP_ASSERT_OK(cep_test_run_flow(f, w, 0));
		if (w > 1) {
			cep_test_out_assert_same(&ref, &out);
		} else {
			ck_assert_uint_eq(ref.n, 20000);
		}
		cep_flow_destroy(f);
		cep_test_out_fini(&out);
	}
	cep_test_out_fini(&ref);
	cep_test_tmp_remove(path);
}
END_TEST

static Suite *
op_reduce_suite(void)
{
	Suite *s = suite_create("op_reduce");
	TCase *t = tcase_create("op_reduce");

	tcase_add_test(
	    t, each_event_folds_into_its_keys_result_which_is_emitted);
	tcase_add_test(t, a_reduce_error_stops_the_run);
	tcase_add_test(t, results_are_kept_across_save_and_load);
	tcase_add_test(t, loading_damaged_state_fails);
	tcase_add_test(
	    t, order_sensitive_results_do_not_depend_on_the_number_of_workers);
	tcase_add_test(t, reduce_results_per_key_do_not_depend_on_workers);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(op_reduce_suite)
