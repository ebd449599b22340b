/* SPDX-License-Identifier: MIT */
/*
 * test_op_window.c: keyed event-time windows (cep/op_window.c): window
 * edges (half-open, aligned from time 0, negative times included), sliding
 * membership, session windows that touch and merge, late records, every
 * aggregate with its odd inputs, the output layout, and results that do
 * not depend on input order within max_delay or on the number of workers.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/support/flow_support.h"

static const cep_window tumble_1s = { CEP_WINDOW_TUMBLE, 1000, 0 };
static const cep_agg    count_n   = { "n", CEP_AGG_COUNT, NULL };

/* A window over a temporary file, its outputs collected. */
struct win_run {
	cep_flow    *f;
	cep_test_out out;
	cep_test_out late;
	char        *path;
};

static void
win_run(struct win_run *r, const char *text, const char *key,
    const cep_window *w, const cep_agg *aggs, size_t naggs,
    const char *time_field, int64_t delay, unsigned workers)
{
	cep_stream *s;

	memset(r, 0, sizeof(*r));
	CEP_ASSERT_OK(cep_flow_create(&r->f));
	cep_test_out_init(&r->out, key);
	cep_test_out_init(&r->late, NULL);
	r->path = cep_test_tmp_write(text);
	s       = cep_flow_file(r->f, r->path, CEP_FORMAT_JSONL);
	s = cep_flow_time(s, time_field != NULL ? time_field : "ts", delay);
	s = cep_flow_window(
	    cep_flow_key_by(s, key), w, aggs, naggs, time_field);
	cep_flow_sink(s, cep_test_out_sink, &r->out);
	cep_flow_sink(cep_flow_side(s, "late"), cep_test_out_sink, &r->late);
	CEP_ASSERT_OK(cep_flow_error(r->f));
	CEP_ASSERT_OK(cep_test_run_flow(r->f, workers, 0));
}

static void
win_fini(struct win_run *r)
{
	cep_flow_destroy(r->f);
	cep_test_out_fini(&r->out);
	cep_test_out_fini(&r->late);
	cep_test_tmp_remove(r->path);
}

/* ---- edges and alignment ----------------------------------------------- */

START_TEST(an_event_at_a_windows_end_belongs_to_the_next)
{
	struct win_run r;

	win_run(&r,
	    "{\"k\":\"a\",\"ts\":0}\n{\"k\":\"a\",\"ts\":999}\n"
	    "{\"k\":\"a\",\"ts\":1000}\n{\"k\":\"a\",\"ts\":1999}\n"
	    "{\"k\":\"a\",\"ts\":2000}\n",
	    "k", &tumble_1s, &count_n, 1, NULL, 0, 1);
	ck_assert_str_eq(cep_test_out_text(&r.out, 0),
	    "{\"k\":\"a\",\"window_start\":0,\"window_end\":1000,\"ts\":999,"
	    "\"n\":2}\n"
	    "{\"k\":\"a\",\"window_start\":1000,\"window_end\":2000,"
	    "\"ts\":1999,\"n\":2}\n"
	    "{\"k\":\"a\",\"window_start\":2000,\"window_end\":3000,"
	    "\"ts\":2999,\"n\":1}\n");
	/* The output time is the window's end - 1. */
	ck_assert_int_eq(r.out.r[0].ts, 999);
	ck_assert_int_eq(r.out.r[2].ts, 2999);
	win_fini(&r);
}
END_TEST

START_TEST(tumbling_windows_align_to_zero_for_negative_times)
{
	static const cep_window w300 = { CEP_WINDOW_TUMBLE, 300, 0 };
	struct win_run          r;

	win_run(&r,
	    "{\"ts\":-601}\n{\"ts\":-600}\n{\"ts\":-301}\n{\"ts\":-300}\n"
	    "{\"ts\":-1}\n{\"ts\":0}\n{\"ts\":299}\n{\"ts\":300}\n",
	    NULL, &w300, &count_n, 1, NULL, 1000, 1);
	ck_assert_str_eq(cep_test_out_text(&r.out, 0),
	    "{\"window_start\":-900,\"window_end\":-600,\"ts\":-601,\"n\":1}\n"
	    "{\"window_start\":-600,\"window_end\":-300,\"ts\":-301,\"n\":2}\n"
	    "{\"window_start\":-300,\"window_end\":0,\"ts\":-1,\"n\":2}\n"
	    "{\"window_start\":0,\"window_end\":300,\"ts\":299,\"n\":2}\n"
	    "{\"window_start\":300,\"window_end\":600,\"ts\":599,\"n\":1}\n");
	win_fini(&r);
}
END_TEST

