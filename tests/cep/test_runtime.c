/* SPDX-License-Identifier: MIT */
/*
 * test_runtime.c: running dataflow graphs (cep/runtime.c): results that do
 * not depend on the number of workers, watermarks as the minimum over
 * inputs, +infinity at the end of bounded input, errors and stops, flow
 * control, reload at a consistent point from another thread, and state
 * saved after a run or a stop and loaded into a fresh flow.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/flow_support.h"

static cep_flow *
new_flow(void)
{
	cep_flow *f = NULL;

	CEP_ASSERT_OK(cep_flow_create(&f));
	return (f);
}

static cep_val
get(const cep_event *ev, const char *name)
{
	cep_val v;

	cep_slot_val(ev, cep_event_find(ev, cep_sym_intern_str(name)), &v);
	return (v);
}

/* big_input writes n events over nkeys keys ("k"), times rising with
 * disorder within 50 ms, an int "v", a double "d" and a "side". */
static char *
big_input(int n, int nkeys, uint64_t seed)
{
	FILE   *fp;
	char   *path;
	int64_t t = 0;

	fp = cep_test_tmp_open(&path);
	for (int i = 0; i < n; i++) {
		uint64_t r = cep_test_rand(&seed);
		t += (int64_t) (r % 2);
		fprintf(fp,
		    "{\"k\":\"k%d\",\"ts\":%lld,\"v\":%d,\"d\":%.17g,"
		    "\"side\":\"%s\"}\n",
		    (int) ((r >> 8) % (uint64_t) nkeys),
		    (long long) (t - (int64_t) ((r >> 20) % 50)),
		    (int) ((r >> 30) % 1000),
		    (double) ((r >> 40) % 10007) / 3.0,
		    (r >> 60) % 2 ? "L" : "R");
	}
	ck_assert_int_eq(fclose(fp), 0);
	return (path);
}

static int
is_left(void *arg, const cep_event *ev)
{
	cep_val v = get(ev, "side");

	(void) arg;
	return (v.type == CEP_T_STR && v.u.s[0] == 'L');
}

static int
is_right(void *arg, const cep_event *ev)
{
	return (!is_left(arg, ev));
}

/* sum_v: the running sum of v per key (an int, order-independent). */
static cep_err
sum_v(void *arg, const cep_event *acc, const cep_event *in, cep_builder *b)
{
	cep_val k = get(in, "k");

	(void) arg;
	cep_builder_map_begin(b);
	cep_builder_key(b, "k", 1);
	cep_builder_val(b, &k);
	cep_builder_key(b, "total", 5);
	cep_builder_int(
	    b, (acc != NULL ? get(acc, "total").u.i : 0) + get(in, "v").u.i);
	return (cep_builder_end(b));
}

static cep_err
pair_k(void *arg, const cep_event *l, const cep_event *r, cep_builder *b)
{
	cep_val k = get(l, "k");

	(void) arg;
	cep_builder_map_begin(b);
	cep_builder_key(b, "k", 1);
	cep_builder_val(b, &k);
	cep_builder_key(b, "lv", 2);
	cep_builder_int(b, get(l, "v").u.i);
	cep_builder_key(b, "rv", 2);
	cep_builder_int(b, get(r, "v").u.i);
	return (cep_builder_end(b));
}

/* The outputs of all_ops, one per operator. */
enum { TUMBLE, TOP, SLIDE, SESSION, REDUCE, JOIN, NOUT };

struct outs {
	cep_test_out o[NOUT];
};

static void
outs_init(struct outs *o)
{
	for (int i = 0; i < NOUT; i++) {
		cep_test_out_init(&o->o[i], "k");
	}
}

static void
outs_fini(struct outs *o)
{
	for (int i = 0; i < NOUT; i++) {
		cep_test_out_fini(&o->o[i]);
	}
}

static void
outs_assert_same(const struct outs *a, const struct outs *b)
{
	for (int i = 0; i < NOUT; i++) {
		ck_assert_uint_gt(a->o[i].n, 0);
		cep_test_out_assert_same(&a->o[i], &b->o[i]);
	}
}

static size_t
outs_count(const struct outs *o)
{
	size_t n = 0;

	for (int i = 0; i < NOUT; i++) {
		n += o->o[i].n;
	}
	return (n);
}

/* all_ops builds, on one source, windows of each kind with double sums,
 * a window over a window, a rolling reduce and an interval join; the
 * source's events go to seen unless it is NULL.  Operators are named so
 * that a flow built twice can load the other's state. */
