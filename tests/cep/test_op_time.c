/* SPDX-License-Identifier: MIT */
/*
 * test_op_time.c: event-time assignment (cep/op_time.c): the watermark is
 * the highest time seen minus max_delay; an event exactly at the watermark
 * is on time, one below it is late; events without a usable time go to
 * "no_time"; the watermark survives save and load.
 */
#include <string.h>

#include "tests/support/flow_support.h"

struct timed {
	cep_flow    *f;
	cep_test_out main;
	cep_test_out late;
	cep_test_out no_time;
	char        *path;
};

/* run_time runs text through a time assigner on `field` with `delay`,
 * collecting the three outputs. */
static void
run_time(struct timed *t, const char *text, const char *field, int64_t delay,
    unsigned workers)
{
	cep_stream *s;

	memset(t, 0, sizeof(*t));
	CEP_ASSERT_OK(cep_flow_create(&t->f));
	cep_test_out_init(&t->main, NULL);
	cep_test_out_init(&t->late, NULL);
	cep_test_out_init(&t->no_time, NULL);
	t->path = cep_test_tmp_write(text);
	cep_flow_name_next(t->f, "time");
	s = cep_flow_time(
	    cep_flow_file(t->f, t->path, CEP_FORMAT_JSONL), field, delay);
	cep_flow_sink(s, cep_test_out_sink, &t->main);
	cep_flow_sink(cep_flow_side(s, "late"), cep_test_out_sink, &t->late);
	cep_flow_sink(
	    cep_flow_side(s, "no_time"), cep_test_out_sink, &t->no_time);
	CEP_ASSERT_OK(cep_flow_error(t->f));
	CEP_ASSERT_OK(cep_test_run_flow(t->f, workers, 0));
}

static void
timed_fini(struct timed *t)
{
	cep_flow_destroy(t->f);
	cep_test_out_fini(&t->main);
	cep_test_out_fini(&t->late);
	cep_test_out_fini(&t->no_time);
	cep_test_tmp_remove(t->path);
}

START_TEST(the_watermark_is_the_highest_time_minus_the_delay)
{
	struct timed t;

	run_time(&t,
	    "{\"ts\":100}\n{\"ts\":80}\n{\"ts\":150}\n{\"ts\":120}\n"
	    "{\"ts\":151}\n",
	    "ts", 30, 1);
	ck_assert_uint_eq(t.main.n, 5);
	ck_assert_int_eq(t.main.r[0].ts, 100);
	ck_assert_int_eq(t.main.r[0].wm, 70);
	ck_assert_int_eq(t.main.r[1].ts, 80);
	ck_assert_int_eq(t.main.r[1].wm, 70); /* never goes back */
	ck_assert_int_eq(t.main.r[2].wm, 120);
	ck_assert_int_eq(t.main.r[3].ts, 120);
	ck_assert_int_eq(t.main.r[3].wm, 120);
	ck_assert_int_eq(t.main.r[4].wm, 121);
	ck_assert_uint_eq(t.late.n, 0);
	ck_assert_uint_eq(t.no_time.n, 0);
	timed_fini(&t);
}
END_TEST

START_TEST(an_event_at_the_watermark_is_on_time_one_below_is_late)
{
	struct timed t;

	/* After 1000 the watermark is 900: 900 is on time, 899 is late. */
	run_time(&t,
	    "{\"ts\":1000,\"i\":1}\n{\"ts\":900,\"i\":2}\n"
	    "{\"ts\":899,\"i\":3}\n{\"ts\":901,\"i\":4}\n",
	    "ts", 100, 1);
	ck_assert_str_eq(cep_test_out_text(&t.main, 0),
	    "{\"ts\":1000,\"i\":1}\n{\"ts\":900,\"i\":2}\n"
	    "{\"ts\":901,\"i\":4}\n");
	ck_assert_str_eq(
	    cep_test_out_text(&t.late, 0), "{\"ts\":899,\"i\":3}\n");
	/* The late record carries its time and sequence. */
	ck_assert_int_eq(t.late.r[0].ts, 899);
	ck_assert_uint_eq(t.late.r[0].seq, 3);
	timed_fini(&t);
}
END_TEST

START_TEST(with_no_delay_only_older_events_are_late)
{
	struct timed t;

	run_time(&t, "{\"ts\":5}\n{\"ts\":5}\n{\"ts\":4}\n{\"ts\":6}\n", "ts",
	    0, 2);
	ck_assert_uint_eq(t.main.n, 3);
	ck_assert_uint_eq(t.late.n, 1);
	ck_assert_int_eq(t.late.r[0].ts, 4);
	timed_fini(&t);
}
END_TEST

