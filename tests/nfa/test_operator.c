/* SPDX-License-Identifier: MIT */
/*
 * test_operator.c: the CEP operator in a dataflow graph (nfa/operator.c
 * with cep/runtime.c): match records and their times, late records, the
 * end of input firing timeouts, results over windows that do not depend on
 * the number of workers, a partial match that spans a reload, and matcher
 * state saved at a stop and loaded into a fresh flow.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "nfa/nfa.h"
#include "tests/support/flow_support.h"

/* ---- patterns by hand -------------------------------------------------- */

struct step_def {
	const char *name;
	nfa_join    join;
	const char *where; /* NULL: any event */
	uint32_t    times; /* 0: once */
	bool        consecutive;
};

struct prog_def {
	const char            *name;
	const char            *key; /* NULL: one global partition */
	nfa_skip               skip;
	int64_t                within;
	bool                   timeouts;
	const struct step_def *steps;
	size_t                 nsteps;
};

/* make_prog compiles a pattern the way an embedder would: steps, their
 * conditions compiled against the leaf names, validation, compilation. */
static nfa_prog *
make_prog(const struct prog_def *def)
{
	nfa_pattern *p    = nfa_pattern_create();
	cep_diag    *d    = cep_diag_create();
	nfa_prog    *prog = NULL;
	uint8_t      vis[8];

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_le(def->nsteps, 8);
	ck_assert_ptr_nonnull(p->name = cep_strdup(def->name));
	if (def->key != NULL) {
		CEP_ASSERT_OK(
		    cep_path_parse(&p->key, def->key, strlen(def->key)));
	}
	p->skip     = def->skip;
	p->within   = def->within;
	p->timeouts = def->timeouts;
	p->steps    = cep_calloc(def->nsteps, sizeof(nfa_step));
	p->leaves   = cep_calloc(def->nsteps, sizeof(char *));
	ck_assert_ptr_nonnull(p->steps);
	ck_assert_ptr_nonnull(p->leaves);
	p->nsteps  = def->nsteps;
	p->nleaves = def->nsteps;
	for (size_t i = 0; i < def->nsteps; i++) {
		ck_assert_ptr_nonnull(
		    p->leaves[i] = cep_strdup(def->steps[i].name));
	}
	for (size_t i = 0; i < def->nsteps; i++) {
		const struct step_def *sd = &def->steps[i];
		nfa_step              *s  = &p->steps[i];
		nfa_scope              sc;
		ck_assert_ptr_nonnull(s->name = cep_strdup(sd->name));
		s->join = sd->join;
		s->leaf = (uint32_t) i;
		if (sd->times > 0) {
			s->quant       = NFA_QUANT_TIMES;
			s->times_min   = sd->times;
			s->times_max   = sd->times;
			s->consecutive = sd->consecutive;
		}
		if (sd->where == NULL) {
			continue;
		}
		for (size_t j = 0; j < def->nsteps; j++) {
			vis[j] = j < i || (j == i && sd->times > 1);
		}
		memset(&sc, 0, sizeof(sc));
		sc.steps   = (const char *const *) p->leaves;
		sc.nsteps  = p->nleaves;
		sc.visible = vis;
		sc.current = sd->name;
		ck_assert_msg(nfa_expr_compile(sd->where, strlen(sd->where),
		                  &sc, &s->where, d) == CEP_OK,
		    "%s", cep_test_diag_text(d));
	}
	ck_assert_msg(
	    nfa_pattern_validate(p, d) == CEP_OK, "%s", cep_test_diag_text(d));
	ck_assert_msg(nfa_prog_create(p, &prog, d) == CEP_OK, "%s",
	    cep_test_diag_text(d));
	cep_diag_destroy(d);
	return (prog);
}

static const struct step_def a_then_b[] = {
	{ "a", NFA_JOIN_BEGIN, "kind == \"a\"", 0, false },
	{ "b", NFA_JOIN_FOLLOWED_BY, "kind == \"b\"", 0, false },
};