static cep_flow *
all_ops(const char *path, struct outs *out, cep_test_out *seen)
{
	static const cep_window tumble = { CEP_WINDOW_TUMBLE, 1000, 0 };
	static const cep_window slide  = { CEP_WINDOW_SLIDE, 2000, 1000 };
	static const cep_window sess   = { CEP_WINDOW_SESSION, 40, 0 };
	static const cep_window five   = { CEP_WINDOW_TUMBLE, 5000, 0 };
	static const cep_agg    aggs[] = {
		   { "n", CEP_AGG_COUNT, NULL },
		   { "sum", CEP_AGG_SUM, "d" },
		   { "avg", CEP_AGG_AVG, "d" },
		   { "max", CEP_AGG_MAX, "v" },
		   { "dv", CEP_AGG_COUNT_DISTINCT, "v" },
	};
	static const cep_agg top = { "sum", CEP_AGG_SUM, "sum" };
	cep_flow            *f   = new_flow();
	cep_stream          *s, *k, *w, *l, *r;

	cep_flow_name_next(f, "src");
	s = cep_flow_file(f, path, CEP_FORMAT_JSONL);
	if (seen != NULL) {
		seen->flow = f;
		cep_flow_sink(s, cep_test_out_sink, seen);
	}
	cep_flow_name_next(f, "time");
	s = cep_flow_time(s, "ts", 60);
	cep_flow_name_next(f, "key");
	k = cep_flow_key_by(s, "k");
	cep_flow_name_next(f, "tumble");
	w = cep_flow_window(k, &tumble, aggs, 5, NULL);
	cep_flow_sink(w, cep_test_out_sink, &out->o[TUMBLE]);
	cep_flow_name_next(f, "topkey");
	w = cep_flow_key_by(w, "k");
	cep_flow_name_next(f, "top");
	cep_flow_sink(cep_flow_window(w, &five, &top, 1, NULL),
	    cep_test_out_sink, &out->o[TOP]);
	cep_flow_name_next(f, "slide");
	cep_flow_sink(cep_flow_window(k, &slide, aggs, 5, NULL),
	    cep_test_out_sink, &out->o[SLIDE]);
	cep_flow_name_next(f, "session");
	cep_flow_sink(cep_flow_window(k, &sess, aggs, 5, NULL),
	    cep_test_out_sink, &out->o[SESSION]);
	cep_flow_name_next(f, "reduce");
	cep_flow_sink(cep_flow_reduce(k, sum_v, NULL), cep_test_out_sink,
	    &out->o[REDUCE]);
	l = cep_flow_key_by(cep_flow_filter(s, is_left, NULL), "k");
	r = cep_flow_key_by(cep_flow_filter(s, is_right, NULL), "k");
	cep_flow_name_next(f, "join");
	cep_flow_sink(cep_flow_join(l, r, -3, 2, pair_k, NULL),
	    cep_test_out_sink, &out->o[JOIN]);
	CEP_ASSERT_OK(cep_flow_error(f));
	return (f);
}

START_TEST(results_do_not_depend_on_the_number_of_workers)
{
	char       *path = big_input(200000, 1000, 21);
	struct outs ref;

	outs_init(&ref);
	for (unsigned w = 1; w <= 4; w *= 2) {
		struct outs out;
		cep_flow   *f;
		outs_init(&out);
		f = all_ops(path, w == 1 ? &ref : &out, NULL);
		CEP_ASSERT_OK(cep_test_run_flow(f, w, 0));
		if (w == 1) {
			ck_assert_uint_gt(outs_count(&ref), 200000);
		} else {
			outs_assert_same(&ref, &out);
		}
		cep_flow_destroy(f);
		outs_fini(&out);
	}
	outs_fini(&ref);
	cep_test_tmp_remove(path);
}
END_TEST

/* An ordered sink gets the windows of every key in one order, whatever the
 * number of workers and the batch size, and that order is by time. */
START_TEST(an_ordered_sink_gets_one_order_for_any_number_of_workers)
{
	static const cep_window tumble = { CEP_WINDOW_TUMBLE, 100, 0 };
	static const cep_agg    count  = { "n", CEP_AGG_COUNT, NULL };
	char                   *path   = big_input(50000, 300, 5);
	char                   *ref    = NULL;

	for (unsigned w = 1; w <= 4; w *= 2) {
		for (unsigned batch = 1; batch <= 256; batch *= 256) {
			cep_flow    *f = NULL;
			cep_test_out out;
			cep_stream  *st;
			const char  *text;

			cep_test_out_init(&out, NULL);
			CEP_ASSERT_OK(cep_flow_create(&f));
			st = cep_flow_time(
			    cep_flow_file(f, path, CEP_FORMAT_JSONL), "ts",
			    50);
			st = cep_flow_window(cep_flow_key_by(st, "k"), &tumble,
			    &count, 1, NULL);
			cep_flow_sink_ordered(st, cep_test_out_sink, &out);
			CEP_ASSERT_OK(cep_test_run_flow(f, w, batch));
			ck_assert_uint_gt(out.n, 10000);
			for (size_t i = 1; i < out.n; i++) {
				ck_assert_int_le(out.r[i - 1].ts, out.r[i].ts);
			}
			text = cep_test_out_text(&out, 0);
			if (ref == NULL) {
				ref = strdup(text);
			} else {
				ck_assert_msg(strcmp(ref, text) == 0,
				    "%u workers, batch %u: another order", w,
				    batch);
			}
			cep_flow_destroy(f);
			cep_test_out_fini(&out);
		}
	}
	free(ref);
	cep_test_tmp_remove(path);
}
END_TEST