START_TEST(a_sliding_window_holds_every_event_within_its_span)
{
	static const cep_window slide  = { CEP_WINDOW_SLIDE, 1000, 300 };
	static const cep_agg    aggs[] = {
		   { "n", CEP_AGG_COUNT, NULL },
		   { "ids", CEP_AGG_SUM, "id" },
	};
	struct win_run r;

	/* Windows [s, s + 1000) for s multiples of 300: 0 is in those
	 * from -900 to 0; 1000 in those from 300 to 900; -1 from -900 to
	 * -300.  Ids are powers of two, so sums name the members. */
	win_run(&r,
	    "{\"ts\":-1,\"id\":1}\n{\"ts\":0,\"id\":2}\n"
	    "{\"ts\":1000,\"id\":4}\n",
	    NULL, &slide, aggs, 2, NULL, 5000, 1);
	ck_assert_str_eq(cep_test_out_text(&r.out, 0),
	    "{\"window_start\":-900,\"window_end\":100,\"ts\":99,\"n\":2,"
	    "\"ids\":3}\n"
	    "{\"window_start\":-600,\"window_end\":400,\"ts\":399,\"n\":2,"
	    "\"ids\":3}\n"
	    "{\"window_start\":-300,\"window_end\":700,\"ts\":699,\"n\":2,"
	    "\"ids\":3}\n"
	    "{\"window_start\":0,\"window_end\":1000,\"ts\":999,\"n\":1,"
	    "\"ids\":2}\n"
	    "{\"window_start\":300,\"window_end\":1300,\"ts\":1299,\"n\":1,"
	    "\"ids\":4}\n"
	    "{\"window_start\":600,\"window_end\":1600,\"ts\":1599,\"n\":1,"
	    "\"ids\":4}\n"
	    "{\"window_start\":900,\"window_end\":1900,\"ts\":1899,\"n\":1,"
	    "\"ids\":4}\n");
	win_fini(&r);
}
END_TEST

/* ---- sessions ---------------------------------------------------------- */

static const cep_window session_1s = { CEP_WINDOW_SESSION, 1000, 0 };

START_TEST(events_exactly_gap_apart_share_a_session)
{
	struct win_run r;

	win_run(&r,
	    "{\"k\":\"a\",\"ts\":0}\n{\"k\":\"b\",\"ts\":500}\n"
	    "{\"k\":\"a\",\"ts\":1000}\n{\"k\":\"a\",\"ts\":2000}\n"
	    "{\"k\":\"a\",\"ts\":3001}\n",
	    "k", &session_1s, &count_n, 1, NULL, 0, 1);
	ck_assert_str_eq(cep_test_out_text(&r.out, 1),
	    "{\"k\":\"a\",\"window_start\":0,\"window_end\":3000,\"ts\":2999,"
	    "\"n\":3}\n"
	    "{\"k\":\"a\",\"window_start\":3001,\"window_end\":4001,"
	    "\"ts\":4000,\"n\":1}\n"
	    "{\"k\":\"b\",\"window_start\":500,\"window_end\":1500,"
	    "\"ts\":1499,\"n\":1}\n");
	win_fini(&r);
}
END_TEST

