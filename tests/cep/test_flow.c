/* SPDX-License-Identifier: MIT */
/*
 * test_flow.c: building dataflow graphs (cep/flow.c): the first error
 * sticks, a NULL input gives a NULL output, keyed operators want a key_by
 * straight before them, side outputs are named handles, configurations
 * belong to the flow, and a flow that ran takes no new nodes.
 */
#include <string.h>

#include "tests/support/flow_support.h"

static int
keep_all(void *arg, const cep_event *ev)
{
	(void) arg;
	(void) ev;
	return (1);
}

static cep_err
copy_map(void *arg, const cep_event *in, cep_builder *b)
{
	(void) arg;
	return (cep_builder_event(b, in) == CEP_OK ? CEP_OK : CEP_ENOMEM);
}

static cep_err
keep_last(void *arg, const cep_event *acc, const cep_event *in, cep_builder *b)
{
	(void) arg;
	(void) acc;
	return (cep_builder_event(b, in) == CEP_OK ? CEP_OK : CEP_ENOMEM);
}

static cep_err
sink_none(void *arg, const cep_record *r)
{
	(void) arg;
	(void) r;
	return (CEP_OK);
}

/* A custom class whose configuration counts its frees. */
static int conf_frees;

static cep_err
noop_create(const void *conf, int ordered, void **inst)
{
	(void) ordered;
	*inst = (void *) (uintptr_t) conf;
	return (CEP_OK);
}

static cep_err
noop_push(void *inst, unsigned port, const cep_record *recs, size_t n,
    cep_op_ctx *ctx)
{
	(void) inst;
	(void) port;
	(void) recs;
	(void) n;
	(void) ctx;
	return (CEP_OK);
}

static void
noop_destroy(void *inst)
{
	(void) inst;
}

static void
counted_free(void *conf)
{
	conf_frees++;
	cep_free(conf, 1);
}

static const cep_op_class one_in = {
	.name      = "one_in",
	.inputs    = 1,
	.create    = noop_create,
	.push      = noop_push,
	.destroy   = noop_destroy,
	.conf_free = counted_free,
};

static const cep_op_class keyed_in = {
	.name      = "keyed_in",
	.flags     = CEP_OP_KEYED,
	.inputs    = 1,
	.create    = noop_create,
	.push      = noop_push,
	.destroy   = noop_destroy,
	.conf_free = counted_free,
};

static const cep_op_class partitions = {
	.name      = "partitions",
	.flags     = 0x100u, /* CEP_OP_PARTITIONS, key_by's own */
	.inputs    = 1,
	.create    = noop_create,
	.push      = noop_push,
	.destroy   = noop_destroy,
	.conf_free = counted_free,
};

static void *
conf_new(void)
{
	void *c = cep_alloc(1);

	ck_assert_ptr_nonnull(c);
	return (c);
}

static cep_flow *
new_flow(void)
{
	cep_flow *f = NULL;

	CEP_ASSERT_OK(cep_flow_create(&f));
	ck_assert_ptr_nonnull(f);
	CEP_ASSERT_OK(cep_flow_error(f));
	return (f);
}

static const cep_window tumble_1s = { CEP_WINDOW_TUMBLE, 1000, 0 };
static const cep_agg    count_agg = { "n", CEP_AGG_COUNT, NULL };

START_TEST(destroy_accepts_null_and_an_empty_flow)
{
	cep_flow_destroy(NULL);
	cep_flow_destroy(new_flow());
}
END_TEST

START_TEST(a_chain_builds_without_error_and_streams_know_their_flow)
{
	cep_flow   *f = new_flow();
	cep_stream *src, *t, *k, *w;

	src = cep_flow_file(f, "events.jsonl", CEP_FORMAT_JSONL);
	ck_assert_ptr_nonnull(src);
	ck_assert_ptr_eq(cep_stream_flow(src), f);
	t = cep_flow_time(cep_flow_filter(src, keep_all, NULL), "ts", 10);
	k = cep_flow_key_by(cep_flow_map(t, copy_map, NULL), "src.ip");
	w = cep_flow_window(k, &tumble_1s, &count_agg, 1, NULL);
	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_eq(cep_stream_flow(w), f);
	cep_flow_sink(w, sink_none, NULL);
	CEP_ASSERT_OK(cep_flow_error(f));
	cep_flow_destroy(f);
}
END_TEST