START_TEST(tiny_batches_and_one_batch_in_flight_give_the_same_results)
{
	char         *path = big_input(20000, 50, 22);
	struct outs   ref, out;
	cep_flow     *f;
	cep_flow_opts tight = { 3, 1, 1 };

	outs_init(&ref);
	outs_init(&out);
	f = all_ops(path, &ref, NULL);
	CEP_ASSERT_OK(cep_test_run_flow(f, 3, 0));
	cep_flow_destroy(f);
	f = all_ops(path, &out, NULL);
	CEP_ASSERT_OK(cep_flow_run(f, &tight));
	cep_flow_destroy(f);
	/* A join's pairs of one key come in an order that depends on how
	 * its two inputs were batched: compare them as a set. */
	cep_test_out_assert_same_set(&ref.o[JOIN], &out.o[JOIN]);
	cep_test_out_clear(&ref.o[JOIN]);
	cep_test_out_clear(&out.o[JOIN]);
	for (int i = 0; i < JOIN; i++) {
		cep_test_out_assert_same(&ref.o[i], &out.o[i]);
	}
	outs_fini(&ref);
	outs_fini(&out);
	cep_test_tmp_remove(path);
}
END_TEST
/* ---- watermarks -------------------------------------------------------- */

START_TEST(a_union_watermark_is_the_minimum_of_its_inputs)
{
	char *a =
	    cep_test_tmp_write("{\"ts\":100}\n{\"ts\":200}\n{\"ts\":300}\n");
	char *b =
	    cep_test_tmp_write("{\"ts\":10}\n{\"ts\":20}\n{\"ts\":30}\n");
	static const int64_t want[] = { CEP_WM_MIN, 10, 10, 20, 20, 30 };
	cep_flow            *f      = new_flow();
	cep_test_out         out;
	cep_stream          *sa, *sb, *u;

	cep_test_out_init(&out, NULL);
	/* Sources are read a batch (here one record) each in turn. */
	sa = cep_flow_time(cep_flow_file(f, a, CEP_FORMAT_JSONL), "ts", 0);
	sb = cep_flow_time(cep_flow_file(f, b, CEP_FORMAT_JSONL), "ts", 0);
	u  = cep_flow_union(sa, sb);
	cep_flow_sink(u, cep_test_out_sink, &out);
	CEP_ASSERT_OK(cep_test_run_flow(f, 1, 1));
	ck_assert_uint_eq(out.n, 6);
	for (size_t i = 0; i < 6; i++) {
		ck_assert_msg(out.r[i].wm == want[i],
		    "record %zu: wm %lld\n%s", i, (long long) out.r[i].wm,
		    cep_test_out_text(&out, 0));
	}
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_tmp_remove(a);
	cep_test_tmp_remove(b);
}
END_TEST

START_TEST(windows_over_a_union_wait_for_the_slower_input)
{
	static const cep_window w  = { CEP_WINDOW_TUMBLE, 100, 0 };
	static const cep_agg    n  = { "n", CEP_AGG_COUNT, NULL };
	char                   *a  = NULL;
	char                   *b  = NULL;
	FILE                   *fa = cep_test_tmp_open(&a);
	FILE                   *fb = cep_test_tmp_open(&b);
	cep_test_out            out, fired_at;
	cep_flow               *f;
	cep_stream             *sa, *sb, *u, *wm_probe;

	/* a runs far ahead; b's time grows slowly. */
	for (int i = 0; i < 1000; i++) {
		fprintf(fa, "{\"src\":\"a\",\"ts\":%d}\n", i * 100);
		fprintf(fb, "{\"src\":\"b\",\"ts\":%d}\n", i);
	}
	ck_assert_int_eq(fclose(fa), 0);
	ck_assert_int_eq(fclose(fb), 0);
	cep_test_out_init(&out, NULL);
	cep_test_out_init(&fired_at, NULL);
	f  = new_flow();
	sa = cep_flow_time(cep_flow_file(f, a, CEP_FORMAT_JSONL), "ts", 0);
	sb = cep_flow_time(cep_flow_file(f, b, CEP_FORMAT_JSONL), "ts", 0);
	u  = cep_flow_union(sa, sb);
	wm_probe = cep_flow_window(cep_flow_key_by(u, "src"), &w, &n, 1, NULL);
	cep_flow_sink(wm_probe, cep_test_out_sink, &out);
	CEP_ASSERT_OK(cep_test_run_flow(f, 2, 7));
	/* Every window of a holds exactly one event, of b 100: none was
	 * closed early by a's watermark. */
	ck_assert_uint_eq(out.n, 1000 + 10);
	for (size_t i = 0; i < out.n; i++) {
		cep_event *ev  = cep_test_event(out.r[i].json);
		cep_val    src = get(ev, "src");
		ck_assert_int_eq(
		    get(ev, "n").u.i, src.u.s[0] == 'a' ? 1 : 100);
		cep_event_unref(ev, NULL);
	}
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_out_fini(&fired_at);
	cep_test_tmp_remove(a);
	cep_test_tmp_remove(b);
}
END_TEST