static const struct prog_def a_then_b_by_user = {
	"ab",
	"user",
	NFA_SKIP_PAST_LAST_EVENT,
	0,
	false,
	a_then_b,
	2,
};

/* pattern_flow: file -> time(ts, delay) -> [shift] -> key_by(user) ->
 * pattern -> out (late records -> late). */
static cep_flow *
pattern_flow(const char *path, nfa_prog *prog, int64_t delay,
    cep_test_out *out, cep_test_out *late, nfa_op_stats *stats)
{
	cep_flow   *f = NULL;
	cep_stream *s;

	CEP_ASSERT_OK(cep_flow_create(&f));
	s = cep_flow_time(
	    cep_flow_file(f, path, CEP_FORMAT_JSONL), "ts", delay);
	s = cep_flow_op(&s, 1, &cep_test_shift_class, NULL);
	s = nfa_flow_pattern(cep_flow_key_by(s, "user"), prog, stats);
	cep_flow_sink(s, cep_test_out_sink, out);
	if (late != NULL) {
		cep_flow_sink(
		    cep_flow_side(s, "late"), cep_test_out_sink, late);
	}
	CEP_ASSERT_OK(cep_flow_error(f));
	return (f);
}

START_TEST(matches_leave_as_records_timed_at_their_last_event)
{
	char *path =
	    cep_test_tmp_write("{\"user\":\"u1\",\"kind\":\"a\",\"ts\":1}\n"
	                       "{\"user\":\"u2\",\"kind\":\"a\",\"ts\":2}\n"
	                       "{\"user\":\"u1\",\"kind\":\"b\",\"ts\":3}\n"
	                       "{\"user\":\"u2\",\"kind\":\"c\",\"ts\":4}\n"
	                       "{\"kind\":\"b\",\"ts\":4}\n"
	                       "{\"user\":\"u2\",\"kind\":\"b\",\"ts\":5}\n");
	nfa_prog    *prog = make_prog(&a_then_b_by_user);
	nfa_op_stats stats;
	cep_test_out out;
	cep_flow    *f;

	memset(&stats, 0, sizeof(stats));
	cep_test_out_init(&out, "key");
	f = pattern_flow(path, prog, 0, &out, NULL, &stats);
	nfa_prog_unref(prog); /* the flow holds its own reference */
	CEP_ASSERT_OK(cep_test_run_flow(f, 2, 0));
	ck_assert_uint_eq(out.n, 2);
	for (size_t i = 0; i < out.n; i++) {
		int u1 = strstr(out.r[i].json, "\"key\":\"u1\"") != NULL;
		ck_assert_msg(
		    strncmp(out.r[i].json,
		        u1 ? "{\"pattern\":\"ab\",\"key\":\"u1\","
		             "\"start\":1,\"end\":3,\"match\":{\"a\":"
		             "[{\"user\":\"u1\",\"kind\":\"a\",\"ts\":1}],"
		             "\"b\":[{\"user\":\"u1\",\"kind\":\"b\","
		             "\"ts\":3}]},\"id\":\""
		           : "{\"pattern\":\"ab\",\"key\":\"u2\","
		             "\"start\":2,\"end\":5,\"match\":{\"a\":"
		             "[{\"user\":\"u2\",\"kind\":\"a\",\"ts\":2}],"
		             "\"b\":[{\"user\":\"u2\",\"kind\":\"b\","
		             "\"ts\":5}]},\"id\":\"",
		        strlen("{\"pattern\":\"ab\",\"key\":\"u1\","
		               "\"start\":1,\"end\":3,\"match\":{\"a\":"
		               "[{\"user\":\"u1\",\"kind\":\"a\",\"ts\":1}],"
		               "\"b\":[{\"user\":\"u1\",\"kind\":\"b\","
		               "\"ts\":3}]},\"id\":\"")) == 0,
		    "%s", out.r[i].json);
		ck_assert_int_eq(out.r[i].ts, u1 ? 3 : 5);
	}
	cep_flow_destroy(f);
	/* Counted as the instances finished. */
	ck_assert_uint_eq(atomic_load(&stats.matches), 2);
	ck_assert_uint_eq(atomic_load(&stats.events), 5);
	cep_test_out_fini(&out);
	cep_test_tmp_remove(path);
}
END_TEST