START_TEST(a_null_input_gives_null_and_records_nothing)
{
	cep_flow   *f   = new_flow();
	cep_stream *src = cep_flow_file(f, "x", CEP_FORMAT_JSONL);

	ck_assert_ptr_null(cep_flow_map(NULL, copy_map, NULL));
	ck_assert_ptr_null(cep_flow_filter(NULL, keep_all, NULL));
	ck_assert_ptr_null(cep_flow_flat_map(NULL, NULL, NULL));
	ck_assert_ptr_null(cep_flow_time(NULL, "ts", 0));
	ck_assert_ptr_null(cep_flow_key_by(NULL, "k"));
	ck_assert_ptr_null(cep_flow_reduce(NULL, NULL, NULL));
	ck_assert_ptr_null(
	    cep_flow_window(NULL, &tumble_1s, &count_agg, 1, NULL));
	ck_assert_ptr_null(cep_flow_join(NULL, NULL, 0, 0, NULL, NULL));
	ck_assert_ptr_null(cep_flow_union(src, NULL));
	ck_assert_ptr_null(cep_flow_union(NULL, src));
	ck_assert_ptr_null(cep_flow_side(NULL, "late"));
	cep_flow_sink(NULL, sink_none, NULL);
	CEP_ASSERT_OK(cep_flow_error(f));
	cep_flow_destroy(f);
}
END_TEST

START_TEST(the_first_error_sticks_through_a_chain)
{
	cep_flow   *f   = new_flow();
	cep_stream *src = cep_flow_file(f, "x", CEP_FORMAT_JSONL);
	cep_stream *s;

	/* A negative delay fails; what is built on it is NULL too. */
	s = cep_flow_time(src, "ts", -1);
	ck_assert_ptr_null(s);
	CEP_ASSERT_ERR(cep_flow_error(f), CEP_EINVAL);
	s = cep_flow_key_by(s, "k");
	s = cep_flow_window(s, &tumble_1s, &count_agg, 1, NULL);
	ck_assert_ptr_null(s);
	cep_flow_sink(s, sink_none, NULL);
	/* Later errors do not replace the first. */
	cep_flow_set_error(f, CEP_ENOMEM);
	ck_assert_ptr_null(cep_flow_key_by(src, "a..b"));
	CEP_ASSERT_ERR(cep_flow_error(f), CEP_EINVAL);
	/* Running a flow that failed to build returns its error. */
	CEP_ASSERT_ERR(cep_test_run_flow(f, 1, 0), CEP_EINVAL);
	cep_flow_destroy(f);
}
END_TEST

START_TEST(set_error_records_the_first_error_of_outside_builders)
{
	cep_flow *f = new_flow();

	cep_flow_set_error(f, CEP_ELIMIT);
	cep_flow_set_error(f, CEP_ENOMEM);
	CEP_ASSERT_ERR(cep_flow_error(f), CEP_ELIMIT);
	cep_flow_destroy(f);
}
END_TEST

START_TEST(bad_arguments_are_einval)
{
	static const cep_window bad[] = {
		{ CEP_WINDOW_TUMBLE, 0, 0 },
		{ CEP_WINDOW_SESSION, -5, 0 },
		{ CEP_WINDOW_SLIDE, 1000, 0 },
		{ CEP_WINDOW_SLIDE, 1000, 2000 },
		{ CEP_WINDOW_SLIDE, 100000, 1 },
		{ (cep_window_kind) 42, 1000, 0 },
	};
	static const cep_agg no_field  = { "s", CEP_AGG_SUM, NULL };
	static const cep_agg bad_field = { "s", CEP_AGG_MAX, "a..b" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]) + 5; i++) {
		cep_flow   *f   = new_flow();
		cep_stream *src = cep_flow_file(f, "x", CEP_FORMAT_JSONL);
		cep_stream *k   = cep_flow_key_by(src, "k");
		cep_stream *out;

		ck_assert_ptr_nonnull(k);
		if (i < sizeof(bad) / sizeof(bad[0])) {
			out = cep_flow_window(k, &bad[i], &count_agg, 1, NULL);
		} else if (i == sizeof(bad) / sizeof(bad[0])) {
			out =
			    cep_flow_window(k, &tumble_1s, &no_field, 1, NULL);
		} else if (i == sizeof(bad) / sizeof(bad[0]) + 1) {
			out = cep_flow_window(
			    k, &tumble_1s, &bad_field, 1, NULL);
		} else if (i == sizeof(bad) / sizeof(bad[0]) + 2) {
			out = cep_flow_join(k, k, 10, 9, NULL, NULL);
		} else if (i == sizeof(bad) / sizeof(bad[0]) + 3) {
			out = cep_flow_time(src, "", 0);
		} else {
			out = cep_flow_reduce(k, NULL, NULL);
		}
		ck_assert_msg(out == NULL, "case %zu built", i);
		CEP_ASSERT_ERR(cep_flow_error(f), CEP_EINVAL);
		cep_flow_destroy(f);
	}
}
END_TEST

