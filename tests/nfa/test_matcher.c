/* SPDX-License-Identifier: MIT */
/*
 * test_matcher.c: the keyed, event-time side of matching: late events and
 * the watermark, reordering within max_delay, keys (bad ones, key_ttl,
 * none), statistics, a failing callback, allocation failure, and every
 * conformance case through the matcher alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/matcher_support.h"

#define HEAD "patterns:\n  - name: p\n"

static const char *const ab_yaml =
    HEAD "    key: k\n"
         "    sequence:\n"
         "      - begin: a\n        where: kind == \"a\"\n"
         "      - followed_by: b\n        where: kind == \"b\"\n";

static cep_event *
ev_at(int id, int64_t ts, int k, const char *kind)
{
	char text[160];

	snprintf(text, sizeof(text),
	    "{\"id\":%d,\"ts\":%lld,\"k\":%d,\"kind\":\"%s\"}", id,
	    (long long) ts, k, kind);
	return (cep_test_event(text));
}

/* push offers event (id, ts, k, kind) with sequence id and watermark wm;
 * returns *late. */
static int
push(nfa_matcher *m, int id, int64_t ts, int k, const char *kind, int64_t wm)
{
	cep_event *ev   = ev_at(id, ts, k, kind);
	int        late = -1;

	CEP_ASSERT_OK(nfa_matcher_push(m, ev, ts, (uint64_t) id, wm, &late));
	cep_event_unref(ev, NULL);
	ck_assert(late == 0 || late == 1);
	return (late);
}

static nfa_matcher *
matcher(nfa_prog *p, mt_log *log, int ordered)
{
	nfa_matcher *m;

	CEP_ASSERT_OK(nfa_matcher_create(p, mt_log_match, log, &m));
	nfa_matcher_set_ordered(m, ordered);
	return (m);
}

/* ---- late events and the watermark ----------------------------------------
 */

START_TEST(an_event_older_than_the_watermark_is_late)
{
	nfa_prog    *p = mt_compile(ab_yaml);
	mt_log       log;
	nfa_matcher *m;
	nfa_stats    st;

	for (int ordered = 0; ordered < 2; ordered++) {
		mt_log_init(&log, 0);
		m = matcher(p, &log, ordered);
		ck_assert_int_eq(nfa_matcher_watermark(m), NFA_TIME_MIN);
		ck_assert_int_eq(push(m, 1, 10, 1, "a", 10), 0);
		ck_assert_int_eq(nfa_matcher_watermark(m), 10);
		/* Older than the watermark: late, not matched. */
		ck_assert_int_eq(push(m, 2, 9, 1, "b", 10), 1);
		/* Exactly at the watermark: not late. */
		ck_assert_int_eq(push(m, 3, 10, 1, "b", 10), 0);
		CEP_ASSERT_OK(nfa_matcher_finish(m));
		MT_ASSERT_LOG(&log, "p|match|a:[1];b:[3]\n");
		nfa_matcher_stats(m, &st);
		ck_assert_uint_eq(st.late, 1);
		ck_assert_uint_eq(st.events, 2);
		ck_assert_uint_eq(st.matches, 1);
		/* After the end everything is late. */
		ck_assert_int_eq(nfa_matcher_watermark(m), NFA_TIME_MAX);
		ck_assert_int_eq(push(m, 4, 1000, 1, "a", 1000), 1);
		nfa_matcher_destroy(m);
		mt_log_fini(&log);
	}
	nfa_prog_unref(p);
}
END_TEST

START_TEST(an_event_at_the_watermark_waits_unless_ordered)
{
	nfa_prog    *p = mt_compile(ab_yaml);
	mt_log       held, at_once;
	nfa_matcher *m;
	nfa_stats    st;

	/* Unordered: an event at W waits for W to pass it, since another
	 * at the same time with a smaller sequence may still come. */
	mt_log_init(&held, 0);
	m = matcher(p, &held, 0);
	push(m, 1, 10, 1, "a", 10);
	push(m, 2, 10, 1, "b", 10);
	nfa_matcher_stats(m, &st);
	ck_assert_uint_eq(st.buffered, 2);
	ck_assert_uint_eq(st.partial, 0);
	ck_assert_uint_eq(held.n, 0);
	CEP_ASSERT_OK(nfa_matcher_advance(m, 11));
	nfa_matcher_stats(m, &st);
	ck_assert_uint_eq(st.buffered, 0);
	MT_ASSERT_LOG(&held, "p|match|a:[1];b:[2]\n");
	nfa_matcher_destroy(m);

	/* Ordered: matched at once. */
	mt_log_init(&at_once, 0);
	m = matcher(p, &at_once, 1);
	push(m, 1, 10, 1, "a", 10);
	nfa_matcher_stats(m, &st);
	ck_assert_uint_eq(st.buffered, 0);
	ck_assert_uint_eq(st.partial, 1);
	push(m, 2, 10, 1, "b", 10);
	MT_ASSERT_LOG(&at_once, "p|match|a:[1];b:[2]\n");
	nfa_matcher_destroy(m);

	ck_assert(mt_log_equal(&held, &at_once));
	mt_log_fini(&held);
	mt_log_fini(&at_once);
	nfa_prog_unref(p);
}
END_TEST