/* A sink that stops its flow at the first record. */
struct stopper {
	cep_flow   *f;
	atomic_uint n;
};

static cep_err
stop_sink(void *arg, const cep_record *r)
{
	struct stopper *s = arg;

	(void) r;
	atomic_fetch_add(&s->n, 1);
	cep_flow_stop(s->f);
	return (CEP_OK);
}

START_TEST(counters_are_current_before_the_run_ends)
{
	nfa_prog      *prog = make_prog(&a_then_b_by_user);
	nfa_op_stats   stats;
	cep_buf        text;
	char          *path;
	cep_flow      *f = NULL;
	cep_stream    *s;
	struct stopper stop;

	/* Far more input than goes by before the stop takes. */
	cep_buf_init(&text);
	for (int i = 0; i < 100000; i++) {
		char line[80];
		int  n = snprintf(line, sizeof(line),
		     "{\"user\":\"u%d\",\"kind\":\"%s\",\"ts\":%d}\n",
		     i / 2 % 50, i % 2 ? "b" : "a", i);
		cep_buf_put(&text, line, (size_t) n);
	}
	cep_buf_put_u8(&text, 0);
	path = cep_test_tmp_write((const char *) text.data);
	cep_buf_fini(&text);
	memset(&stats, 0, sizeof(stats));
	CEP_ASSERT_OK(cep_flow_create(&f));
	s = cep_flow_time(cep_flow_file(f, path, CEP_FORMAT_JSONL), "ts", 0);
	s = nfa_flow_pattern(cep_flow_key_by(s, "user"), prog, &stats);
	stop.f = f;
	atomic_init(&stop.n, 0);
	cep_flow_sink(s, stop_sink, &stop);
	nfa_prog_unref(prog);
	CEP_ASSERT_OK(cep_test_run_flow(f, 2, 16));
	/* The instances never saw the end of input: what they matched and
	 * took in is counted all the same. */
	ck_assert_uint_ge(atomic_load(&stop.n), 1);
	ck_assert_uint_ge(atomic_load(&stats.matches), atomic_load(&stop.n));
	ck_assert_uint_gt(atomic_load(&stats.events), 0);
	ck_assert_uint_lt(atomic_load(&stats.events), 100000);
	cep_flow_destroy(f);
	cep_test_tmp_remove(path);
}
END_TEST

START_TEST(records_behind_the_matchers_watermark_go_to_late)
{
	/* After u1's a at 100 (delay 10) the watermark is 90: a b moved back
	 * to 89 is late, one moved back to 90 completes the match. */
	char *path = cep_test_tmp_write(
	    "{\"user\":\"u1\",\"kind\":\"a\",\"ts\":85}\n"
	    "{\"user\":\"u9\",\"kind\":\"x\",\"ts\":100}\n"
	    "{\"user\":\"u1\",\"kind\":\"b\",\"ts\":100,\"back\":11}\n"
	    "{\"user\":\"u1\",\"kind\":\"b\",\"ts\":100,\"back\":10}\n");
	nfa_prog    *prog = make_prog(&a_then_b_by_user);
	cep_test_out out, late;
	cep_flow    *f;

	cep_test_out_init(&out, NULL);
	cep_test_out_init(&late, NULL);
	f = pattern_flow(path, prog, 10, &out, &late, NULL);
	nfa_prog_unref(prog);
	CEP_ASSERT_OK(cep_test_run_flow(f, 3, 1));
	ck_assert_str_eq(cep_test_out_text(&late, 0),
	    "{\"user\":\"u1\",\"kind\":\"b\",\"ts\":100,\"back\":11}\n");
	ck_assert_int_eq(late.r[0].ts, 89);
	ck_assert_uint_eq(out.n, 1);
	ck_assert_int_eq(out.r[0].ts, 90);
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_out_fini(&late);
	cep_test_tmp_remove(path);
}
END_TEST