/* A keyed class recording the last watermark each instance saw. */
static _Atomic int64_t last_wm[8];
static atomic_int      instances;

static cep_err
probe_create(const void *conf, int ordered, void **inst)
{
	int i = atomic_fetch_add(&instances, 1);

	(void) conf;
	(void) ordered;
	ck_assert_int_lt(i, 8);
	*inst = (void *) &last_wm[i];
	return (CEP_OK);
}

static cep_err
probe_push(void *inst, unsigned port, const cep_record *recs, size_t n,
    cep_op_ctx *ctx)
{
	_Atomic int64_t *wm = inst;

	(void) port;
	(void) ctx;
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_ge(recs[i].wm, atomic_load(wm));
		atomic_store(wm, recs[i].wm);
	}
	return (CEP_OK);
}

static void
probe_destroy(void *inst)
{
	(void) inst;
}

static const cep_op_class probe_class = {
	.name    = "probe",
	.flags   = CEP_OP_KEYED,
	.inputs  = 1,
	.create  = probe_create,
	.push    = probe_push,
	.destroy = probe_destroy,
};

START_TEST(bounded_input_ends_with_infinity_on_every_worker)
{
	char *a =
	    cep_test_tmp_write("{\"k\":1,\"ts\":5}\n{\"k\":2,\"ts\":6}\n");
	char       *b = cep_test_tmp_write("");
	cep_flow   *f = new_flow();
	cep_stream *sa, *sb, *u, *k;

	atomic_store(&instances, 0);
	for (int i = 0; i < 8; i++) {
		atomic_store(&last_wm[i], CEP_WM_MIN);
	}
	sa = cep_flow_time(cep_flow_file(f, a, CEP_FORMAT_JSONL), "ts", 0);
	sb = cep_flow_time(cep_flow_file(f, b, CEP_FORMAT_JSONL), "ts", 0);
	u  = cep_flow_union(sa, sb);
	k  = cep_flow_key_by(u, "k");
	ck_assert_ptr_nonnull(cep_flow_op(&k, 1, &probe_class, NULL));
	CEP_ASSERT_OK(cep_test_run_flow(f, 4, 0));
	ck_assert_int_eq(atomic_load(&instances), 4);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(atomic_load(&last_wm[i]), CEP_WM_MAX);
	}
	cep_flow_destroy(f);
	cep_test_tmp_remove(a);
	cep_test_tmp_remove(b);
}
END_TEST

/* ---- errors and stopping ----------------------------------------------- */

struct bad {
	char     text[512];
	unsigned n;
};

static void
on_bad(void *arg, const char *name, uint64_t pos, const char *msg)
{
	struct bad *b   = arg;
	size_t      len = strlen(b->text);

	ck_assert_ptr_nonnull(strstr(name, "cepflow"));
	ck_assert_ptr_nonnull(msg);
	snprintf(b->text + len, sizeof(b->text) - len, "%llu ",
	    (unsigned long long) pos);
	b->n++;
}

START_TEST(bad_records_go_to_their_callback_and_the_run_goes_on)
{
	char        *path;
	cep_flow    *f = new_flow();
	cep_test_out out;
	struct bad   bad;

	path = cep_test_tmp_write("{\"i\":1}\n{\"i\":\n[1,2]\n\n{\"i\":4}\n"
	                          "{\"i\":5}garbage\n{\"i\":6}\n");
	memset(&bad, 0, sizeof(bad));
	cep_test_out_init(&out, NULL);
	cep_flow_on_bad_record(f, on_bad, &bad);
	cep_flow_sink(
	    cep_flow_file(f, path, CEP_FORMAT_JSONL), cep_test_out_sink, &out);
	CEP_ASSERT_OK(cep_test_run_flow(f, 2, 0));
	ck_assert_str_eq(bad.text, "2 3 6 ");
	ck_assert_str_eq(
	    cep_test_out_text(&out, 0), "{\"i\":1}\n{\"i\":4}\n{\"i\":6}\n");
	ck_assert_uint_eq(out.r[1].seq, 5);
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_tmp_remove(path);
}
END_TEST

static atomic_uint_fast64_t read_count;