START_TEST(events_without_a_usable_time_go_to_no_time)
{
	struct timed t;

	run_time(&t,
	    "{\"i\":1,\"ts\":10}\n"
	    "{\"i\":2}\n"
	    "{\"i\":3,\"ts\":null}\n"
	    "{\"i\":4,\"ts\":\"10\"}\n"
	    "{\"i\":5,\"ts\":10.5}\n"
	    "{\"i\":6,\"ts\":true}\n"
	    "{\"i\":7,\"ts\":{\"ms\":1}}\n"
	    "{\"i\":8,\"ts\":1e300}\n"
	    "{\"i\":9,\"ts\":20.0}\n"
	    "{\"i\":10,\"ts\":-5}\n",
	    "ts", 100, 1);
	ck_assert_str_eq(cep_test_out_text(&t.main, 0),
	    "{\"i\":1,\"ts\":10}\n{\"i\":9,\"ts\":20.0}\n"
	    "{\"i\":10,\"ts\":-5}\n");
	ck_assert_int_eq(t.main.r[1].ts, 20);
	ck_assert_int_eq(t.main.r[2].ts, -5);
	ck_assert_str_eq(cep_test_out_text(&t.no_time, 0),
	    "{\"i\":2}\n{\"i\":3,\"ts\":null}\n{\"i\":4,\"ts\":\"10\"}\n"
	    "{\"i\":5,\"ts\":10.5}\n{\"i\":6,\"ts\":true}\n"
	    "{\"i\":7,\"ts\":{\"ms\":1}}\n{\"i\":8,\"ts\":1e+300}\n");
	ck_assert_uint_eq(t.late.n, 0);
	timed_fini(&t);
}
END_TEST

START_TEST(a_nested_time_field_and_negative_times)
{
	struct timed t;

	run_time(&t,
	    "{\"m\":{\"t\":-2000}}\n{\"m\":{\"t\":-1000}}\n"
	    "{\"m\":{\"t\":-1501}}\n{\"m\":{\"t\":-1500}}\n{\"t\":0}\n",
	    "m.t", 500, 1);
	ck_assert_uint_eq(t.main.n, 3);
	ck_assert_int_eq(t.main.r[1].wm, -1500);
	ck_assert_int_eq(t.main.r[2].ts, -1500);
	ck_assert_uint_eq(t.late.n, 1);
	ck_assert_int_eq(t.late.r[0].ts, -1501);
	ck_assert_uint_eq(t.no_time.n, 1);
	timed_fini(&t);
}
END_TEST

START_TEST(extreme_times_and_delays_do_not_overflow)
{
	struct timed t;

	/* Times are usable within CEP_TIME_LIMIT (2^61 ms) of 0. */
	run_time(&t,
	    "{\"ts\":-2305843009213693952}\n{\"ts\":0}\n"
	    "{\"ts\":2305843009213693952}\n"
	    "{\"ts\":-9223372036854775808}\n"
	    "{\"ts\":2305843009213693953}\n{\"ts\":9.3e18}\n",
	    "ts", INT64_MAX, 1);
	ck_assert_uint_eq(t.main.n, 3);
	ck_assert_int_eq(t.main.r[0].wm, INT64_MIN);
	ck_assert_int_eq(t.main.r[1].wm, -INT64_MAX);
	ck_assert_int_eq(t.main.r[2].wm, CEP_TIME_LIMIT - INT64_MAX);
	ck_assert_uint_eq(t.no_time.n, 3);
	timed_fini(&t);
}
END_TEST

START_TEST(the_watermark_is_saved_and_loaded)
{
	struct timed   t;
	cep_state_mem *m   = cep_state_mem_create();
	cep_state_out  out = cep_state_mem_out(m);
	cep_state_in   in  = cep_state_mem_in(m);
	cep_flow      *g   = NULL;
	cep_test_out   main2, late2;
	char          *p2;
	cep_stream    *s;

	run_time(&t, "{\"ts\":1000}\n{\"ts\":990}\n", "ts", 50, 1);
	CEP_ASSERT_OK(cep_flow_save(t.f, &out));
	/* The assigner's entry, and the flow's (its number of workers). */
	ck_assert_uint_eq(cep_state_mem_count(m), 2);

	/* A new flow loaded with it finds 949 late and 950 on time. */
	p2 = cep_test_tmp_write("{\"ts\":949}\n{\"ts\":950}\n");
	cep_test_out_init(&main2, NULL);
	cep_test_out_init(&late2, NULL);
	CEP_ASSERT_OK(cep_flow_create(&g));
	cep_flow_name_next(g, "time");
	s = cep_flow_time(cep_flow_file(g, p2, CEP_FORMAT_JSONL), "ts", 50);
	cep_flow_sink(s, cep_test_out_sink, &main2);
	cep_flow_sink(cep_flow_side(s, "late"), cep_test_out_sink, &late2);
	CEP_ASSERT_OK(cep_flow_load(g, NULL, &in));
	CEP_ASSERT_OK(cep_flow_run(g, NULL));
	ck_assert_str_eq(cep_test_out_text(&main2, 0), "{\"ts\":950}\n");
	ck_assert_str_eq(cep_test_out_text(&late2, 0), "{\"ts\":949}\n");
	cep_flow_destroy(g);
	cep_test_out_fini(&main2);
	cep_test_out_fini(&late2);
	cep_test_tmp_remove(p2);
	cep_state_mem_destroy(m);
	timed_fini(&t);
}
END_TEST

static Suite *
op_time_suite(void)
{
	Suite *s = suite_create("op_time");
	TCase *t = tcase_create("op_time");

	tcase_add_test(t, the_watermark_is_the_highest_time_minus_the_delay);
	tcase_add_test(
	    t, an_event_at_the_watermark_is_on_time_one_below_is_late);
	tcase_add_test(t, with_no_delay_only_older_events_are_late);
	tcase_add_test(t, events_without_a_usable_time_go_to_no_time);
	tcase_add_test(t, a_nested_time_field_and_negative_times);
	tcase_add_test(t, extreme_times_and_delays_do_not_overflow);
	tcase_add_test(t, the_watermark_is_saved_and_loaded);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(op_time_suite)