START_TEST(the_end_of_input_fires_timeouts_timed_at_their_deadline)
{
	static const struct prog_def def = {
		"ab_within",
		"user",
		NFA_SKIP_PAST_LAST_EVENT,
		1000000,
		true,
		a_then_b,
		2,
	};
	char *path =
	    cep_test_tmp_write("{\"user\":\"u1\",\"kind\":\"a\",\"ts\":1}\n"
	                       "{\"user\":\"u2\",\"kind\":\"a\",\"ts\":2}\n"
	                       "{\"user\":\"u2\",\"kind\":\"b\",\"ts\":3}\n");
	nfa_prog    *prog = make_prog(&def);
	cep_test_out out;
	cep_flow    *f;

	cep_test_out_init(&out, "key");
	f = pattern_flow(path, prog, 0, &out, NULL, NULL);
	nfa_prog_unref(prog);
	CEP_ASSERT_OK(cep_test_run_flow(f, 2, 0));
	ck_assert_uint_eq(out.n, 2);
	for (size_t i = 0; i < 2; i++) {
		int u1 = strstr(out.r[i].json, "\"key\":\"u1\"") != NULL;
		ck_assert_msg(
		    (strstr(out.r[i].json, "\"timeout\":true") != NULL) == u1,
		    "%s", out.r[i].json);
		/* Timed when they came out: the timeout at its deadline. */
		ck_assert_int_eq(out.r[i].ts, u1 ? 1 + 1000000 : 3);
	}
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_tmp_remove(path);
}
END_TEST

/* skip_run runs the events of text (times in "ts", delay 10) through a
 * pattern of three "hot" events with skip_past_last_event and returns the
 * ids of each match's events, one match a line. */
static const char *
skip_run(const char *text, unsigned workers)
{
	static const struct step_def hot[] = {
		{ "hot", NFA_JOIN_BEGIN, "n > 5", 3, false },
	};
	static const struct prog_def def = {
		"hot3",
		"user",
		NFA_SKIP_PAST_LAST_EVENT,
		0,
		false,
		hot,
		1,
	};
	static char  ids[256];
	char        *path = cep_test_tmp_write(text);
	nfa_prog    *prog = make_prog(&def);
	cep_test_out out;
	cep_flow    *f;
	size_t       len = 0;

	cep_test_out_init(&out, NULL);
	f = pattern_flow(path, prog, 10, &out, NULL, NULL);
	nfa_prog_unref(prog);
	CEP_ASSERT_OK(cep_test_run_flow(f, workers, 0));
	ids[0] = '\0';
	for (size_t i = 0; i < out.n; i++) {
		const char *p = out.r[i].json;
		while ((p = strstr(p, "\"id\":")) != NULL) {
			p += 5;
			/* The events' ids, not the match's (a string). */
			if (*p != '"') {
				len += (size_t) snprintf(ids + len,
				    sizeof(ids) - len, "%ld ",
				    strtol(p, NULL, 10));
			}
		}
		len += (size_t) snprintf(ids + len, sizeof(ids) - len, "\n");
	}
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_tmp_remove(path);
	return (ids);
}