START_TEST(an_event_bridging_two_sessions_merges_them)
{
	static const cep_agg aggs[] = {
		{ "n", CEP_AGG_COUNT, NULL },
		{ "s", CEP_AGG_SUM, "v" },
		{ "lo", CEP_AGG_MIN, "v" },
		{ "hi", CEP_AGG_MAX, "v" },
		{ "d", CEP_AGG_COUNT_DISTINCT, "c" },
	};
	struct win_run r;

	/* [0, 1000) and [1800, 2800) and [5000, 6000), then 900 reaches
	 * both of the first two: [0, 2800). */
	win_run(&r,
	    "{\"ts\":0,\"v\":1,\"c\":\"x\"}\n"
	    "{\"ts\":1800,\"v\":10,\"c\":\"y\"}\n"
	    "{\"ts\":5000,\"v\":100,\"c\":\"x\"}\n"
	    "{\"ts\":900,\"v\":1000,\"c\":\"x\"}\n",
	    NULL, &session_1s, aggs, 5, NULL, 10000, 1);
	ck_assert_str_eq(cep_test_out_text(&r.out, 0),
	    "{\"window_start\":0,\"window_end\":2800,\"ts\":2799,\"n\":3,"
	    "\"s\":1011,\"lo\":1,\"hi\":1000,\"d\":2}\n"
	    "{\"window_start\":5000,\"window_end\":6000,\"ts\":5999,\"n\":1,"
	    "\"s\":100,\"lo\":100,\"hi\":100,\"d\":1}\n");
	win_fini(&r);
}
END_TEST

START_TEST(merging_sessions_whose_int_sums_overflow_gives_a_double)
{
	static const cep_agg aggs[] = {
		{ "s", CEP_AGG_SUM, "v" },
		{ "avg", CEP_AGG_AVG, "v" },
	};
	struct win_run r;

	/* Each session alone holds 6e18 (an int); merged by the event at
	 * 1000 they hold 1.2e19 + 1, beyond int64: a double. */
	win_run(&r,
	    "{\"ts\":0,\"v\":6000000000000000000}\n"
	    "{\"ts\":2000,\"v\":6000000000000000000}\n"
	    "{\"ts\":1000,\"v\":1}\n",
	    NULL, &session_1s, aggs, 2, NULL, 10000, 1);
	ck_assert_str_eq(cep_test_out_text(&r.out, 0),
	    "{\"window_start\":0,\"window_end\":3000,\"ts\":2999,"
	    "\"s\":1.2e+19,\"avg\":4e+18}\n");
	win_fini(&r);
}
END_TEST

/* A session ends at last + gap, and an event at exactly the watermark is
 * on time: being exactly gap after the last one, it joins the session.
 * Here key b's event takes the watermark to 1000 first. */
START_TEST(an_event_gap_after_the_last_joins_even_at_the_watermark)
{
	struct win_run r;

	win_run(&r,
	    "{\"k\":\"a\",\"ts\":0}\n{\"k\":\"b\",\"ts\":1000}\n"
	    "{\"k\":\"a\",\"ts\":1000}\n",
	    "k", &session_1s, &count_n, 1, NULL, 0, 1);
	ck_assert_str_eq(cep_test_out_text(&r.out, 1),
	    "{\"k\":\"a\",\"window_start\":0,\"window_end\":2000,\"ts\":1999,"
	    "\"n\":2}\n"
	    "{\"k\":\"b\",\"window_start\":1000,\"window_end\":2000,"
	    "\"ts\":1999,\"n\":1}\n");
	win_fini(&r);
}
END_TEST

/* A session open while the watermark stands at its end holds the
 * watermark it forwards below its output time (end - 1): a window over the
 * sessions finds none of them late. */
START_TEST(a_session_output_is_never_late_downstream)
{
	static const cep_window ten_s = { CEP_WINDOW_TUMBLE, 10000, 0 };
	char                   *path;
	cep_flow               *f = NULL;
	cep_test_out            out, late;
	cep_stream             *s;

	path = cep_test_tmp_write("{\"k\":\"a\",\"ts\":0}\n"
	                          "{\"k\":\"b\",\"ts\":1000}\n"
	                          "{\"k\":\"c\",\"ts\":1001}\n");
	CEP_ASSERT_OK(cep_flow_create(&f));
	cep_test_out_init(&out, NULL);
	cep_test_out_init(&late, NULL);
	s = cep_flow_time(cep_flow_file(f, path, CEP_FORMAT_JSONL), "ts", 0);
	s = cep_flow_window(
	    cep_flow_key_by(s, "k"), &session_1s, &count_n, 1, NULL);
	s = cep_flow_window(
	    cep_flow_key_by(s, NULL), &ten_s, &count_n, 1, NULL);
	cep_flow_sink(s, cep_test_out_sink, &out);
	cep_flow_sink(cep_flow_side(s, "late"), cep_test_out_sink, &late);
	CEP_ASSERT_OK(cep_test_run_flow(f, 2, 1));
	ck_assert_uint_eq(late.n, 0);
	ck_assert_str_eq(cep_test_out_text(&out, 0),
	    "{\"window_start\":0,\"window_end\":10000,\"ts\":9999,"
	    "\"n\":3}\n");
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_out_fini(&late);
	cep_test_tmp_remove(path);
}
END_TEST