static cep_err
discard(void *arg, const cep_record *r)
{
	(void) arg;
	(void) r;
	return (CEP_OK);
}

START_TEST(null_arguments_are_einval)
{
	static const cep_agg no_name = { NULL, CEP_AGG_COUNT, NULL };

	for (int i = 0; i < 3; i++) {
		cep_flow   *f   = new_flow();
		cep_stream *src = cep_flow_file(f, "x", CEP_FORMAT_JSONL);

		if (i == 0) {
			ck_assert_ptr_null(cep_flow_time(src, NULL, 0));
		} else if (i == 1) {
			ck_assert_ptr_null(
			    cep_flow_window(cep_flow_key_by(src, "k"),
			        &tumble_1s, &no_name, 1, NULL));
		} else {
			cep_flow_sink(src, NULL, NULL);
		}
		CEP_ASSERT_ERR(cep_flow_error(f), CEP_EINVAL);
		cep_flow_destroy(f);
	}
}
END_TEST

START_TEST(names_are_unique_and_never_look_like_default_ones)
{
	cep_flow   *f   = new_flow();
	cep_stream *src = cep_flow_file(f, "x", CEP_FORMAT_JSONL);

	cep_flow_name_next(f, "keys");
	ck_assert_ptr_nonnull(cep_flow_key_by(src, "k"));
	CEP_ASSERT_OK(cep_flow_error(f));
	cep_flow_name_next(f, "keys");
	CEP_ASSERT_ERR(cep_flow_error(f), CEP_EEXIST);
	cep_flow_destroy(f);

	f = new_flow();
	cep_flow_name_next(f, "#1");
	CEP_ASSERT_ERR(cep_flow_error(f), CEP_EINVAL);
	cep_flow_destroy(f);
	f = new_flow();
	cep_flow_name_next(f, "");
	CEP_ASSERT_ERR(cep_flow_error(f), CEP_EINVAL);
	cep_flow_sink(cep_flow_file(f, "x", CEP_FORMAT_JSONL), discard, NULL);
	cep_flow_destroy(f);
}
END_TEST