START_TEST(after_match_skip_follows_event_time_not_arrival)
{
	/* The same five events, in time order and out of order within the
	 * delay: skip_past_last_event discards the partial match that began
	 * at event 2 inside the first match either way. */
	const char *sorted   = "{\"user\":\"u\",\"id\":1,\"n\":8,\"ts\":1}\n"
	                       "{\"user\":\"u\",\"id\":2,\"n\":8,\"ts\":2}\n"
	                       "{\"user\":\"u\",\"id\":3,\"n\":8,\"ts\":3}\n"
	                       "{\"user\":\"u\",\"id\":4,\"n\":8,\"ts\":4}\n"
	                       "{\"user\":\"u\",\"id\":5,\"n\":8,\"ts\":5}\n";
	const char *disorder = "{\"user\":\"u\",\"id\":1,\"n\":8,\"ts\":1}\n"
	                       "{\"user\":\"u\",\"id\":3,\"n\":8,\"ts\":3}\n"
	                       "{\"user\":\"u\",\"id\":2,\"n\":8,\"ts\":2}\n"
	                       "{\"user\":\"u\",\"id\":4,\"n\":8,\"ts\":4}\n"
	                       "{\"user\":\"u\",\"id\":5,\"n\":8,\"ts\":5}\n";

	ck_assert_str_eq(skip_run(sorted, 1), "1 2 3 \n");
	ck_assert_str_eq(skip_run(disorder, 1), "1 2 3 \n");
	ck_assert_str_eq(skip_run(disorder, 3), "1 2 3 \n");
}
END_TEST

/* ---- through windows, on any number of workers ------------------------- */

static int
is_http(void *arg, const cep_event *ev)
{
	cep_val v;

	(void) arg;
	cep_slot_val(ev, cep_event_find(ev, cep_sym_intern_str("kind")), &v);
	return (v.type == CEP_T_STR && strcmp(v.u.s, "http") == 0);
}

static const struct step_def hot3[] = {
	{ "hot", NFA_JOIN_BEGIN, "n > 3", 3, true },
};

static const struct step_def busy_then_quiet[] = {
	{ "busy", NFA_JOIN_BEGIN, "n > 4", 0, false },
	{ "quiet", NFA_JOIN_FOLLOWED_BY, "n == 1", 0, false },
};

/* window_flow: http events counted per source and second; a pattern per
 * source (three hot seconds in a row) and one over all sources (a busy
 * window, then a quiet one within 2 s), each into its own out. */
static cep_flow *
window_flow(const char *path, nfa_prog *per_src, nfa_prog *global,
    cep_test_out *out_src, cep_test_out *out_all)
{
	static const cep_window sec = { CEP_WINDOW_TUMBLE, 1000, 0 };
	static const cep_agg    n   = { "n", CEP_AGG_COUNT, NULL };
	cep_flow               *f   = NULL;
	cep_stream             *s, *w;

	CEP_ASSERT_OK(cep_flow_create(&f));
	s = cep_flow_file(f, path, CEP_FORMAT_JSONL);
	s = cep_flow_time(cep_flow_filter(s, is_http, NULL), "ts", 200);
	w = cep_flow_window(cep_flow_key_by(s, "src"), &sec, &n, 1, "ts");
	cep_flow_sink(
	    nfa_flow_pattern(cep_flow_key_by(w, "src"), per_src, NULL),
	    cep_test_out_sink, out_src);
	cep_flow_sink(nfa_flow_pattern(cep_flow_key_by(w, NULL), global, NULL),
	    cep_test_out_sink, out_all);
	CEP_ASSERT_OK(cep_flow_error(f));
	return (f);
}