/* ---- late records ------------------------------------------------------ */

START_TEST(records_behind_the_watermark_go_to_late)
{
	static const cep_window w100 = { CEP_WINDOW_TUMBLE, 100, 0 };
	char                   *path;
	cep_flow               *f = NULL;
	cep_test_out            out, late;
	cep_stream             *s;

	path = cep_test_tmp_write("{\"ts\":1000,\"i\":1}\n"
	                          "{\"ts\":1000,\"i\":2,\"back\":101}\n"
	                          "{\"ts\":1000,\"i\":3,\"back\":100}\n"
	                          "{\"ts\":2000,\"i\":4}\n");
	CEP_ASSERT_OK(cep_flow_create(&f));
	cep_test_out_init(&out, NULL);
	cep_test_out_init(&late, NULL);
	s = cep_flow_time(cep_flow_file(f, path, CEP_FORMAT_JSONL), "ts", 100);
	s = cep_flow_op(&s, 1, &cep_test_shift_class, NULL);
	s = cep_flow_window(
	    cep_flow_key_by(s, NULL), &w100, &count_n, 1, NULL);
	cep_flow_sink(s, cep_test_out_sink, &out);
	cep_flow_sink(cep_flow_side(s, "late"), cep_test_out_sink, &late);
	CEP_ASSERT_OK(cep_test_run_flow(f, 2, 1));
	/* The watermark is 900 after the first: 899 is late, 900 is not. */
	ck_assert_str_eq(cep_test_out_text(&late, 0),
	    "{\"ts\":1000,\"i\":2,\"back\":101}\n");
	ck_assert_int_eq(late.r[0].ts, 899);
	ck_assert_str_eq(cep_test_out_text(&out, 0),
	    "{\"window_start\":900,\"window_end\":1000,\"ts\":999,\"n\":1}\n"
	    "{\"window_start\":1000,\"window_end\":1100,\"ts\":1099,\"n\":1}\n"
	    "{\"window_start\":2000,\"window_end\":2100,\"ts\":2099,\"n\":1}"
	    "\n");
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_out_fini(&late);
	cep_test_tmp_remove(path);
}
END_TEST

/* ---- aggregates -------------------------------------------------------- */