START_TEST(keyed_operators_need_a_key_by_straight_before_them)
{
	cep_flow   *f   = new_flow();
	cep_stream *src = cep_flow_file(f, "x", CEP_FORMAT_JSONL);
	cep_stream *t   = cep_flow_time(src, "ts", 0);
	cep_stream *k   = cep_flow_key_by(t, "k");
	cep_stream *m   = cep_flow_filter(k, keep_all, NULL);

	ck_assert_ptr_null(
	    cep_flow_window(t, &tumble_1s, &count_agg, 1, NULL));
	CEP_ASSERT_ERR(cep_flow_error(f), CEP_EINVAL);
	cep_flow_destroy(f);

	/* Each case on a fresh flow, so each error is its own. */
	f   = new_flow();
	src = cep_flow_file(f, "x", CEP_FORMAT_JSONL);
	k   = cep_flow_key_by(src, "k");
	m   = cep_flow_filter(k, keep_all, NULL);
	ck_assert_ptr_null(cep_flow_reduce(m, keep_last, NULL));
	CEP_ASSERT_ERR(cep_flow_error(f), CEP_EINVAL);
	cep_flow_destroy(f);

	f   = new_flow();
	src = cep_flow_file(f, "x", CEP_FORMAT_JSONL);
	k   = cep_flow_key_by(src, "k");
	ck_assert_ptr_null(cep_flow_join(k, src, 0, 1, NULL, NULL));
	CEP_ASSERT_ERR(cep_flow_error(f), CEP_EINVAL);
	cep_flow_destroy(f);

	/* The "no_key" side of a key_by is not keyed. */
	f   = new_flow();
	src = cep_flow_file(f, "x", CEP_FORMAT_JSONL);
	k   = cep_flow_key_by(src, "k");
	ck_assert_ptr_null(cep_flow_window(
	    cep_flow_side(k, "no_key"), &tumble_1s, &count_agg, 1, NULL));
	CEP_ASSERT_ERR(cep_flow_error(f), CEP_EINVAL);
	cep_flow_destroy(f);

	/* A custom keyed class too. */
	f          = new_flow();
	src        = cep_flow_file(f, "x", CEP_FORMAT_JSONL);
	conf_frees = 0;
	ck_assert_ptr_null(cep_flow_op(&src, 1, &keyed_in, conf_new()));
	CEP_ASSERT_ERR(cep_flow_error(f), CEP_EINVAL);
	ck_assert_int_eq(conf_frees, 1);
	k = cep_flow_key_by(src, NULL); /* one global key */
	ck_assert_ptr_nonnull(cep_flow_op(&k, 1, &keyed_in, conf_new()));
	cep_flow_destroy(f);
	ck_assert_int_eq(conf_frees, 2);
}
END_TEST

START_TEST(custom_classes_are_checked_and_their_conf_is_the_flows)
{
	cep_flow   *f   = new_flow();
	cep_flow   *g   = new_flow();
	cep_stream *src = cep_flow_file(f, "x", CEP_FORMAT_JSONL);
	cep_stream *two[2];
	cep_stream *nul = NULL;

	conf_frees = 0;
	/* Partitioning is key_by's alone. */
	ck_assert_ptr_null(cep_flow_op(&src, 1, &partitions, conf_new()));
	CEP_ASSERT_ERR(cep_flow_error(f), CEP_EINVAL);
	ck_assert_int_eq(conf_frees, 1);
	cep_flow_destroy(f);

	/* The wrong number of inputs. */
	f      = new_flow();
	src    = cep_flow_file(f, "x", CEP_FORMAT_JSONL);
	two[0] = src;
	two[1] = src;
	ck_assert_ptr_null(cep_flow_op(two, 2, &one_in, conf_new()));
	CEP_ASSERT_ERR(cep_flow_error(f), CEP_EINVAL);
	ck_assert_int_eq(conf_frees, 2);
	cep_flow_destroy(f);

	/* A stream of another flow. */
	f      = new_flow();
	src    = cep_flow_file(f, "x", CEP_FORMAT_JSONL);
	two[0] = cep_flow_file(g, "y", CEP_FORMAT_JSONL);
	ck_assert_ptr_null(cep_flow_union(src, two[0]));
	CEP_ASSERT_ERR(cep_flow_error(f), CEP_EINVAL);
	ck_assert_ptr_null(cep_flow_op(&two[0], 1, &keyed_in, conf_new()));
	CEP_ASSERT_ERR(cep_flow_error(g), CEP_EINVAL);
	ck_assert_int_eq(conf_frees, 3);

	/* A NULL input: the conf is freed, nothing new is recorded. */
	ck_assert_ptr_null(cep_flow_op(&nul, 1, &one_in, conf_new()));
	ck_assert_int_eq(conf_frees, 4);

	/* Built: freed with the flow. */
	cep_flow_destroy(g);
	g   = new_flow();
	src = cep_flow_file(g, "x", CEP_FORMAT_JSONL);
	ck_assert_ptr_nonnull(cep_flow_op(&src, 1, &one_in, conf_new()));
	ck_assert_int_eq(conf_frees, 4);
	cep_flow_destroy(g);
	ck_assert_int_eq(conf_frees, 5);
	cep_flow_destroy(f);
}
END_TEST