START_TEST(matches_over_windows_do_not_depend_on_the_number_of_workers)
{
	static const struct prog_def src_def = {
		"hot",
		"src",
		NFA_SKIP_PAST_LAST_EVENT,
		0,
		false,
		hot3,
		1,
	};
	static const struct prog_def all_def = {
		"busy_quiet",
		NULL,
		NFA_SKIP_PAST_LAST_EVENT,
		2000,
		false,
		busy_then_quiet,
		2,
	};
	nfa_prog    *per_src = make_prog(&src_def);
	nfa_prog    *global  = make_prog(&all_def);
	cep_test_out ref_src, ref_all;
	FILE        *fp;
	char        *path;
	uint64_t     seed = 41;
	int64_t      t    = 0;

	/* 200000 events over 1000 sources in 100 s, bursty. */
	fp = cep_test_tmp_open(&path);
	for (int i = 0; i < 200000; i++) {
		uint64_t r   = cep_test_rand(&seed);
		int      src = (int) (r % 1000);
		if (r % 7 < 3) {
			src = (int) ((r >> 16) % 40); /* the busy ones */
		}
		t += (int64_t) ((r >> 32) % 2);
		fprintf(fp, "{\"src\":\"s%d\",\"kind\":\"%s\",\"ts\":%lld}\n",
		    src, (r >> 40) % 10 ? "http" : "dns",
		    (long long) (t - (int64_t) ((r >> 48) % 150)));
	}
	ck_assert_int_eq(fclose(fp), 0);
	cep_test_out_init(&ref_src, "key");
	cep_test_out_init(&ref_all, NULL);
	for (unsigned w = 1; w <= 4; w *= 2) {
		cep_test_out o_src, o_all;
		cep_flow    *f;
		cep_test_out_init(&o_src, "key");
		cep_test_out_init(&o_all, NULL);
		f = window_flow(path, per_src, global,
		    w == 1 ? &ref_src : &o_src, w == 1 ? &ref_all : &o_all);
		CEP_ASSERT_OK(cep_test_run_flow(f, w, 0));
		if (w == 1) {
			ck_assert_uint_gt(ref_src.n, 100);
			ck_assert_uint_gt(ref_all.n, 10);
		} else {
			cep_test_out_assert_same(&ref_src, &o_src);
			cep_test_out_assert_same(&ref_all, &o_all);
		}
		cep_flow_destroy(f);
		cep_test_out_fini(&o_src);
		cep_test_out_fini(&o_all);
	}
	nfa_prog_unref(per_src);
	nfa_prog_unref(global);
	cep_test_out_fini(&ref_src);
	cep_test_out_fini(&ref_all);
	cep_test_tmp_remove(path);
}
END_TEST

START_TEST(after_match_skip_holds_over_window_output)
{
	/* Four hot seconds in a row: one alert of three windows, not two
	 * (window outputs carry sequences that are not in time order). */
	static const struct prog_def def = {
		"hot",
		"src",
		NFA_SKIP_PAST_LAST_EVENT,
		0,
		false,
		hot3,
		1,
	};
	FILE        *fp;
	char        *path;
	nfa_prog    *prog  = make_prog(&def);
	nfa_prog    *never = make_prog(&def);
	cep_test_out out, none;
	cep_flow    *f;

	fp = cep_test_tmp_open(&path);
	for (int sec = 1; sec <= 4; sec++) {
		for (int i = 0; i < 8; i++) {
			fprintf(fp,
			    "{\"src\":\"s%d\",\"kind\":\"http\",\"ts\":%d}\n",
			    i % 2, sec * 1000 + i * 100);
		}
	}
	ck_assert_int_eq(fclose(fp), 0);
	cep_test_out_init(&out, NULL);
	cep_test_out_init(&none, NULL);
	f = window_flow(path, prog, never, &out, &none);
	CEP_ASSERT_OK(cep_test_run_flow(f, 2, 0));
	/* Sources s0 and s1: four windows of 4 requests each, hot (> 3). */
	ck_assert_uint_eq(out.n, 2);
	cep_flow_destroy(f);
	nfa_prog_unref(prog);
	nfa_prog_unref(never);
	cep_test_out_fini(&out);
	cep_test_out_fini(&none);
	cep_test_tmp_remove(path);
}
END_TEST

/* ---- reload, save and load --------------------------------------------- */

/* spanning writes nusers "a" events, then filler, then a "b" for each
 * user: every match spans the whole input. */