START_TEST(every_aggregate_over_numbers_nulls_and_other_values)
{
	static const cep_agg aggs[] = {
		{ "n", CEP_AGG_COUNT, NULL },
		{ "sum", CEP_AGG_SUM, "v" },
		{ "avg", CEP_AGG_AVG, "v" },
		{ "min", CEP_AGG_MIN, "v" },
		{ "max", CEP_AGG_MAX, "v" },
		{ "d", CEP_AGG_COUNT_DISTINCT, "v" },
	};
	struct win_run r;

	win_run(&r,
	    /* ints only: an int sum */
	    "{\"k\":\"ints\",\"ts\":1,\"v\":3}\n"
	    "{\"k\":\"ints\",\"ts\":2,\"v\":-7}\n"
	    "{\"k\":\"ints\",\"ts\":3,\"v\":3}\n"
	    /* a double joins: a double sum; min/max compare across types */
	    "{\"k\":\"mixed\",\"ts\":1,\"v\":2}\n"
	    "{\"k\":\"mixed\",\"ts\":2,\"v\":2.5}\n"
	    "{\"k\":\"mixed\",\"ts\":3,\"v\":2.0}\n"
	    /* nulls, strings, bools, maps, missing: skipped by the numeric
	     * aggregates; count_distinct takes non-null scalars */
	    "{\"k\":\"odd\",\"ts\":1,\"v\":null}\n"
	    "{\"k\":\"odd\",\"ts\":2,\"v\":\"5\"}\n"
	    "{\"k\":\"odd\",\"ts\":3,\"v\":true}\n"
	    "{\"k\":\"odd\",\"ts\":4,\"v\":{\"x\":1}}\n"
	    "{\"k\":\"odd\",\"ts\":5}\n"
	    "{\"k\":\"odd\",\"ts\":6,\"v\":[1]}\n"
	    "{\"k\":\"odd\",\"ts\":7,\"v\":\"5\"}\n"
	    /* an int sum that overflows becomes a double */
	    "{\"k\":\"big\",\"ts\":1,\"v\":9223372036854775807}\n"
	    "{\"k\":\"big\",\"ts\":2,\"v\":1}\n"
	    "{\"k\":\"big\",\"ts\":3,\"v\":-9223372036854775807}\n"
	    /* no value at all */
	    "{\"k\":\"none\",\"ts\":1}\n",
	    "k", &tumble_1s, aggs, 6, NULL, 100, 1);
	ck_assert_str_eq(cep_test_out_text(&r.out, 1),
	    "{\"k\":\"big\",\"window_start\":0,\"window_end\":1000,\"ts\":999,"
	    "\"n\":3,\"sum\":0.0,\"avg\":0.0,"
	    "\"min\":-9223372036854775807,\"max\":9223372036854775807,"
	    "\"d\":3}\n"
	    "{\"k\":\"ints\",\"window_start\":0,\"window_end\":1000,"
	    "\"ts\":999,\"n\":3,\"sum\":-1,\"avg\":-0.3333333333333333,"
	    "\"min\":-7,\"max\":3,\"d\":2}\n"
	    "{\"k\":\"mixed\",\"window_start\":0,\"window_end\":1000,"
	    "\"ts\":999,\"n\":3,\"sum\":6.5,\"avg\":2.1666666666666665,"
	    "\"min\":2,\"max\":2.5,\"d\":2}\n"
	    "{\"k\":\"none\",\"window_start\":0,\"window_end\":1000,"
	    "\"ts\":999,\"n\":1,\"sum\":0,\"avg\":null,\"min\":null,"
	    "\"max\":null,\"d\":0}\n"
	    "{\"k\":\"odd\",\"window_start\":0,\"window_end\":1000,"
	    "\"ts\":999,\"n\":7,\"sum\":0,\"avg\":null,\"min\":null,"
	    "\"max\":null,\"d\":2}\n");
	win_fini(&r);
}
END_TEST

START_TEST(count_distinct_counts_equal_numbers_once_past_its_compaction)
{
	static const cep_agg aggs[] = {
		{ "d", CEP_AGG_COUNT_DISTINCT, "v" },
	};
	struct win_run r;
	char          *text = malloc(400 * 40);
	size_t         len  = 0;

	ck_assert_ptr_nonnull(text);
	/* 300 values, 100 distinct: i % 100 as an int, a double, again. */
	for (int i = 0; i < 300; i++) {
		len += (size_t) sprintf(text + len,
		    i % 3 == 1 ? "{\"ts\":%d,\"v\":%d.0}\n"
		               : "{\"ts\":%d,\"v\":%d}\n",
		    i, (i * 7) % 100);
	}
	win_run(&r, text, NULL, &tumble_1s, aggs, 1, NULL, 0, 1);
	ck_assert_str_eq(cep_test_out_text(&r.out, 0),
	    "{\"window_start\":0,\"window_end\":1000,\"ts\":999,\"d\":100}\n");
	win_fini(&r);
	free(text);
}
END_TEST

/* ---- output layout ----------------------------------------------------- */

START_TEST(nested_key_and_time_paths_are_written_as_nested_maps)
{
	static const cep_agg aggs[] = {
		{ "total", CEP_AGG_SUM, "m.bytes" },
	};
	struct win_run r;

	win_run(&r,
	    "{\"src\":{\"ip\":\"10.0.0.1\"},\"t\":{\"ms\":5},"
	    "\"m\":{\"bytes\":7}}\n"
	    "{\"src\":{\"ip\":\"10.0.0.1\"},\"t\":{\"ms\":6},"
	    "\"m\":{\"bytes\":8}}\n",
	    "src.ip", &tumble_1s, aggs, 1, "t.ms", 0, 1);
	ck_assert_str_eq(cep_test_out_text(&r.out, 0),
	    "{\"src\":{\"ip\":\"10.0.0.1\"},\"window_start\":0,"
	    "\"window_end\":1000,\"t\":{\"ms\":999},\"total\":15}\n");
	win_fini(&r);
}
END_TEST