START_TEST(equal_times_are_released_in_sequence_order)
{
	nfa_prog    *p = mt_compile(ab_yaml);
	mt_log       log;
	nfa_matcher *m;

	/* Sequence 2 (b) arrives before sequence 1 (a), same time. */
	mt_log_init(&log, 0);
	m = matcher(p, &log, 0);
	push(m, 2, 10, 1, "b", 9);
	push(m, 1, 10, 1, "a", 9);
	push(m, 3, 11, 1, "b", 9);
	CEP_ASSERT_OK(nfa_matcher_finish(m));
	MT_ASSERT_LOG(&log, "p|match|a:[1];b:[2]\n");
	nfa_matcher_destroy(m);
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST

START_TEST(the_watermark_never_goes_back)
{
	nfa_prog    *p = mt_compile(ab_yaml);
	mt_log       log;
	nfa_matcher *m;

	mt_log_init(&log, 0);
	m = matcher(p, &log, 0);
	CEP_ASSERT_OK(nfa_matcher_advance(m, 100));
	CEP_ASSERT_OK(nfa_matcher_advance(m, 50));
	ck_assert_int_eq(nfa_matcher_watermark(m), 100);
	ck_assert_int_eq(push(m, 1, 100, 1, "a", 20), 0);
	ck_assert_int_eq(nfa_matcher_watermark(m), 100);
	ck_assert_int_eq(push(m, 2, 99, 1, "b", 20), 1);
	nfa_matcher_destroy(m);
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST

/* ---- reordering ------------------------------------------------------------
 */

struct arrival {
	int64_t  at;
	uint64_t seq;
};

static int
by_arrival(const void *a, const void *b)
{
	const struct arrival *x = a, *y = b;

	if (x->at != y->at) {
		return (x->at < y->at ? -1 : 1);
	}
	return (x->seq < y->seq ? -1 : x->seq > y->seq);
}

/* key_lines keeps the lines of log whose key is k, in order. */
static void
key_lines(const mt_log *log, int k, mt_log *out)
{
	char want[32];

	snprintf(want, sizeof(want), "|%d|", k);
	for (size_t i = 0; i < log->n; i++) {
		if (strstr(log->lines[i], want) != NULL) {
			mt_log_add(out, log->lines[i]);
		}
	}
}

START_TEST(out_of_order_input_within_max_delay_matches_as_sorted)
{
	static const char *const patterns[] = {
		HEAD
		"    key: k\n    max_delay: 8ms\n    within: 12ms\n"
		"    timeouts: true\n"
		"    sequence:\n"
		"      - begin: a\n        where: kind == \"a\"\n"
		"      - followed_by: b\n        where: kind == \"b\"\n"
		"        one_or_more: true\n"
		"      - followed_by_any: c\n        where: kind == \"c\"\n",
		HEAD
		"    key: k\n    max_delay: 8ms\n    within: 20ms\n"
		"    timeouts: true\n    skip: skip_past_last_event\n"
		"    sequence:\n"
		"      - begin: a\n        where: kind == \"a\"\n"
		"      - not_followed_by: x\n        where: kind == \"x\"\n"
		"      - followed_by: b\n        where: kind == \"b\"\n"
		"        times: [1, 2]\n",
	};
	static const char *const kinds[] = { "a", "b", "c", "x" };
	enum { N = 400 };
	cep_event     *evs[N];
	struct arrival arr[N];
	uint64_t       rng = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < N; i++) {
		int64_t ts = i / 2; /* pairs share a time */
		evs[i]     = ev_at(i + 1, ts, (int) (mt_rand(&rng) % 3),
		        kinds[mt_rand(&rng) % 4]);
		arr[i].at  = ts + (int64_t) (mt_rand(&rng) % 9);
		arr[i].seq = (uint64_t) i + 1;
	}
	qsort(arr, N, sizeof(arr[0]), by_arrival);
	for (size_t k = 0; k < sizeof(patterns) / sizeof(patterns[0]); k++) {
		nfa_prog *p = mt_compile(patterns[k]);
		mt_log    sorted, shuffled, ordered;
		mt_driver d;

		mt_log_init(&sorted, MT_LOG_KEY | MT_LOG_IDS);
		mt_log_init(&shuffled, MT_LOG_KEY | MT_LOG_IDS);
		mt_log_init(&ordered, MT_LOG_KEY | MT_LOG_IDS);
		mt_driver_init(&d, p, &sorted, 0);
		for (int i = 0; i < N; i++) {
			CEP_ASSERT_OK(mt_drive(&d, evs[i], (uint64_t) i + 1));
		}
		CEP_ASSERT_OK(nfa_matcher_finish(d.m));
		mt_driver_fini(&d);
		mt_driver_init(&d, p, &ordered, 1);
		for (int i = 0; i < N; i++) {
			CEP_ASSERT_OK(mt_drive(&d, evs[i], (uint64_t) i + 1));
		}
		CEP_ASSERT_OK(nfa_matcher_finish(d.m));
		mt_driver_fini(&d);
		mt_driver_init(&d, p, &shuffled, 0);
		for (int i = 0; i < N; i++) {
			int late = 1;
			CEP_ASSERT_OK(
			    nfa_matcher_push(d.m, evs[arr[i].seq - 1],
			        (int64_t) ((arr[i].seq - 1) / 2), arr[i].seq,
			        (d.wm = arr[i].at - 8 > d.wm ? arr[i].at - 8
			                                     : d.wm),
			        &late));
			ck_assert_int_eq(late, 0);
		}
		CEP_ASSERT_OK(nfa_matcher_finish(d.m));
		mt_driver_fini(&d);

		ck_assert_uint_gt(sorted.n, 10);
		ck_assert_msg(mt_log_equal(&sorted, &ordered),
		    "ordered differs from sorted");
		ck_assert_msg(mt_log_same_multiset(&sorted, &shuffled),
		    "pattern %zu: sorted:\n%s", k, mt_log_text(&sorted));
		/* Per key, in the same order too. */
		for (int key = 0; key < 3; key++) {
			mt_log a, b;
			mt_log_init(&a, 0);
			mt_log_init(&b, 0);
			key_lines(&sorted, key, &a);
			key_lines(&shuffled, key, &b);
			ck_assert_msg(mt_log_equal(&a, &b), "key %d", key);
			mt_log_fini(&a);
			mt_log_fini(&b);
		}
		mt_log_fini(&sorted);
		mt_log_fini(&shuffled);
		mt_log_fini(&ordered);
		nfa_prog_unref(p);
	}
	for (int i = 0; i < N; i++) {
		cep_event_unref(evs[i], NULL);
	}
}
END_TEST

/* ---- keys
 * ------------------------------------------------------------------- */

START_TEST(bad_keys_are_counted_and_skipped)
{
	static const char *const evs[] = {
		"{\"id\":1,\"ts\":1,\"user\":\"u\",\"kind\":\"a\"}",
		"{\"id\":2,\"ts\":2,\"user\":{\"x\":1},\"kind\":\"b\"}",
		"{\"id\":3,\"ts\":3,\"kind\":\"b\"}",
		"{\"id\":4,\"ts\":4,\"user\":null,\"kind\":\"b\"}",
		"{\"id\":5,\"ts\":5,\"user\":[\"u\"],\"kind\":\"b\"}",
		"{\"id\":6,\"ts\":6,\"user\":{},\"kind\":\"b\"}",
		"{\"id\":7,\"ts\":7,\"user\":\"u\",\"kind\":\"b\"}",
	};
	nfa_prog *p = mt_compile(HEAD "    key: user\n"
	                              "    sequence:\n"
	                              "      - begin: a\n"
	                              "        where: kind == \"a\"\n"
	                              "      - next: b\n"
	                              "        where: kind == \"b\"\n");
	mt_log    log;
	mt_driver d;
	nfa_stats st;

	mt_log_init(&log, MT_LOG_KEY);
	mt_driver_init(&d, p, &log, 1);
	for (size_t i = 0; i < 7; i++) {
		cep_event *ev = cep_test_event(evs[i]);
		CEP_ASSERT_OK(mt_drive(&d, ev, i + 1));
		cep_event_unref(ev, NULL);
	}
	CEP_ASSERT_OK(nfa_matcher_finish(d.m));
	/* Strict contiguity holds: the bad events are not the key's. */
	MT_ASSERT_LOG(&log, "p|match|\"u\"|a:[1];b:[7]\n");
	nfa_matcher_stats(d.m, &st);
	ck_assert_uint_eq(st.bad_key, 5);
	ck_assert_uint_eq(st.events, 7);
	mt_driver_fini(&d);
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST

START_TEST(keys_of_every_scalar_type_partition)
{
	static const char *const evs[] = {
		"{\"id\":1,\"ts\":1,\"k\":\"1\",\"kind\":\"a\"}",
		"{\"id\":2,\"ts\":2,\"k\":1,\"kind\":\"a\"}",
		"{\"id\":3,\"ts\":3,\"k\":true,\"kind\":\"a\"}",
		"{\"id\":4,\"ts\":4,\"k\":1.5,\"kind\":\"a\"}",
		"{\"id\":5,\"ts\":5,\"k\":1.5,\"kind\":\"b\"}",
		"{\"id\":6,\"ts\":6,\"k\":true,\"kind\":\"b\"}",
		/* 1.0 is the integer 1. */
		"{\"id\":7,\"ts\":7,\"k\":1.0,\"kind\":\"b\"}",
		"{\"id\":8,\"ts\":8,\"k\":\"1\",\"kind\":\"b\"}",
	};
	nfa_prog *p = mt_compile(ab_yaml);
	mt_log    log;
	mt_driver d;
	nfa_stats st;

	mt_log_init(&log, MT_LOG_KEY);
	mt_driver_init(&d, p, &log, 1);
	for (size_t i = 0; i < 8; i++) {
		cep_event *ev = cep_test_event(evs[i]);
		CEP_ASSERT_OK(mt_drive(&d, ev, i + 1));
		cep_event_unref(ev, NULL);
		if (i == 3) {
			nfa_matcher_stats(d.m, &st);
			ck_assert_uint_eq(st.keys, 4);
		}
	}
	MT_ASSERT_LOG(&log,
	    "p|match|1.5|a:[4];b:[5]\n"
	    "p|match|true|a:[3];b:[6]\n"
	    "p|match|1|a:[2];b:[7]\n"
	    "p|match|\"1\"|a:[1];b:[8]\n");
	mt_driver_fini(&d);
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST

START_TEST(an_unkeyed_pattern_has_one_partition_and_a_null_key)
{
	static const char *const evs[] = {
		"{\"id\":1,\"ts\":1,\"k\":1,\"kind\":\"a\"}",
		"{\"id\":2,\"ts\":2,\"kind\":\"b\"}",
	};
	nfa_prog *p = mt_compile(HEAD "    sequence:\n"
	                              "      - begin: a\n"
	                              "        where: kind == \"a\"\n"
	                              "      - next: b\n"
	                              "        where: kind == \"b\"\n");
	mt_log    log;
	mt_driver d;
	nfa_stats st;

	mt_log_init(&log, MT_LOG_KEY);
	mt_driver_init(&d, p, &log, 1);
	for (size_t i = 0; i < 2; i++) {
		cep_event *ev = cep_test_event(evs[i]);
		CEP_ASSERT_OK(mt_drive(&d, ev, i + 1));
		cep_event_unref(ev, NULL);
		nfa_matcher_stats(d.m, &st);
		ck_assert_uint_eq(st.keys, i == 0 ? 1 : 0);
	}
	MT_ASSERT_LOG(&log, "p|match|null|a:[1];b:[2]\n");
	ck_assert_uint_eq(st.bad_key, 0);
	mt_driver_fini(&d);
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST

static const char *const ttl_yaml = HEAD "    key: k\n"
                                         "    key_ttl: 10ms\n"
                                         "    timeouts: true\n"
                                         "    sequence:\n"
                                         "      - begin: a\n"
                                         "        where: kind == \"a\"\n"
                                         "      - followed_by: b\n"
                                         "        where: kind == \"b\"\n";

START_TEST(an_idle_key_expires_when_the_watermark_passes_its_ttl)
{
	nfa_prog    *p = mt_compile(ttl_yaml);
	mt_log       log;
	nfa_matcher *m;
	nfa_stats    st;

	for (int ordered = 0; ordered < 2; ordered++) {
		mt_log_init(&log, MT_LOG_KEY);
		m = matcher(p, &log, ordered);
		push(m, 1, 0, 1, "a", 0);
		push(m, 2, 5, 2, "a", 5);
		CEP_ASSERT_OK(nfa_matcher_advance(m, 9));
		nfa_matcher_stats(m, &st);
		ck_assert_uint_eq(st.keys, 2);
		ck_assert_uint_eq(st.partial, 2);
		ck_assert_uint_eq(st.expired, 0);
		ck_assert_uint_eq(log.n, 0);
		/* Idle for 10ms: at 10 (time 10 is released at W = 11
		 * unordered, at W = 10 ordered). */
		CEP_ASSERT_OK(nfa_matcher_advance(m, ordered ? 10 : 11));
		MT_ASSERT_LOG(&log, "p|timeout|1|a:[1]\n");
		nfa_matcher_stats(m, &st);
		ck_assert_uint_eq(st.expired, 1);
		ck_assert_uint_eq(st.timeouts, 1);
		ck_assert_uint_eq(st.keys, 1);
		ck_assert_uint_eq(st.partial, 1);
		ck_assert_uint_eq(st.stored, 1);
		CEP_ASSERT_OK(nfa_matcher_advance(m, 100));
		nfa_matcher_stats(m, &st);
		ck_assert_uint_eq(st.expired, 2);
		ck_assert_uint_eq(st.keys, 0);
		ck_assert_uint_eq(st.partial, 0);
		ck_assert_uint_eq(st.stored, 0);
		ck_assert_uint_eq(log.n, 2);
		nfa_matcher_destroy(m);
		mt_log_fini(&log);
	}
	nfa_prog_unref(p);
}
END_TEST

START_TEST(an_idle_key_expires_before_its_next_event)
{
	nfa_prog    *p = mt_compile(ttl_yaml);
	mt_log       log;
	nfa_matcher *m;
	nfa_stats    st;

	mt_log_init(&log, MT_LOG_KEY);
	m = matcher(p, &log, 1);
	push(m, 1, 0, 1, "a", 0);
	/* Ordered, the key's next event is matched before the watermark
	 * that comes with it fires the key's timer. */
	push(m, 2, 20, 1, "b", 20);
	push(m, 3, 21, 1, "a", 21);
	push(m, 4, 22, 1, "b", 22);
	MT_ASSERT_LOG(&log, "p|timeout|1|a:[1]\np|match|1|a:[3];b:[4]\n");
	nfa_matcher_stats(m, &st);
	ck_assert_uint_eq(st.expired, 1);
	ck_assert_uint_eq(st.keys, 0);
	nfa_matcher_destroy(m);
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST

static const char *const held_ttl_yaml =
    HEAD "    key: k\n    key_ttl: 10ms\n"
         "    skip: skip_past_last_event\n"
         "    sequence:\n"
         "      - begin: a\n        where: kind == \"a\"\n"
         "      - followed_by: b\n"
         "        where: kind == \"b\" and v == last(a.v)\n";

START_TEST(an_expiring_key_releases_its_held_matches)
{
	nfa_prog                *p = mt_compile(held_ttl_yaml);
	mt_log                   log;
	nfa_matcher             *m;
	nfa_stats                st;
	static const char *const evs[] = {
		"{\"id\":1,\"ts\":1,\"k\":1,\"kind\":\"a\",\"v\":1}",
		"{\"id\":2,\"ts\":2,\"k\":1,\"kind\":\"a\",\"v\":2}",
		"{\"id\":3,\"ts\":3,\"k\":1,\"kind\":\"b\",\"v\":2}",
	};

	mt_log_init(&log, 0);
	m = matcher(p, &log, 1);
	for (int i = 0; i < 3; i++) {
		cep_event *ev = cep_test_event(evs[i]);
		CEP_ASSERT_OK(nfa_matcher_push(
		    m, ev, i + 1, (uint64_t) i + 1, i + 1, NULL));
		cep_event_unref(ev, NULL);
	}
	ck_assert_uint_eq(log.n, 0);
	CEP_ASSERT_OK(nfa_matcher_advance(m, 13));
	MT_ASSERT_LOG(&log, "p|match|a:[2];b:[3]\n");
	nfa_matcher_stats(m, &st);
	ck_assert_uint_eq(st.expired, 1);
	ck_assert_uint_eq(st.keys, 0);
	ck_assert_uint_eq(st.stored, 0);
	nfa_matcher_destroy(m);
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST

/* ---- statistics --------------------------------------------------------- */

START_TEST(stats_count_what_the_matcher_holds)
{
	nfa_prog    *p = mt_compile(ab_yaml);
	mt_log       log;
	nfa_matcher *m;
	nfa_stats    st;

	mt_log_init(&log, 0);
	m = matcher(p, &log, 0);
	nfa_matcher_stats(m, &st);
	ck_assert_uint_eq(
	    st.events + st.partial + st.keys + st.buffered + st.stored, 0);
	ck_assert_uint_gt(st.bytes, 0);
	push(m, 1, 1, 1, "a", 0);
	push(m, 2, 2, 2, "a", 0);
	push(m, 3, 3, 1, "x", 0);
	nfa_matcher_stats(m, &st);
	ck_assert_uint_eq(st.events, 3);
	ck_assert_uint_eq(st.buffered, 3);
	ck_assert_uint_eq(st.stored, 3);
	ck_assert_uint_eq(st.partial, 0);
	ck_assert_uint_eq(st.keys, 0);
	/* Release all: two partial matches, two stored events. */
	CEP_ASSERT_OK(nfa_matcher_advance(m, 100));
	nfa_matcher_stats(m, &st);
	ck_assert_uint_eq(st.buffered, 0);
	ck_assert_uint_eq(st.partial, 2);
	ck_assert_uint_eq(st.keys, 2);
	ck_assert_uint_eq(st.stored, 2);
	ck_assert_uint_gt(st.bytes, 2 * sizeof(cep_event));
	push(m, 4, 100, 1, "b", 101);
	nfa_matcher_stats(m, &st);
	ck_assert_uint_eq(st.matches, 1);
	ck_assert_uint_eq(st.partial, 1);
	ck_assert_uint_eq(st.keys, 1);
	ck_assert_uint_eq(st.stored, 1);
	CEP_ASSERT_OK(nfa_matcher_finish(m));
	nfa_matcher_stats(m, &st);
	ck_assert_uint_eq(st.partial, 1); /* no window: it stays */
	nfa_matcher_destroy(m);
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST

/* ---- failure
 * ---------------------------------------------------------------- */

START_TEST(a_failing_callback_stops_the_matcher_for_good)
{
	nfa_prog    *p = mt_compile(ab_yaml);
	mt_log       log;
	nfa_matcher *m;
	cep_event   *ev = ev_at(3, 3, 1, "b");
	cep_buf      b;
	nfa_stats    st;

	mt_log_init(&log, 0);
	log.fail_at  = 1;
	log.fail_err = CEP_EIO;
	m            = matcher(p, &log, 1);
	push(m, 1, 1, 1, "a", 1);
	push(m, 2, 2, 2, "a", 2);
	/* The match of key 1 goes to the callback, which fails. */
	CEP_ASSERT_ERR(nfa_matcher_push(m, ev, 3, 3, 3, NULL), CEP_EIO);
	cep_event_unref(ev, NULL);
	ck_assert_uint_eq(log.calls, 1);
	/* Everything after that refuses with the same error. */
	ev = ev_at(4, 4, 2, "b");
	CEP_ASSERT_ERR(nfa_matcher_push(m, ev, 4, 4, 4, NULL), CEP_EIO);
	CEP_ASSERT_ERR(nfa_matcher_advance(m, 100), CEP_EIO);
	CEP_ASSERT_ERR(nfa_matcher_finish(m), CEP_EIO);
	cep_buf_init(&b);
	CEP_ASSERT_ERR(nfa_matcher_save(m, &b), CEP_EIO);
	cep_buf_fini(&b);
	CEP_ASSERT_ERR(nfa_matcher_restore(m, "", 0), CEP_EIO);
	cep_event_unref(ev, NULL);
	ck_assert_uint_eq(log.calls, 1);
	ck_assert_uint_eq(log.n, 0);
	/* The stats stay readable. */
	nfa_matcher_stats(m, &st);
	ck_assert_uint_eq(st.events, 3);
	nfa_matcher_destroy(m);
	mt_log_fini(&log);
	nfa_prog_unref(p);
}
END_TEST

/* scenario runs a small keyed, buffered stream with timeouts, held matches
 * and key_ttl; returns the first error (the matcher must keep returning
 * it) and logs into log.  Every allocation may fail. */
static cep_err
scenario(nfa_prog *p, cep_event *const *evs, size_t n, mt_log *log)
{
	nfa_matcher *m = NULL;
	cep_err      rv, first = CEP_OK;
	cep_buf      b;

	if ((rv = nfa_matcher_create(p, mt_log_match, log, &m)) != CEP_OK) {
		ck_assert_ptr_null(m);
		return (rv);
	}
	for (size_t i = 0, wm = 0; i < n; i++) {
		int64_t ts = 0;
		ck_assert(mt_event_time(p, evs[i], &ts));
		wm = ts - 2 > (int64_t) wm ? (size_t) (ts - 2) : wm;
		rv =
		    nfa_matcher_push(m, evs[i], ts, i + 1, (int64_t) wm, NULL);
		if (first != CEP_OK) {
			CEP_ASSERT_ERR(rv, first);
		}
		first = rv;
		if (i == n / 2 && rv == CEP_OK) {
			/* Continue in a restored copy. */
			nfa_matcher *m2 = NULL;
			cep_buf_init(&b);
			rv = nfa_matcher_save(m, &b);
			if (rv == CEP_OK) {
				rv = nfa_matcher_create(
				    p, mt_log_match, log, &m2);
			}
			if (rv == CEP_OK) {
				rv = nfa_matcher_restore(m2, b.data, b.len);
			}
			cep_buf_fini(&b);
			if (rv != CEP_OK) {
				CEP_ASSERT_ERR(rv, CEP_ENOMEM);
				nfa_matcher_destroy(m2);
				nfa_matcher_destroy(m);
				return (rv);
			}
			nfa_matcher_destroy(m);
			m = m2;
		}
	}
	rv = nfa_matcher_finish(m);
	if (first != CEP_OK) {
		CEP_ASSERT_ERR(rv, first);
	}
	first = rv;
	nfa_matcher_destroy(m);
	return (first);
}

START_TEST(allocation_failure_anywhere_is_enomem)
{
	nfa_prog *p = mt_compile(HEAD "    key: k\n    within: 6ms\n"
	                              "    key_ttl: 5ms\n"
	                              "    timeouts: true\n"
	                              "    skip: skip_past_last_event\n"
	                              "    emit:\n      n: count(a)\n"
	                              "    sequence:\n"
	                              "      - begin: a\n"
	                              "        where: kind == \"a\"\n"
	                              "        one_or_more: true\n"
	                              "      - followed_by: b\n"
	                              "        where: kind == \"b\" and "
	                              "count(a) > 1\n");
	enum { N = 40 };
	cep_event *evs[N];
	mt_log     want, log;
	uint64_t   total;
	int        sticky;

	for (int i = 0; i < N; i++) {
		char text[128];
		snprintf(text, sizeof(text),
		    "{\"id\":%d,\"ts\":%d,\"k\":\"key-%d\",\"kind\":\"%s\"}",
		    i + 1, i + (i % 3 == 1 ? 2 : 0), i % 3,
		    i % 4 == 3 ? "b" : "a");
		evs[i] = cep_test_event(text);
	}
	/* (Without ids: nfa_match_id allocates; test_match covers it.) */
	mt_log_init(&want, 0);
	cep_alloc_fail_after(0, 0);
	CEP_ASSERT_OK(scenario(p, evs, N, &want));
	total = cep_alloc_fail_after(0, 0);
	ck_assert_uint_gt(want.n, 0);
	ck_assert_uint_gt(total, 40);
	for (sticky = 0; sticky < 2; sticky++) {
		for (uint64_t k = 1; k <= total; k++) {
			cep_err rv;
			mt_log_init(&log, 0);
			cep_alloc_fail_after(k, sticky);
			rv = scenario(p, evs, N, &log);
			cep_alloc_fail_after(0, 0);
			ck_assert_msg(rv == CEP_OK || rv == CEP_ENOMEM,
			    "allocation %llu: %s", (unsigned long long) k,
			    cep_errname(rv));
			if (rv == CEP_OK) {
				ck_assert_msg(mt_log_equal(&log, &want),
				    "allocation %llu failed silently",
				    (unsigned long long) k);
			}
			mt_log_fini(&log);
		}
	}
	mt_log_fini(&want);
	for (int i = 0; i < N; i++) {
		cep_event_unref(evs[i], NULL);
	}
	nfa_prog_unref(p);
}
END_TEST

/* ---- how the watermark steps ------------------------------------------
 */

/* Patterns whose results depend on when deadlines are seen: timeouts at
 * max_gap and within deadlines that are out of start order, a final
 * not_followed_by completing at its window's end with a skip strategy
 * that prunes the runs still open then, and key_ttl. */
static const char *const stepping_yaml[] = {
	HEAD "    key: k\n    within: 40ms\n    timeouts: true\n"
	     "    sequence:\n"
	     "      - begin: a\n        where: kind == \"a\"\n"
	     "      - followed_by: b\n        where: kind == \"b\"\n"
	     "        max_gap: 7ms\n"
	     "      - followed_by: c\n        where: kind == \"c\"\n"
	     "        max_gap: 5ms\n",
	HEAD "    key: k\n    within: 12ms\n    timeouts: true\n"
	     "    skip: skip_past_last_event\n"
	     "    sequence:\n"
	     "      - begin: a\n        where: kind == \"a\"\n"
	     "      - followed_by: b\n        where: kind == \"b\"\n"
	     "      - not_followed_by: c\n        where: kind == \"c\"\n",
	HEAD "    key: k\n    within: 30ms\n    key_ttl: 9ms\n"
	     "    timeouts: true\n    skip: skip_to_next\n"
	     "    sequence:\n"
	     "      - begin: a\n        where: kind == \"a\"\n"
	     "        one_or_more: true\n"
	     "      - followed_by: b\n        where: kind == \"b\"\n",
};

/* run_stepped feeds seeded random events in time order, the watermark
 * following them in steps of `step` ms (1: every event's own time), and
 * logs what comes out, keys included. */
static void
run_stepped(nfa_prog *p, int64_t step, mt_log *log)
{
	static const char *const kinds[] = { "a", "b", "c", "d" };
	uint64_t                 rnd     = 11;
	nfa_matcher             *m       = matcher(p, log, 1);
	int64_t                  ts      = 0;

	for (int id = 1; id <= 3000; id++) {
		ts += (int64_t) (mt_rand(&rnd) % 6);
		push(m, id, ts, (int) (mt_rand(&rnd) % 4),
		    kinds[mt_rand(&rnd) % 4], ts / step * step);
	}
	CEP_ASSERT_OK(nfa_matcher_finish(m));
	nfa_matcher_destroy(m);
}

START_TEST(results_do_not_depend_on_how_the_watermark_steps)
{
	for (size_t i = 0; i < sizeof(stepping_yaml) / sizeof(*stepping_yaml);
	     i++) {
		nfa_prog *p = mt_compile(stepping_yaml[i]);
		mt_log    fine, coarse;
		mt_log_init(&fine, MT_LOG_KEY);
		run_stepped(p, 1, &fine);
		ck_assert_msg(
		    fine.n > 20, "pattern %zu: %zu results", i, fine.n);
		for (int64_t step = 2; step <= 64; step *= 4) {
			mt_log_init(&coarse, MT_LOG_KEY);
			run_stepped(p, step, &coarse);
			size_t d = 0;
			while (d < fine.n && d < coarse.n &&
			    strcmp(fine.lines[d], coarse.lines[d]) == 0) {
				d++;
			}
			ck_assert_msg(d == fine.n && d == coarse.n,
			    "pattern %zu, watermark steps of %lld ms: %zu "
			    "results against %zu; result %zu is %s, not %s",
			    i, (long long) step, coarse.n, fine.n, d,
			    d < coarse.n ? coarse.lines[d] : "missing",
			    d < fine.n ? fine.lines[d] : "missing");
			mt_log_fini(&coarse);
		}
		mt_log_fini(&fine);
		nfa_prog_unref(p);
	}
}
END_TEST

/* ---- the conformance cases ------------------------------------------------
 */

START_TEST(every_conformance_case_matches_through_the_matcher)
{
	char **names;
	size_t n = mt_case_names(&names);

	for (size_t i = 0; i < n; i++) {
		mt_case c;
		mt_log  ordered, unordered;
		mt_case_load(names[i], &c);
		mt_log_init(&ordered, 0);
		mt_log_init(&unordered, 0);
		mt_case_run(&c, 1, &ordered);
		mt_case_run(&c, 0, &unordered);
		ck_assert_msg(mt_log_same_multiset(&ordered, &c.expected),
		    "%s: got\n%s", names[i], mt_log_text(&ordered));
		ck_assert_msg(mt_log_equal(&ordered, &unordered),
		    "%s: unordered input gives\n%s", names[i],
		    mt_log_text(&unordered));
		mt_log_fini(&ordered);
		mt_log_fini(&unordered);
		mt_case_fini(&c);
	}
	mt_case_names_free(names, n);
}
END_TEST

static Suite *
matcher_suite(void)
{
	Suite *s = suite_create("matcher");
	TCase *t = tcase_create("watermark");

	tcase_add_test(t, an_event_older_than_the_watermark_is_late);
	tcase_add_test(t, an_event_at_the_watermark_waits_unless_ordered);
	tcase_add_test(t, equal_times_are_released_in_sequence_order);
	tcase_add_test(t, the_watermark_never_goes_back);
	tcase_add_test(
	    t, out_of_order_input_within_max_delay_matches_as_sorted);
	tcase_add_test(t, results_do_not_depend_on_how_the_watermark_steps);
	suite_add_tcase(s, t);
	t = tcase_create("keys");
	tcase_add_test(t, bad_keys_are_counted_and_skipped);
	tcase_add_test(t, keys_of_every_scalar_type_partition);
	tcase_add_test(t, an_unkeyed_pattern_has_one_partition_and_a_null_key);
	tcase_add_test(
	    t, an_idle_key_expires_when_the_watermark_passes_its_ttl);
	tcase_add_test(t, an_idle_key_expires_before_its_next_event);
	tcase_add_test(t, an_expiring_key_releases_its_held_matches);
	suite_add_tcase(s, t);
	t = tcase_create("state");
	tcase_set_timeout(t, 600);
	tcase_add_test(t, stats_count_what_the_matcher_holds);
	tcase_add_test(t, a_failing_callback_stops_the_matcher_for_good);
	tcase_add_test(t, allocation_failure_anywhere_is_enomem);
	tcase_add_test(t, every_conformance_case_matches_through_the_matcher);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(matcher_suite)