static cep_err
count_read(void *arg, const cep_record *r)
{
	(void) arg;
	(void) r;
	atomic_fetch_add(&read_count, 1);
	return (CEP_OK);
}

/* fail_at: a reduce failing on the event with v == 999 and k == "k7". */
static cep_err
fail_at(void *arg, const cep_event *acc, const cep_event *in, cep_builder *b)
{
	cep_val k = get(in, "k");

	if (get(in, "v").u.i == 999 && strcmp(k.u.s, "k7") == 0) {
		return (CEP_ELIMIT);
	}
	return (sum_v(arg, acc, in, b));
}

START_TEST(an_operator_error_on_a_worker_stops_the_run_and_is_returned)
{
	char       *path = big_input(200000, 10, 23);
	cep_flow   *f    = new_flow();
	cep_stream *s;

	atomic_store(&read_count, 0);
	s = cep_flow_file(f, path, CEP_FORMAT_JSONL);
	cep_flow_sink(s, count_read, NULL);
	s = cep_flow_key_by(cep_flow_time(s, "ts", 60), "k");
	cep_flow_sink(cep_flow_reduce(s, fail_at, NULL), count_read, NULL);
	CEP_ASSERT_ERR(cep_test_run_flow(f, 3, 64), CEP_ELIMIT);
	/* It stopped long before the end of the input. */
	ck_assert_uint_lt(atomic_load(&read_count), 2 * 200000 / 2);
	cep_flow_destroy(f);
	cep_test_tmp_remove(path);
}
END_TEST

START_TEST(a_sink_error_stops_the_run_and_is_returned)
{
	char        *path = big_input(100000, 10, 24);
	cep_flow    *f    = new_flow();
	cep_test_out out;

	cep_test_out_init(&out, NULL);
	out.stop_after = 10;
	out.fail_with  = CEP_EEXIST;
	cep_flow_sink(
	    cep_flow_file(f, path, CEP_FORMAT_JSONL), cep_test_out_sink, &out);
	CEP_ASSERT_ERR(cep_test_run_flow(f, 2, 0), CEP_EEXIST);
	ck_assert_uint_lt(out.n, 1024);
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_tmp_remove(path);
}
END_TEST

/* stopper calls cep_flow_stop once the source has given `at` events. */
struct stopper {
	cep_flow *f;
	uint64_t  at;
	pthread_t t;
};

static void *
stop_main(void *arg)
{
	struct stopper *s = arg;

	while (atomic_load(&read_count) < s->at) {
		sched_yield();
	}
	cep_flow_stop(s->f);
	return (NULL);
}

START_TEST(stop_from_another_thread_ends_the_run_without_error)
{
	char          *path = big_input(200000, 10, 25);
	cep_flow      *f    = new_flow();
	struct stopper st;

	atomic_store(&read_count, 0);
	cep_flow_sink(
	    cep_flow_file(f, path, CEP_FORMAT_JSONL), count_read, NULL);
	st.f  = f;
	st.at = 1000;
	ck_assert_int_eq(pthread_create(&st.t, NULL, stop_main, &st), 0);
	CEP_ASSERT_OK(cep_test_run_flow(f, 2, 16));
	pthread_join(st.t, NULL);
	ck_assert_uint_lt(atomic_load(&read_count), 200000);
	cep_flow_destroy(f);
	cep_test_tmp_remove(path);
}
END_TEST

/* ---- save and load ----------------------------------------------------- */

START_TEST(state_saved_at_a_stop_carries_on_in_a_fresh_flow)
{
	char          *path = big_input(30000, 40, 26);
	cep_state_mem *m    = cep_state_mem_create();
	cep_state_out  so   = cep_state_mem_out(m);
	cep_state_in   si   = cep_state_mem_in(m);
	cep_flow_opts  opts = { 2, 1, 0 };
	struct outs    ref, out;
	cep_test_out   seen;
	cep_flow      *f;
	char          *rest;

	outs_init(&ref);
	outs_init(&out);
	cep_test_out_init(&seen, NULL);
	/* The same batches throughout: a join's pairs of one key come in
	 * an order that depends on how its two inputs were batched. */
	f = all_ops(path, &ref, NULL);
	CEP_ASSERT_OK(cep_flow_run(f, &opts));
	cep_flow_destroy(f);

	/* Stop right after event 12345 (one event per batch) and save: a
	 * consistent point, where every event read went everywhere. */
	f               = all_ops(path, &out, &seen);
	seen.stop_after = 12345;
	CEP_ASSERT_OK(cep_flow_run(f, &opts));
	ck_assert_uint_eq(seen.n, 12345);
	CEP_ASSERT_OK(cep_flow_save(f, &so));
	cep_flow_destroy(f);

	/* The rest of the input, positions kept, in a flow loaded with it. */
	rest = cep_test_rest_of(path, 12345);
	f    = all_ops(rest, &out, NULL);
	CEP_ASSERT_OK(cep_flow_load(f, &opts, &si));
	CEP_ASSERT_OK(cep_flow_run(f, &opts));
	cep_flow_destroy(f);
	outs_assert_same(&ref, &out);

	cep_test_out_fini(&seen);
	outs_fini(&ref);
	outs_fini(&out);
	cep_state_mem_destroy(m);
	cep_test_tmp_remove(rest);
	cep_test_tmp_remove(path);
}
END_TEST