static char *
spanning(int nusers, int filler)
{
	FILE *fp;
	char *path;
	int   t = 0;

	fp = cep_test_tmp_open(&path);
	for (int i = 0; i < nusers; i++) {
		fprintf(fp, "{\"user\":\"u%d\",\"kind\":\"a\",\"ts\":%d}\n", i,
		    t++);
	}
	for (int i = 0; i < filler; i++) {
		fprintf(fp, "{\"user\":\"f%d\",\"kind\":\"x\",\"ts\":%d}\n",
		    i % 1000, t++);
	}
	for (int i = 0; i < nusers; i++) {
		fprintf(fp, "{\"user\":\"u%d\",\"kind\":\"b\",\"ts\":%d}\n", i,
		    t++);
	}
	ck_assert_int_eq(fclose(fp), 0);
	return (path);
}

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

/* named_flow: a pattern graph with stable names and a counting sink on
 * the source; `seen` (if not NULL) also collects the source's events and
 * rl (if not NULL) requests a reload. */
static cep_flow *
named_flow(const char *path, nfa_prog *prog, cep_sink_fn counter,
    cep_test_out *out, cep_test_out *seen, cep_test_reloader *rl)
{
	cep_flow   *f = NULL;
	cep_stream *s;

	CEP_ASSERT_OK(cep_flow_create(&f));
	cep_flow_name_next(f, "source");
	s = cep_flow_file(f, path, CEP_FORMAT_JSONL);
	cep_flow_sink(s, counter, NULL);
	if (seen != NULL) {
		seen->flow = f;
		cep_flow_sink(s, cep_test_out_sink, seen);
	}
	if (rl != NULL) {
		cep_flow_sink(s, cep_test_reloader_sink, rl);
	}
	cep_flow_name_next(f, "time:ts:0");
	s = cep_flow_time(s, "ts", 0);
	cep_flow_name_next(f, "key:ab");
	s = cep_flow_key_by(s, "user");
	cep_flow_name_next(f, "pattern:ab");
	cep_flow_sink(nfa_flow_pattern(s, prog, NULL), cep_test_out_sink, out);
	CEP_ASSERT_OK(cep_flow_error(f));
	return (f);
}

/* reload_run runs the spanning input and reloads it, after 60000 events,
 * with a graph whose pattern is next_def; returns the matches. */
static size_t
reload_run(const struct prog_def *next_def, unsigned workers)
{
	char             *path = spanning(1000, 198000);
	nfa_prog         *a    = make_prog(&a_then_b_by_user);
	nfa_prog         *b    = make_prog(next_def);
	cep_test_out      out_old, out_new;
	cep_flow         *f, *next;
	cep_test_reloader r;
	size_t            n;

	cep_test_out_init(&out_old, NULL);
	cep_test_out_init(&out_new, NULL);
	atomic_store(&old_count, 0);
	atomic_store(&new_count, 0);
	f    = named_flow(path, a, count_old, &out_old, NULL, &r);
	next = named_flow(path, b, count_new, &out_new, NULL, NULL);
	cep_test_reloader_start(&r, f, next, 60000);
	CEP_ASSERT_OK(cep_test_run_flow(f, workers, 64));
	CEP_ASSERT_OK(cep_test_reloader_join(&r));
	/* Applied between the a's and the b's; every event read once. */
	ck_assert_uint_lt(atomic_load(&old_count), 60000 + 64);
	ck_assert_uint_eq(
	    atomic_load(&old_count) + atomic_load(&new_count), 200000);
	ck_assert_uint_eq(out_old.n, 0);
	n = out_new.n;
	cep_flow_destroy(f);
	nfa_prog_unref(a);
	nfa_prog_unref(b);
	cep_test_out_fini(&out_old);
	cep_test_out_fini(&out_new);
	cep_test_tmp_remove(path);
	return (n);
}