/* This fails today (op_window.c, emit_window): a key path and a time path
 * under one parent map are written as two maps of the same name, and the
 * second hides the first: the output has no key any more, so a pattern
 * keyed on the same path finds none. */
START_TEST(key_and_time_paths_sharing_a_parent_share_its_map)
{
	struct win_run r;
	cep_val        v;
	cep_sym        key[2] = { cep_sym_intern_str("meta"),
		       cep_sym_intern_str("src") };
	cep_event     *ev;

	win_run(&r, "{\"meta\":{\"src\":\"a\",\"ts\":5}}\n", "meta.src",
	    &tumble_1s, &count_n, 1, "meta.ts", 0, 1);
	ck_assert_uint_eq(r.out.n, 1);
	ev = cep_test_event(r.out.r[0].json);
	cep_slot_val(ev, cep_event_find_path(ev, key, 2), &v);
	ck_assert_msg(v.type == CEP_T_STR, "no key in %s", r.out.r[0].json);
	cep_event_unref(ev, NULL);
	ck_assert_str_eq(r.out.r[0].json,
	    "{\"meta\":{\"src\":\"a\",\"ts\":999},\"window_start\":0,"
	    "\"window_end\":1000,\"n\":1}");
	win_fini(&r);
}
END_TEST

/* ---- order and workers ------------------------------------------------- */

/* gen writes n events over nkeys keys, times rising by 1..9 ms with some
 * moved back by less than `disorder` ms (none in the sorted copy), and
 * double values that do not add up exactly (or, when exact, integers). */
static char *
gen(int n, int nkeys, int disorder, int sorted_copy, int exact, uint64_t seed)
{
	int64_t *ts  = malloc((size_t) n * sizeof(int64_t));
	int     *ord = malloc((size_t) n * sizeof(int));
	FILE    *fp;
	char    *path;
	int64_t  t = 0;

	ck_assert_ptr_nonnull(ts);
	ck_assert_ptr_nonnull(ord);
	for (int i = 0; i < n; i++) {
		t += 1 + (int64_t) (cep_test_rand(&seed) % 9);
		ts[i]  = t;
		ord[i] = i;
	}
	/* Swap neighbours less than `disorder` ms apart. */
	for (int i = 1; disorder > 0 && !sorted_copy && i < n; i++) {
		if (cep_test_rand(&seed) % 3 == 0 &&
		    ts[ord[i]] - ts[ord[i - 1]] < disorder) {
			int x      = ord[i];
			ord[i]     = ord[i - 1];
			ord[i - 1] = x;
		}
	}
	fp = cep_test_tmp_open(&path);
	for (int i = 0; i < n; i++) {
		int      j = ord[i];
		uint64_t h = (uint64_t) j * 0x9e3779b97f4a7c15ull;
		fprintf(fp,
		    "{\"k\":\"k%d\",\"ts\":%lld,\"v\":%.17g,\"c\":%d}\n",
		    (int) ((h >> 40) % (uint64_t) nkeys), (long long) ts[j],
		    (double) ((h >> 20) % 100000) / (exact ? 1.0 : 7.0),
		    (int) ((h >> 50) % 5));
	}
	ck_assert_int_eq(fclose(fp), 0);
	free(ts);
	free(ord);
	return (path);
}

static const cep_agg all_aggs[] = {
	{ "n", CEP_AGG_COUNT, NULL },
	{ "sum", CEP_AGG_SUM, "v" },
	{ "avg", CEP_AGG_AVG, "v" },
	{ "min", CEP_AGG_MIN, "v" },
	{ "max", CEP_AGG_MAX, "v" },
	{ "d", CEP_AGG_COUNT_DISTINCT, "c" },
};