/* saves renders every entry of a store as text, for comparisons. */
static cep_err
render(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	cep_buf *b = arg;

	cep_buf_printf(b, "%zu:", klen);
	cep_buf_put(b, key, klen);
	cep_buf_printf(b, "=%zu:", vlen);
	cep_buf_put(b, val, vlen);
	return (CEP_OK);
}

START_TEST(state_saved_after_a_run_loads_into_a_fresh_flow)
{
	char          *path = big_input(5000, 20, 27);
	cep_state_mem *m1   = cep_state_mem_create();
	cep_state_mem *m2   = cep_state_mem_create();
	cep_state_out  o1 = cep_state_mem_out(m1), o2 = cep_state_mem_out(m2);
	cep_state_in   i1 = cep_state_mem_in(m1), i2 = cep_state_mem_in(m2);
	cep_flow_opts  opts           = { 3, 0, 0 };
	static const char *const ns[] = { "time/0", "tumble/0", "tumble/2",
		"top/1", "session/2", "reduce/0", "reduce/1", "reduce/2",
		"join/1" };
	struct outs              out;
	cep_flow                *f;
	cep_buf                  a, b;

	outs_init(&out);
	f = all_ops(path, &out, NULL);
	CEP_ASSERT_OK(cep_flow_run(f, &opts));
	CEP_ASSERT_OK(cep_flow_save(f, &o1));
	cep_flow_destroy(f);
	ck_assert_uint_gt(cep_state_mem_count(m1), 20);

	/* Loaded into a flow of the same graph, saved again: the same. */
	f = all_ops(path, &out, NULL);
	CEP_ASSERT_OK(cep_flow_load(f, &opts, &i1));
	CEP_ASSERT_OK(cep_flow_save(f, &o2));
	cep_flow_destroy(f);
	ck_assert_uint_eq(cep_state_mem_count(m1), cep_state_mem_count(m2));
	/* Keyed state is split by key hash among 3 workers: not among 2. */
	f            = all_ops(path, &out, NULL);
	opts.workers = 2;
	CEP_ASSERT_ERR(cep_flow_load(f, &opts, &i1), CEP_EINVAL);
	opts.workers = 3;
	cep_flow_destroy(f);
	cep_buf_init(&a);
	cep_buf_init(&b);
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		cep_buf_reset(&a);
		cep_buf_reset(&b);
		CEP_ASSERT_OK(cep_state_each(&i1, ns[i], render, &a));
		CEP_ASSERT_OK(cep_state_each(&i2, ns[i], render, &b));
		ck_assert_uint_gt(a.len, 0);
		ck_assert_uint_eq(a.len, b.len);
		ck_assert_int_eq(memcmp(a.data, b.data, a.len), 0);
	}
	cep_buf_fini(&a);
	cep_buf_fini(&b);
	outs_fini(&out);
	cep_state_mem_destroy(m1);
	cep_state_mem_destroy(m2);
	cep_test_tmp_remove(path);
}
END_TEST

START_TEST(save_needs_a_flow_that_ran_and_is_not_running)
{
	cep_state_mem *m   = cep_state_mem_create();
	cep_state_out  out = cep_state_mem_out(m);
	cep_flow      *f   = new_flow();

	CEP_ASSERT_ERR(cep_flow_save(f, &out), CEP_ESTATE);
	cep_flow_destroy(f);
	cep_state_mem_destroy(m);
}
END_TEST

/* ---- reload ------------------------------------------------------------ */

static atomic_uint_fast64_t old_count, new_count;

static cep_err
count_old(void *arg, const cep_record *r)
{
	(void) arg;
	(void) r;
	atomic_fetch_add(&old_count, 1);
	return (CEP_OK);
}

static cep_err
count_new(void *arg, const cep_record *r)
{
	(void) arg;
	(void) r;
	atomic_fetch_add(&new_count, 1);
	return (CEP_OK);
}

static int
keep_all(void *arg, const cep_event *ev)
{
	(void) arg;
	(void) ev;
	return (1);
}

/* reload_graph: source -> (count, reloader) -> filter -> time -> key_by -> two
 * windows spanning the whole input: "keep" (a count) and "change" (a
 * count named `agg`, so that another name changes its fingerprint). */