START_TEST(a_partial_match_spanning_a_reload_still_matches)
{
	/* The same pattern compiled again: same fingerprint, state kept. */
	ck_assert_uint_eq(reload_run(&a_then_b_by_user, 1), 1000);
	ck_assert_uint_eq(reload_run(&a_then_b_by_user, 4), 1000);
}
END_TEST

START_TEST(a_changed_pattern_starts_empty_after_a_reload)
{
	static const struct step_def other[] = {
		{ "a", NFA_JOIN_BEGIN, "kind == 'a'", 0, false },
		{ "b", NFA_JOIN_FOLLOWED_BY, "kind == 'b' and ts > 0", 0,
		    false },
	};
	static const struct prog_def changed = {
		"ab",
		"user",
		NFA_SKIP_PAST_LAST_EVENT,
		0,
		false,
		other,
		2,
	};

	ck_assert_uint_eq(reload_run(&changed, 2), 0);
}
END_TEST

START_TEST(matcher_state_saved_at_a_stop_finishes_the_matches_later)
{
	char          *path = spanning(300, 5000);
	nfa_prog      *prog = make_prog(&a_then_b_by_user);
	cep_state_mem *m    = cep_state_mem_create();
	cep_state_out  so   = cep_state_mem_out(m);
	cep_state_in   si   = cep_state_mem_in(m);
	cep_flow_opts  opts = { 3, 1, 0 };
	cep_test_out   ref, out, seen;
	cep_flow      *f;
	char          *rest;

	cep_test_out_init(&ref, "key");
	cep_test_out_init(&out, "key");
	cep_test_out_init(&seen, NULL);
	f = named_flow(path, prog, count_old, &ref, NULL, NULL);
	CEP_ASSERT_OK(cep_flow_run(f, &opts));
	cep_flow_destroy(f);
	ck_assert_uint_eq(ref.n, 300);

	f               = named_flow(path, prog, count_old, &out, &seen, NULL);
	seen.stop_after = 2000;
	CEP_ASSERT_OK(cep_flow_run(f, &opts));
	CEP_ASSERT_OK(cep_flow_save(f, &so));
	cep_flow_destroy(f);
	ck_assert_uint_eq(out.n, 0);

	rest = cep_test_rest_of(path, 2000);
	f    = named_flow(rest, prog, count_old, &out, NULL, NULL);
	CEP_ASSERT_OK(cep_flow_load(f, &opts, &si));
	CEP_ASSERT_OK(cep_flow_run(f, &opts));
	cep_flow_destroy(f);
	/* The same matches, ids included. */
	cep_test_out_assert_same(&ref, &out);

	nfa_prog_unref(prog);
	cep_state_mem_destroy(m);
	cep_test_out_fini(&ref);
	cep_test_out_fini(&out);
	cep_test_out_fini(&seen);
	cep_test_tmp_remove(rest);
	cep_test_tmp_remove(path);
}
END_TEST

static Suite *
operator_suite(void)
{
	Suite *s = suite_create("operator");
	TCase *t = tcase_create("operator");

	tcase_set_timeout(t, 600);
	tcase_add_test(t, matches_leave_as_records_timed_at_their_last_event);
	tcase_add_test(t, records_behind_the_matchers_watermark_go_to_late);
	tcase_add_test(t, counters_are_current_before_the_run_ends);
	tcase_add_test(
	    t, the_end_of_input_fires_timeouts_timed_at_their_deadline);
	tcase_add_test(t, after_match_skip_follows_event_time_not_arrival);
	tcase_add_test(t, after_match_skip_holds_over_window_output);
	tcase_add_test(
	    t, matches_over_windows_do_not_depend_on_the_number_of_workers);
	tcase_add_test(t, a_partial_match_spanning_a_reload_still_matches);
	tcase_add_test(t, a_changed_pattern_starts_empty_after_a_reload);
	tcase_add_test(
	    t, matcher_state_saved_at_a_stop_finishes_the_matches_later);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(operator_suite)