/* run_file runs a window over a file into out. */
static void
run_file(const char *path, const cep_window *w, int64_t delay,
    unsigned workers, cep_test_out *out)
{
	cep_flow   *f = NULL;
	cep_stream *s;

	CEP_ASSERT_OK(cep_flow_create(&f));
	s = cep_flow_time(
	    cep_flow_file(f, path, CEP_FORMAT_JSONL), "ts", delay);
	s = cep_flow_window(cep_flow_key_by(s, "k"), w, all_aggs, 6, NULL);
	cep_flow_sink(s, cep_test_out_sink, out);
	CEP_ASSERT_OK(cep_test_run_flow(f, workers, 0));
	cep_flow_destroy(f);
}

static const cep_window kinds[] = {
	{ CEP_WINDOW_TUMBLE, 1000, 0 },
	{ CEP_WINDOW_SLIDE, 2000, 500 },
	{ CEP_WINDOW_SESSION, 30, 0 },
};

/* Windows over a shuffled copy (within the delay) equal those over the
 * sorted events (values exact in binary, so sums cannot differ by order). */
START_TEST(out_of_order_input_within_the_delay_gives_the_sorted_windows)
{
	char *sorted   = gen(20000, 5, 20, 1, 1, 7);
	char *shuffled = gen(20000, 5, 20, 0, 1, 7);

	for (size_t i = 0; i < 3; i++) {
		cep_test_out a, b;

		cep_test_out_init(&a, "k");
		cep_test_out_init(&b, "k");
		run_file(sorted, &kinds[i], 20, 1, &a);
		run_file(shuffled, &kinds[i], 20, 1, &b);
		ck_assert_uint_gt(a.n, 100);
		cep_test_out_assert_same(&a, &b);
		cep_test_out_fini(&a);
		cep_test_out_fini(&b);
	}
	cep_test_tmp_remove(sorted);
	cep_test_tmp_remove(shuffled);
}
END_TEST

START_TEST(results_do_not_depend_on_the_number_of_workers)
{
	char *path = gen(30000, 300, 20, 0, 0, 11);

	for (size_t i = 0; i < 3; i++) {
		cep_test_out ref;

		cep_test_out_init(&ref, "k");
		run_file(path, &kinds[i], 20, 1, &ref);
		ck_assert_uint_gt(ref.n, 300);
		for (unsigned w = 2; w <= 4; w *= 2) {
			cep_test_out out;
			cep_test_out_init(&out, "k");
			run_file(path, &kinds[i], 20, w, &out);
			cep_test_out_assert_same(&ref, &out);
			cep_test_out_fini(&out);
		}
		cep_test_out_fini(&ref);
	}
	cep_test_tmp_remove(path);
}
END_TEST

/* A window over a window: the second one's input crosses from worker to
 * worker (one channel per worker). */
static void
run_two_levels(const char *path, unsigned workers, cep_test_out *out)
{
	static const cep_agg sum_v   = { "s", CEP_AGG_SUM, "v" };
	static const cep_agg sum_s[] = {
		{ "total", CEP_AGG_SUM, "s" },
		{ "mean", CEP_AGG_AVG, "s" },
	};
	static const cep_window w5 = { CEP_WINDOW_TUMBLE, 5000, 0 };
	cep_flow               *f  = NULL;
	cep_stream             *s;

	CEP_ASSERT_OK(cep_flow_create(&f));
	s = cep_flow_time(cep_flow_file(f, path, CEP_FORMAT_JSONL), "ts", 20);
	s = cep_flow_window(
	    cep_flow_key_by(s, "k"), &tumble_1s, &sum_v, 1, NULL);
	s = cep_flow_window(cep_flow_key_by(s, NULL), &w5, sum_s, 2, NULL);
	cep_flow_sink(s, cep_test_out_sink, out);
	CEP_ASSERT_OK(cep_test_run_flow(f, workers, 0));
	cep_flow_destroy(f);
}

START_TEST(windows_after_a_worker_exchange_do_not_depend_on_workers)
{
	char        *path = gen(30000, 300, 20, 0, 0, 13);
	cep_test_out ref;

	cep_test_out_init(&ref, NULL);
	run_two_levels(path, 1, &ref);
	ck_assert_uint_gt(ref.n, 10);
	for (unsigned w = 2; w <= 4; w *= 2) {
		cep_test_out out;
		cep_test_out_init(&out, NULL);
		run_two_levels(path, w, &out);
		cep_test_out_assert_same(&ref, &out);
		cep_test_out_fini(&out);
	}
	cep_test_out_fini(&ref);
	cep_test_tmp_remove(path);
}
END_TEST