static cep_flow *
reload_graph(const char *path, cep_sink_fn counter, const char *agg,
    cep_test_out *kept, cep_test_out *changed, cep_test_reloader *rl)
{
	static const cep_window all = { CEP_WINDOW_TUMBLE, 1000000000, 0 };
	static const cep_agg    n   = { "n", CEP_AGG_COUNT, NULL };
	cep_agg                 c   = { agg, CEP_AGG_COUNT, NULL };
	cep_flow               *f   = new_flow();
	cep_stream             *s, *k;

	cep_flow_name_next(f, "src");
	s = cep_flow_file(f, path, CEP_FORMAT_JSONL);
	cep_flow_sink(s, counter, NULL);
	if (rl != NULL) {
		cep_flow_sink(s, cep_test_reloader_sink, rl);
	}
	cep_flow_name_next(f, "filter");
	s = cep_flow_filter(s, keep_all, NULL);
	cep_flow_name_next(f, "time");
	s = cep_flow_time(s, "ts", 100);
	cep_flow_name_next(f, "key");
	k = cep_flow_key_by(s, "k");
	cep_flow_name_next(f, "keep");
	cep_flow_sink(
	    cep_flow_window(k, &all, &n, 1, NULL), cep_test_out_sink, kept);
	cep_flow_name_next(f, "change");
	cep_flow_sink(
	    cep_flow_window(k, &all, &c, 1, NULL), cep_test_out_sink, changed);
	CEP_ASSERT_OK(cep_flow_error(f));
	return (f);
}

/* total sums field `name` over collected records. */
static int64_t
total(const cep_test_out *o, const char *name)
{
	int64_t t = 0;

	for (size_t i = 0; i < o->n; i++) {
		cep_event *ev = cep_test_event(o->r[i].json);
		t += get(ev, name).u.i;
		cep_event_unref(ev, NULL);
	}
	return (t);
}

START_TEST(reload_keeps_unchanged_state_and_loses_nothing)
{
	char             *path = big_input(200000, 100, 28);
	cep_test_out      kept_old, changed_old, kept, changed;
	cep_flow         *f, *next;
	cep_test_reloader r;

	for (unsigned w = 1; w <= 4; w *= 3) {
		cep_test_out_init(&kept_old, "k");
		cep_test_out_init(&changed_old, "k");
		cep_test_out_init(&kept, "k");
		cep_test_out_init(&changed, "k");
		atomic_store(&old_count, 0);
		atomic_store(&new_count, 0);
		f = reload_graph(
		    path, count_old, "n", &kept_old, &changed_old, &r);
		next =
		    reload_graph(path, count_new, "m", &kept, &changed, NULL);
		/* Requested after event 50000, applied after its batch. */
		cep_test_reloader_start(&r, f, next, 50000);
		CEP_ASSERT_OK(cep_test_run_flow(f, w, 64));
		CEP_ASSERT_OK(cep_test_reloader_join(&r));
		/* Every event was read once, some by each graph. */
		ck_assert_uint_ge(atomic_load(&old_count), 50000);
		ck_assert_uint_lt(atomic_load(&old_count), 50000 + 64);
		ck_assert_uint_eq(
		    atomic_load(&old_count) + atomic_load(&new_count), 200000);
		/* "keep" counted everything (the window of negative times
		 * closed before the reload), "change" what came after. */
		ck_assert_int_eq(
		    total(&kept_old, "n") + total(&kept, "n"), 200000);
		ck_assert_int_gt(
		    total(&kept, "n"), (int64_t) atomic_load(&new_count));
		ck_assert_int_eq(
		    total(&changed, "m"), (int64_t) atomic_load(&new_count));
		cep_flow_destroy(f);
		cep_test_out_fini(&kept_old);
		cep_test_out_fini(&changed_old);
		cep_test_out_fini(&kept);
		cep_test_out_fini(&changed);
	}
	cep_test_tmp_remove(path);
}
END_TEST

START_TEST(a_reload_that_fails_leaves_the_running_graph_intact)
{
	char             *path = big_input(200000, 100, 29);
	cep_test_out      kept, changed, k2, c2;
	cep_flow         *f, *next;
	cep_test_reloader r;

	cep_test_out_init(&kept, "k");
	cep_test_out_init(&changed, "k");
	cep_test_out_init(&k2, "k");
	cep_test_out_init(&c2, "k");
	atomic_store(&old_count, 0);
	atomic_store(&new_count, 0);
	f = reload_graph(path, count_old, "n", &kept, &changed, &r);
	/* The same graph plus a source that cannot be opened. */
	next = reload_graph(path, count_new, "n", &k2, &c2, NULL);
	cep_flow_sink(
	    cep_flow_file(next, "/nonexistent/cep/x.jsonl", CEP_FORMAT_JSONL),
	    count_new, NULL);
	cep_test_reloader_start(&r, f, next, 50000);
	CEP_ASSERT_OK(cep_test_run_flow(f, 2, 64));
	CEP_ASSERT_ERR(cep_test_reloader_join(&r), CEP_EIO);
	/* Refused: the caller still owns next; the old graph ran on. */
	cep_flow_destroy(next);
	ck_assert_uint_eq(atomic_load(&old_count), 200000);
	ck_assert_uint_eq(atomic_load(&new_count), 0);
	ck_assert_int_eq(total(&kept, "n"), 200000);
	ck_assert_int_eq(total(&changed, "n"), 200000);
	cep_flow_destroy(f);
	cep_test_out_fini(&kept);
	cep_test_out_fini(&changed);
	cep_test_out_fini(&k2);
	cep_test_out_fini(&c2);
	cep_test_tmp_remove(path);
}
END_TEST