START_TEST(side_outputs_are_one_handle_per_name)
{
	cep_flow   *f   = new_flow();
	cep_stream *src = cep_flow_file(f, "x", CEP_FORMAT_JSONL);
	cep_stream *t   = cep_flow_time(src, "ts", 0);
	cep_stream *late, *no_time;

	late    = cep_flow_side(t, "late");
	no_time = cep_flow_side(t, "no_time");
	ck_assert_ptr_nonnull(late);
	ck_assert_ptr_nonnull(no_time);
	ck_assert_ptr_ne(late, no_time);
	ck_assert_ptr_ne(late, t);
	ck_assert_ptr_eq(cep_flow_side(t, "late"), late);
	ck_assert_ptr_eq(cep_stream_flow(late), f);
	/* A side stream can be built on like any other. */
	ck_assert_ptr_nonnull(cep_flow_filter(late, keep_all, NULL));
	CEP_ASSERT_OK(cep_flow_error(f));
	/* Sources have no side outputs. */
	ck_assert_ptr_null(cep_flow_side(src, "late"));
	CEP_ASSERT_ERR(cep_flow_error(f), CEP_EINVAL);
	cep_flow_destroy(f);
}
END_TEST

START_TEST(a_flow_that_ran_takes_no_new_nodes_or_sides)
{
	char        *path = cep_test_tmp_write("{\"ts\":1,\"k\":\"a\"}\n");
	cep_flow    *f    = new_flow();
	cep_test_out out;
	cep_stream  *src, *t;

	cep_test_out_init(&out, NULL);
	src = cep_flow_file(f, path, CEP_FORMAT_JSONL);
	t   = cep_flow_time(src, "ts", 0);
	ck_assert_ptr_nonnull(cep_flow_side(t, "late"));
	cep_flow_sink(t, cep_test_out_sink, &out);
	CEP_ASSERT_OK(cep_test_run_flow(f, 1, 0));
	ck_assert_uint_eq(out.n, 1);
	/* A known side is still found; a new one cannot be added. */
	ck_assert_ptr_nonnull(cep_flow_side(t, "late"));
	CEP_ASSERT_OK(cep_flow_error(f));
	ck_assert_ptr_null(cep_flow_side(t, "no_time"));
	CEP_ASSERT_ERR(cep_flow_error(f), CEP_ESTATE);
	ck_assert_ptr_null(cep_flow_filter(t, keep_all, NULL));
	ck_assert_ptr_null(cep_flow_file(f, path, CEP_FORMAT_JSONL));
	cep_flow_destroy(f);
	cep_test_out_fini(&out);
	cep_test_tmp_remove(path);
}
END_TEST

START_TEST(a_missing_input_file_fails_the_run)
{
	cep_flow *f = new_flow();

	cep_flow_sink(cep_flow_file(f, "/nonexistent/cep/events.jsonl",
	                  CEP_FORMAT_JSONL),
	    sink_none, NULL);
	CEP_ASSERT_OK(cep_flow_error(f));
	CEP_ASSERT_ERR(cep_test_run_flow(f, 2, 0), CEP_EIO);
	cep_flow_destroy(f);
}
END_TEST

static Suite *
flow_suite(void)
{
	Suite *s = suite_create("flow");
	TCase *t = tcase_create("flow");

	tcase_add_test(t, destroy_accepts_null_and_an_empty_flow);
	tcase_add_test(
	    t, a_chain_builds_without_error_and_streams_know_their_flow);
	tcase_add_test(t, a_null_input_gives_null_and_records_nothing);
	tcase_add_test(t, the_first_error_sticks_through_a_chain);
	tcase_add_test(
	    t, set_error_records_the_first_error_of_outside_builders);
	tcase_add_test(t, bad_arguments_are_einval);
	tcase_add_test(t, null_arguments_are_einval);
	tcase_add_test(t, names_are_unique_and_never_look_like_default_ones);
	tcase_add_test(t, keyed_operators_need_a_key_by_straight_before_them);
	tcase_add_test(
	    t, custom_classes_are_checked_and_their_conf_is_the_flows);
	tcase_add_test(t, side_outputs_are_one_handle_per_name);
	tcase_add_test(t, a_flow_that_ran_takes_no_new_nodes_or_sides);
	tcase_add_test(t, a_missing_input_file_fails_the_run);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(flow_suite)