START_TEST(the_end_of_input_closes_every_window)
{
	static const cep_window big  = { CEP_WINDOW_TUMBLE, 1000000, 0 };
	static const cep_window ses  = { CEP_WINDOW_SESSION, 1000000, 0 };
	const cep_window       *ws[] = { &big, &ses };

	for (size_t i = 0; i < 2; i++) {
		struct win_run r;
		win_run(&r,
		    "{\"k\":1,\"ts\":5}\n{\"k\":2,\"ts\":6}\n{\"k\":1,\"ts\":"
		    "7}\n",
		    "k", ws[i], &count_n, 1, NULL, 0, 3);
		ck_assert_uint_eq(r.out.n, 2);
		win_fini(&r);
	}
}
END_TEST

/* Event times are bounded by CEP_TIME_LIMIT (2^61 ms): windows at both
 * ends stay in range (no overflow, an abort under UBSan), and times beyond
 * are not usable. */
START_TEST(times_at_the_limits_stay_in_range)
{
	static const cep_window slide = { CEP_WINDOW_SLIDE, 1000, 500 };
	const cep_window       *ws[]  = { &tumble_1s, &slide, &session_1s };

	for (size_t i = 0; i < 3; i++) {
		struct win_run r;
		win_run(&r,
		    "{\"ts\":-2305843009213693952}\n"
		    "{\"ts\":2305843009213693952}\n"
		    "{\"ts\":-2305843009213693953}\n"
		    "{\"ts\":9223372036854775807}\n",
		    NULL, ws[i], &count_n, 1, NULL, 0, 1);
		/* Two usable times; a slide puts each in two windows. */
		ck_assert_uint_eq(r.out.n, ws[i] == &slide ? 4 : 2);
		for (size_t k = 0; k < r.out.n; k++) {
			cep_event *ev = cep_test_event(r.out.r[k].json);
			cep_val    s, e;
			cep_slot_val(ev,
			    cep_event_find(
			        ev, cep_sym_intern_str("window_start")),
			    &s);
			cep_slot_val(ev,
			    cep_event_find(
			        ev, cep_sym_intern_str("window_end")),
			    &e);
			ck_assert_msg(s.u.i < e.u.i, "%s", r.out.r[k].json);
			cep_event_unref(ev, NULL);
		}
		win_fini(&r);
	}
}
END_TEST

static Suite *
op_window_suite(void)
{
	Suite *s = suite_create("op_window");
	TCase *t = tcase_create("op_window");

	tcase_set_timeout(t, 300);
	tcase_add_test(t, an_event_at_a_windows_end_belongs_to_the_next);
	tcase_add_test(t, tumbling_windows_align_to_zero_for_negative_times);
	tcase_add_test(t, a_sliding_window_holds_every_event_within_its_span);
	tcase_add_test(t, events_exactly_gap_apart_share_a_session);
	tcase_add_test(t, an_event_bridging_two_sessions_merges_them);
	tcase_add_test(
	    t, merging_sessions_whose_int_sums_overflow_gives_a_double);
	tcase_add_test(
	    t, an_event_gap_after_the_last_joins_even_at_the_watermark);
	tcase_add_test(t, a_session_output_is_never_late_downstream);
	tcase_add_test(t, records_behind_the_watermark_go_to_late);
	tcase_add_test(t, every_aggregate_over_numbers_nulls_and_other_values);
	tcase_add_test(
	    t, count_distinct_counts_equal_numbers_once_past_its_compaction);
	tcase_add_test(
	    t, nested_key_and_time_paths_are_written_as_nested_maps);
	tcase_add_test(t, key_and_time_paths_sharing_a_parent_share_its_map);
	tcase_add_test(
	    t, out_of_order_input_within_the_delay_gives_the_sorted_windows);
	tcase_add_test(t, results_do_not_depend_on_the_number_of_workers);
	tcase_add_test(
	    t, windows_after_a_worker_exchange_do_not_depend_on_workers);
	tcase_add_test(t, the_end_of_input_closes_every_window);
	tcase_add_test(t, times_at_the_limits_stay_in_range);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(op_window_suite)