START_TEST(a_reload_of_a_flow_that_failed_to_build_returns_its_error)
{
	char             *path = big_input(100000, 10, 30);
	cep_test_out      kept, changed, k2, c2;
	cep_flow         *f, *next;
	cep_test_reloader r;

	cep_test_out_init(&kept, "k");
	cep_test_out_init(&changed, "k");
	cep_test_out_init(&k2, "k");
	cep_test_out_init(&c2, "k");
	atomic_store(&old_count, 0);
	f    = reload_graph(path, count_old, "n", &kept, &changed, &r);
	next = reload_graph(path, count_new, "n", &k2, &c2, NULL);
	ck_assert_ptr_null(cep_flow_time(
	    cep_flow_file(next, path, CEP_FORMAT_JSONL), "ts", -5));
	cep_test_reloader_start(&r, f, next, 1000);
	CEP_ASSERT_OK(cep_test_run_flow(f, 2, 64));
	CEP_ASSERT_ERR(cep_test_reloader_join(&r), CEP_EINVAL);
	cep_flow_destroy(next);
	ck_assert_uint_eq(atomic_load(&old_count), 100000);
	ck_assert_int_eq(total(&kept, "n"), 100000);
	cep_flow_destroy(f);
	cep_test_out_fini(&kept);
	cep_test_out_fini(&changed);
	cep_test_out_fini(&k2);
	cep_test_out_fini(&c2);
	cep_test_tmp_remove(path);
}
END_TEST

START_TEST(reload_refuses_a_flow_that_is_not_running)
{
	char        *path = cep_test_tmp_write("{\"k\":1,\"ts\":1}\n");
	cep_test_out a, b;
	cep_flow    *f, *next;

	cep_test_out_init(&a, NULL);
	cep_test_out_init(&b, NULL);
	f    = reload_graph(path, count_old, "n", &a, &b, NULL);
	next = reload_graph(path, count_new, "n", &a, &b, NULL);
	CEP_ASSERT_ERR(cep_flow_reload(f, next), CEP_ESTATE);
	CEP_ASSERT_OK(cep_test_run_flow(f, 1, 0));
	CEP_ASSERT_ERR(cep_flow_reload(f, next), CEP_ESTATE);
	cep_flow_destroy(next);
	cep_flow_destroy(f);
	cep_test_out_fini(&a);
	cep_test_out_fini(&b);
	cep_test_tmp_remove(path);
}
END_TEST

static Suite *
runtime_suite(void)
{
	Suite *s = suite_create("runtime");
	TCase *t = tcase_create("runtime");

	tcase_set_timeout(t, 600);
	tcase_add_test(t, results_do_not_depend_on_the_number_of_workers);
	tcase_add_test(
	    t, tiny_batches_and_one_batch_in_flight_give_the_same_results);
	tcase_add_test(t, a_union_watermark_is_the_minimum_of_its_inputs);
	tcase_add_test(t, windows_over_a_union_wait_for_the_slower_input);
	tcase_add_test(t, bounded_input_ends_with_infinity_on_every_worker);
	tcase_add_test(
	    t, bad_records_go_to_their_callback_and_the_run_goes_on);
	tcase_add_test(
	    t, an_operator_error_on_a_worker_stops_the_run_and_is_returned);
	tcase_add_test(t, a_sink_error_stops_the_run_and_is_returned);
	tcase_add_test(t, stop_from_another_thread_ends_the_run_without_error);
	tcase_add_test(t, state_saved_at_a_stop_carries_on_in_a_fresh_flow);
	tcase_add_test(t, state_saved_after_a_run_loads_into_a_fresh_flow);
	tcase_add_test(t, save_needs_a_flow_that_ran_and_is_not_running);
	tcase_add_test(t, reload_keeps_unchanged_state_and_loses_nothing);
	tcase_add_test(t, a_reload_that_fails_leaves_the_running_graph_intact);
	tcase_add_test(
	    t, a_reload_of_a_flow_that_failed_to_build_returns_its_error);
	tcase_add_test(t, reload_refuses_a_flow_that_is_not_running);
	tcase_add_test(
	    t, an_ordered_sink_gets_one_order_for_any_number_of_workers);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(runtime_suite)
