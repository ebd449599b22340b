/* SPDX-License-Identifier: MIT */
/*
 * test_snapshot.c: saving a matcher and restoring it: a matcher restored
 * after every event continues exactly as one never interrupted (every
 * conformance case; keys, timers and slots), in another process with other
 * symbol numbers, and damaged or foreign snapshots are refused without a
 * crash, a leak or a hang.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/matcher_support.h"

#define HEAD "patterns:\n  - name: p\n"

/* ---- helpers --------------------------------------------------------------
 */

/* reincarnate saves *m, destroys it and restores the bytes into a fresh
 * matcher of the same program, logging into log. */
static void
reincarnate(nfa_matcher **m, nfa_prog *p, mt_log *log, int ordered)
{
	nfa_matcher *fresh;
	cep_buf      b;

	cep_buf_init(&b);
	CEP_ASSERT_OK(nfa_matcher_save(*m, &b));
	nfa_matcher_destroy(*m);
	CEP_ASSERT_OK(nfa_matcher_create(p, mt_log_match, log, &fresh));
	nfa_matcher_set_ordered(fresh, ordered);
	CEP_ASSERT_OK(nfa_matcher_restore(fresh, b.data, b.len));
	cep_buf_fini(&b);
	*m = fresh;
}

static void
assert_same_stats(nfa_matcher *a, nfa_matcher *b, const char *what, size_t i)
{
	nfa_stats x, y;

	nfa_matcher_stats(a, &x);
	nfa_matcher_stats(b, &y);
#define SAME(f)                                                               \
	ck_assert_msg(x.f == y.f, "%s, event %zu: " #f " %llu != %llu", what, \
	    i, (unsigned long long) x.f, (unsigned long long) y.f)
	SAME(events);
	SAME(late);
	SAME(bad_key);
	SAME(matches);
	SAME(timeouts);
	SAME(dropped);
	SAME(expired);
	SAME(partial);
	SAME(keys);
	SAME(buffered);
	SAME(stored);
#undef SAME
	ck_assert_int_eq(nfa_matcher_watermark(a), nfa_matcher_watermark(b));
}

/* assert_same_log fails with the first line where b departs from a. */
static void
assert_same_log(const mt_log *a, const mt_log *b, const char *what, size_t i)
{
	size_t k = 0;

	while (k < a->n && k < b->n && strcmp(a->lines[k], b->lines[k]) == 0) {
		k++;
	}
	ck_assert_msg(k == a->n && k == b->n,
	    "%s, event %zu: match %zu: straight %s, restored %s", what, i, k,
	    k < a->n ? a->lines[k] : "(none)",
	    k < b->n ? b->lines[k] : "(none)");
}

/* round_trip feeds events to matcher A straight and to matcher B that is
 * saved and restored into a fresh matcher after every event (and before
 * and after the end); both must give the same matches, ids and order
 * included, and the same statistics all along. */
static void
round_trip(nfa_prog *p, cep_event *const *evs, size_t n, int ordered,
    const char *what)
{
	mt_log    la, lb;
	mt_driver a, b;

	mt_log_init(&la, MT_LOG_IDS | MT_LOG_KEY);
	mt_log_init(&lb, MT_LOG_IDS | MT_LOG_KEY);
	mt_driver_init(&a, p, &la, ordered);
	mt_driver_init(&b, p, &lb, ordered);
	reincarnate(&b.m, p, &lb, ordered);
	for (size_t i = 0; i < n; i++) {
		CEP_ASSERT_OK(mt_drive(&a, evs[i], i + 1));
		CEP_ASSERT_OK(mt_drive(&b, evs[i], i + 1));
		reincarnate(&b.m, p, &lb, ordered);
		assert_same_log(&la, &lb, what, i + 1);
		assert_same_stats(a.m, b.m, what, i + 1);
	}
	CEP_ASSERT_OK(nfa_matcher_finish(a.m));
	CEP_ASSERT_OK(nfa_matcher_finish(b.m));
	reincarnate(&b.m, p, &lb, ordered);
	assert_same_log(&la, &lb, what, n + 1);
	assert_same_stats(a.m, b.m, what, n);
	mt_driver_fini(&a);
	mt_driver_fini(&b);
	mt_log_fini(&la);
	mt_log_fini(&lb);
}

/* events builds n events from notation texts. */
static void
events(cep_event **out, const char *const *texts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[i] = cep_test_event(texts[i]);
	}
}

static void
events_free(cep_event **evs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cep_event_unref(evs[i], NULL);
	}
}

/* ---- round trips
 * ------------------------------------------------------------ */

START_TEST(every_conformance_case_survives_a_restore_after_every_event)
{
	char **names;
	size_t n = mt_case_names(&names);

	for (size_t i = 0; i < n; i++) {
		mt_case c;
		char    what[256];
		mt_case_load(names[i], &c);
		for (size_t k = 0; k < c.nprogs; k++) {
			for (int ordered = 0; ordered < 2; ordered++) {
				snprintf(what, sizeof(what), "%s (ordered %d)",
				    names[i], ordered);
				round_trip(c.progs[k], c.events, c.nevents,
				    ordered, what);
			}
		}
		mt_case_fini(&c);
	}
	mt_case_names_free(names, n);
}
END_TEST

START_TEST(keys_above_a_freed_slot_are_restored)
{
	/* Key 1 takes slot 0, key 2 slot 1; key 1 completes and frees its
	 * slot while key 2 holds state above it. */
	static const char *const texts[] = {
		"{\"id\":1,\"ts\":1,\"k\":\"one\",\"kind\":\"a\"}",
		"{\"id\":2,\"ts\":2,\"k\":\"two\",\"kind\":\"a\"}",
		"{\"id\":3,\"ts\":3,\"k\":\"one\",\"kind\":\"b\"}",
		"{\"id\":4,\"ts\":4,\"k\":\"three\",\"kind\":\"a\"}",
		"{\"id\":5,\"ts\":5,\"k\":\"two\",\"kind\":\"b\"}",
		"{\"id\":6,\"ts\":6,\"k\":\"three\",\"kind\":\"b\"}",
	};
	nfa_prog  *p = mt_compile(HEAD "    key: k\n"
	                                "    sequence:\n"
	                                "      - begin: a\n"
	                                "        where: kind == \"a\"\n"
	                                "      - followed_by: b\n"
	                                "        where: kind == \"b\"\n");
	cep_event *evs[6];

	events(evs, texts, 6);
	round_trip(p, evs, 6, 1, "freed slot");
	round_trip(p, evs, 6, 0, "freed slot, unordered");
	events_free(evs, 6);
	nfa_prog_unref(p);
}
END_TEST

static const char *const stale_yaml =
    HEAD "    key: k\n    within: 10ms\n    timeouts: true\n"
         "    sequence:\n"
         "      - begin: a\n        where: kind == \"a\"\n"
         "      - followed_by: b\n"
         "        where: kind == \"b\" and v == last(a.v)\n";

START_TEST(timeouts_of_several_keys_keep_their_order_after_a_restore)
{
	/* Key 1's timer is set for its first run's window (10); that run
	 * completes, leaving one whose window closes at 15.  Key 2's
	 * window closes at 13.  A jump of the watermark past both must
	 * give the same order whether or not the matcher was restored. */
	static const char *const texts[] = {
		"{\"id\":1,\"ts\":0,\"k\":1,\"kind\":\"a\",\"v\":1}",
		"{\"id\":2,\"ts\":3,\"k\":2,\"kind\":\"a\",\"v\":1}",
		"{\"id\":3,\"ts\":5,\"k\":1,\"kind\":\"a\",\"v\":2}",
		"{\"id\":4,\"ts\":6,\"k\":1,\"kind\":\"b\",\"v\":1}",
		"{\"id\":5,\"ts\":40,\"k\":3,\"kind\":\"x\",\"v\":0}",
	};
	nfa_prog  *p = mt_compile(stale_yaml);
	cep_event *evs[5];

	events(evs, texts, 5);
	round_trip(p, evs, 5, 1, "stale timer");
	round_trip(p, evs, 5, 0, "stale timer, unordered");
	events_free(evs, 5);
	nfa_prog_unref(p);
}
END_TEST

START_TEST(new_keys_after_a_restore_behave_as_before_it)
{
	/* Keys 1 and 2 free their slots (1 first, then 2) while key 3
	 * keeps state; then keys 4 and 5 start at the same time, so their
	 * windows close together and at the end their held... timeouts go
	 * out in an order that depends on the slots they took. */
	static const char *const texts[] = {
		"{\"id\":1,\"ts\":1,\"k\":1,\"kind\":\"a\"}",
		"{\"id\":2,\"ts\":1,\"k\":2,\"kind\":\"a\"}",
		"{\"id\":3,\"ts\":1,\"k\":3,\"kind\":\"a\"}",
		"{\"id\":4,\"ts\":2,\"k\":1,\"kind\":\"b\"}",
		"{\"id\":5,\"ts\":2,\"k\":2,\"kind\":\"b\"}",
		"{\"id\":6,\"ts\":3,\"k\":4,\"kind\":\"a\"}",
		"{\"id\":7,\"ts\":3,\"k\":5,\"kind\":\"a\"}",
		"{\"id\":8,\"ts\":50,\"k\":6,\"kind\":\"x\"}",
	};
	nfa_prog  *p = mt_compile(HEAD "    key: k\n"
	                                "    within: 10ms\n"
	                                "    timeouts: true\n"
	                                "    sequence:\n"
	                                "      - begin: a\n"
	                                "        where: kind == \"a\"\n"
	                                "      - followed_by: b\n"
	                                "        where: kind == \"b\"\n");
	cep_event *evs[8];

	events(evs, texts, 8);
	round_trip(p, evs, 8, 1, "reused slots");
	round_trip(p, evs, 8, 0, "reused slots, unordered");
	events_free(evs, 8);
	nfa_prog_unref(p);
}
END_TEST

START_TEST(a_random_keyed_stream_survives_restores)
{
	static const char *const kinds[] = { "a", "b", "c", "x" };
	static const char *const yamls[] = {
		HEAD
		"    key: k\n    max_delay: 5ms\n    within: 15ms\n"
		"    key_ttl: 12ms\n    timeouts: true\n"
		"    skip: skip_past_last_event\n"
		"    sequence:\n"
		"      - begin: a\n        where: kind == \"a\"\n"
		"        one_or_more: true\n"
		"      - followed_by: b\n        where: kind == \"b\"\n"
		"        max_gap: 6ms\n"
		"      - not_followed_by: x\n        where: kind == \"x\"\n",
		HEAD
		"    key: k\n    within: 9ms\n    timeouts: true\n"
		"    max_partial_matches: 3\n    overflow: drop_newest\n"
		"    sequence:\n"
		"      - begin: a\n        where: kind == \"a\"\n"
		"      - followed_by_any: c\n        where: kind == \"c\"\n"
		"        times: [1, 2]\n",
	};
	enum { N = 300 };
	cep_event *evs[N];
	uint64_t   rng = 42;

	for (int i = 0; i < N; i++) {
		char text[160];
		snprintf(text, sizeof(text),
		    "{\"id\":%d,\"ts\":%d,\"k\":\"key-%d\",\"kind\":\"%s\"}",
		    i + 1, i / 2, (int) (mt_rand(&rng) % 7),
		    kinds[mt_rand(&rng) % 4]);
		evs[i] = cep_test_event(text);
	}
	for (size_t k = 0; k < sizeof(yamls) / sizeof(yamls[0]); k++) {
		nfa_prog *p = mt_compile(yamls[k]);
		round_trip(p, evs, N, 1, "random");
		round_trip(p, evs, N, 0, "random, unordered");
		nfa_prog_unref(p);
	}
	events_free(evs, N);
}
END_TEST

/* ---- another process ------------------------------------------------------
 */

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return (-1);
		}
		c += w;
		n -= (size_t) w;
	}
	return (0);
}

static char *
read_all(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char  *buf = malloc(cap + 1);

	for (;;) {
		ssize_t r;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			break;
		}
		n += (size_t) r;
	}
	buf[n] = '\0';
	*len   = n;
	return (buf);
}

static void
intern_junk(const char *prefix, int n)
{
	for (int i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "%s-%d", prefix, i);
		cep_sym_intern_str(name);
	}
}

/* Whether "ts" was interned before the children were forked (as with
 * CK_FORK=no after other tests): then both number it alike. */
static int ts_known;

/* first_half runs in a child: junk symbols, the case, half its events;
 * writes its log lines then the snapshot to fd as
 * u64 nlines, (u64 len, bytes)*, u64 len, snapshot, u32 sym of "ts". */
static void
first_half(const char *name, int fd)
{
	mt_case   c;
	mt_log    log;
	mt_driver d;
	cep_buf   b;
	uint64_t  v;
	uint32_t  ts;

	intern_junk("junk-first", 1000);
	mt_case_load(name, &c);
	mt_log_init(&log, MT_LOG_IDS | MT_LOG_KEY);
	mt_driver_init(&d, c.progs[0], &log, 1);
	for (size_t i = 0; i < c.nevents / 2; i++) {
		if (mt_drive(&d, c.events[i], i + 1) != CEP_OK) {
			_exit(2);
		}
	}
	cep_buf_init(&b);
	if (nfa_matcher_save(d.m, &b) != CEP_OK) {
		_exit(3);
	}
	v = log.n;
	write_all(fd, &v, sizeof(v));
	for (size_t i = 0; i < log.n; i++) {
		v = strlen(log.lines[i]);
		write_all(fd, &v, sizeof(v));
		write_all(fd, log.lines[i], v);
	}
	v = b.len;
	write_all(fd, &v, sizeof(v));
	write_all(fd, b.data, b.len);
	ts = cep_sym_lookup("ts", 2);
	write_all(fd, &ts, sizeof(ts));
	cep_buf_fini(&b);
	mt_driver_fini(&d);
	mt_log_fini(&log);
	mt_case_fini(&c);
}

/* second_half runs in another child: other junk symbols, the case, the
 * first half's state restored, the rest of the events; compares with a
 * straight run of its own and writes "ok" or what differs to out. */
static void
second_half(const char *name, int in, int out)
{
	mt_case   c;
	mt_log    straight, resumed;
	mt_driver d;
	size_t    len, off = 0;
	char     *data;
	uint64_t  nlines, v;
	uint32_t  ts_first;
	char      msg[512] = "ok";

	intern_junk("junk-second", 7);
	mt_case_load(name, &c);
	mt_log_init(&straight, MT_LOG_IDS | MT_LOG_KEY);
	mt_log_init(&resumed, MT_LOG_IDS | MT_LOG_KEY);
	mt_case_run(&c, 1, &straight);
	data = read_all(in, &len);
#define TAKE(dst, n)                                      \
	do {                                              \
		if (off + (n) > len) {                    \
			write_all(out, "short read", 10); \
			_exit(4);                         \
		}                                         \
		memcpy((dst), data + off, (n));           \
		off += (n);                               \
	} while (0)
	TAKE(&nlines, sizeof(nlines));
	for (uint64_t i = 0; i < nlines; i++) {
		char line[8192];
		TAKE(&v, sizeof(v));
		if (v >= sizeof(line)) {
			_exit(5);
		}
		TAKE(line, v);
		line[v] = '\0';
		mt_log_add(&resumed, line);
	}
	TAKE(&v, sizeof(v));
	mt_driver_init(&d, c.progs[0], &resumed, 1);
	if (off + v > len ||
	    nfa_matcher_restore(d.m, data + off, (size_t) v) != CEP_OK) {
		snprintf(msg, sizeof(msg), "restore failed");
	} else {
		d.wm = nfa_matcher_watermark(d.m);
		off += v;
		TAKE(&ts_first, sizeof(ts_first));
		for (size_t i = c.nevents / 2; i < c.nevents; i++) {
			if (mt_drive(&d, c.events[i], i + 1) != CEP_OK) {
				snprintf(
				    msg, sizeof(msg), "push %zu failed", i);
			}
		}
		if (nfa_matcher_finish(d.m) != CEP_OK) {
			snprintf(msg, sizeof(msg), "finish failed");
		} else if (!ts_known && ts_first == cep_sym_lookup("ts", 2)) {
			snprintf(msg, sizeof(msg), "same symbol numbers");
		} else if (!mt_log_equal(&straight, &resumed)) {
			snprintf(msg, sizeof(msg),
			    "straight:\n%.200s\nresumed:\n",
			    mt_log_text(&straight));
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
			    "%.200s", mt_log_text(&resumed));
		}
	}
#undef TAKE
	write_all(out, msg, strlen(msg));
	free(data);
	mt_driver_fini(&d);
	mt_log_fini(&straight);
	mt_log_fini(&resumed);
	mt_case_fini(&c);
}

START_TEST(a_snapshot_moves_to_a_process_with_other_symbol_numbers)
{
	char **names;
	size_t n = mt_case_names(&names);

	ts_known = cep_sym_lookup("ts", 2) != CEP_SYM_NONE;
	for (size_t i = 0; i < n; i++) {
		int    to_second[2], to_parent[2], status;
		pid_t  first, second;
		char  *result;
		size_t len;

		ck_assert_int_eq(pipe(to_second), 0);
		ck_assert_int_eq(pipe(to_parent), 0);
		if ((first = fork()) == 0) {
			close(to_second[0]);
			close(to_parent[0]);
			close(to_parent[1]);
			first_half(names[i], to_second[1]);
			close(to_second[1]);
			_exit(0);
		}
		ck_assert_int_gt(first, 0);
		if ((second = fork()) == 0) {
			close(to_second[1]);
			close(to_parent[0]);
			second_half(names[i], to_second[0], to_parent[1]);
			_exit(0);
		}
		ck_assert_int_gt(second, 0);
		close(to_second[0]);
		close(to_second[1]);
		close(to_parent[1]);
		result = read_all(to_parent[0], &len);
		close(to_parent[0]);
		ck_assert_int_eq(waitpid(first, &status, 0), first);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "%s: first half exited with %d", names[i], status);
		ck_assert_int_eq(waitpid(second, &status, 0), second);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "%s: second half exited with %d", names[i], status);
		ck_assert_msg(
		    strcmp(result, "ok") == 0, "%s: %s", names[i], result);
		free(result);
	}
	mt_case_names_free(names, n);
}
END_TEST

/* ---- refusals
 * ---------------------------------------------------------------- */

static const char *const small_yaml =
    HEAD "    key: k\n    within: 50ms\n    timeouts: true\n"
         "    skip: skip_past_last_event\n"
         "    sequence:\n"
         "      - begin: a\n        where: kind == \"a\"\n"
         "        one_or_more: true\n"
         "      - followed_by: b\n        where: kind == \"b\" and "
         "count(a) > 1\n";

static const char *const small_texts[] = {
	"{\"id\":1,\"ts\":1,\"k\":\"u\",\"kind\":\"a\",\"n\":[1,{\"x\":null}]"
	"}",
	"{\"id\":2,\"ts\":2,\"k\":7,\"kind\":\"a\",\"d\":2.5}",
	"{\"id\":3,\"ts\":3,\"k\":\"u\",\"kind\":\"a\"}",
	"{\"id\":4,\"ts\":3,\"k\":\"v\",\"kind\":\"a\",\"s\":\"str\"}",
	"{\"id\":5,\"ts\":4,\"k\":\"u\",\"kind\":\"b\"}",
	"{\"id\":6,\"ts\":5,\"k\":7,\"kind\":\"a\"}",
	"{\"id\":7,\"ts\":6,\"k\":true,\"kind\":\"a\"}",
	"{\"id\":8,\"ts\":9,\"k\":\"u\",\"kind\":\"a\"}",
	"{\"id\":9,\"ts\":10,\"k\":7,\"kind\":\"b\"}",
	"{\"id\":10,\"ts\":11,\"k\":\"v\",\"kind\":\"a\"}",
};

enum { SMALL_N = sizeof(small_texts) / sizeof(small_texts[0]), SMALL_AT = 7 };

/* small_snapshot saves a matcher fed the first SMALL_AT small events,
 * unordered with the watermark 2 behind, so that it holds keys, runs,
 * held matches and buffered events. */
static void
small_snapshot(nfa_prog *p, cep_event *const *evs, cep_buf *out)
{
	mt_log       log;
	nfa_matcher *m;
	nfa_stats    st;

	mt_log_init(&log, 0);
	CEP_ASSERT_OK(nfa_matcher_create(p, mt_log_match, &log, &m));
	for (int i = 0; i < SMALL_AT; i++) {
		int64_t ts;
		ck_assert(mt_event_time(p, evs[i], &ts));
		CEP_ASSERT_OK(nfa_matcher_push(
		    m, evs[i], ts, (uint64_t) i + 1, ts - 2, NULL));
	}
	nfa_matcher_stats(m, &st);
	ck_assert_uint_ge(st.keys, 2);
	ck_assert_uint_gt(st.buffered, 0);
	ck_assert_uint_gt(st.partial, 2);
	CEP_ASSERT_OK(nfa_matcher_save(m, out));
	nfa_matcher_destroy(m);
	mt_log_fini(&log);
}

/* try_restore restores bytes into a fresh matcher; on success runs the
 * rest of the small events and the end through it. */
static cep_err
try_restore(nfa_prog *p, cep_event *const *evs, const void *data, size_t len)
{
	mt_log       log;
	nfa_matcher *m;
	cep_err      rv;

	mt_log_init(&log, 0);
	CEP_ASSERT_OK(nfa_matcher_create(p, mt_log_match, &log, &m));
	rv = nfa_matcher_restore(m, data, len);
	if (rv == CEP_OK) {
		for (int i = SMALL_AT; i < SMALL_N; i++) {
			int64_t ts;
			ck_assert(mt_event_time(p, evs[i], &ts));
			(void) nfa_matcher_push(
			    m, evs[i], ts, (uint64_t) i + 1, ts - 2, NULL);
		}
		(void) nfa_matcher_finish(m);
	} else {
		/* Left empty, and usable. */
		nfa_stats st;
		nfa_matcher_stats(m, &st);
		ck_assert_uint_eq(
		    st.keys + st.stored + st.buffered + st.events, 0);
		ck_assert_int_eq(nfa_matcher_watermark(m), NFA_TIME_MIN);
	}
	nfa_matcher_destroy(m);
	mt_log_fini(&log);
	return (rv);
}

START_TEST(every_truncation_is_corrupt)
{
	nfa_prog  *p = mt_compile(small_yaml);
	cep_event *evs[SMALL_N];
	cep_buf    b;

	events(evs, small_texts, SMALL_N);
	cep_buf_init(&b);
	small_snapshot(p, evs, &b);
	CEP_ASSERT_OK(try_restore(p, evs, b.data, b.len));
	for (size_t len = 0; len < b.len; len++) {
		/* A private copy, so that reading past len is caught. */
		uint8_t *cut = malloc(len + 1);
		memcpy(cut, b.data, len);
		ck_assert_msg(try_restore(p, evs, cut, len) == CEP_ECORRUPT,
		    "truncated to %zu of %zu bytes", len, b.len);
		free(cut);
	}
	cep_buf_fini(&b);
	events_free(evs, SMALL_N);
	nfa_prog_unref(p);
}
END_TEST

START_TEST(every_damaged_byte_is_refused_or_harmless)
{
	static const uint8_t masks[] = { 0x01, 0x02, 0x10, 0x40, 0x80, 0xff };
	nfa_prog            *p       = mt_compile(small_yaml);
	cep_event           *evs[SMALL_N];
	cep_buf              b;
	size_t               refused = 0;

	events(evs, small_texts, SMALL_N);
	cep_buf_init(&b);
	small_snapshot(p, evs, &b);
	for (size_t pos = 0; pos < b.len; pos++) {
		for (size_t k = 0; k < sizeof(masks); k++) {
			uint8_t *bad = malloc(b.len);
			cep_err  rv;
			memcpy(bad, b.data, b.len);
			bad[pos] ^= masks[k];
			rv = try_restore(p, evs, bad, b.len);
			ck_assert_msg(rv == CEP_OK || rv == CEP_ECORRUPT,
			    "byte %zu ^ %#x: %s", pos, masks[k],
			    cep_errname(rv));
			refused += rv == CEP_ECORRUPT;
			free(bad);
		}
	}
	ck_assert_uint_gt(refused, b.len);
	cep_buf_fini(&b);
	events_free(evs, SMALL_N);
	nfa_prog_unref(p);
}
END_TEST

START_TEST(random_damage_is_refused_or_harmless)
{
	nfa_prog  *p = mt_compile(small_yaml);
	cep_event *evs[SMALL_N];
	cep_buf    b;
	uint64_t   rng = 0x5eed;

	events(evs, small_texts, SMALL_N);
	cep_buf_init(&b);
	small_snapshot(p, evs, &b);
	for (int round = 0; round < 3000; round++) {
		uint8_t *bad   = malloc(b.len);
		int      flips = 1 + (int) (mt_rand(&rng) % 4);
		cep_err  rv;
		memcpy(bad, b.data, b.len);
		for (int f = 0; f < flips; f++) {
			bad[mt_rand(&rng) % b.len] = (uint8_t) mt_rand(&rng);
		}
		rv = try_restore(p, evs, bad, b.len);
		ck_assert_msg(rv == CEP_OK || rv == CEP_ECORRUPT,
		    "round %d: %s", round, cep_errname(rv));
		free(bad);
	}
	cep_buf_fini(&b);
	events_free(evs, SMALL_N);
	nfa_prog_unref(p);
}
END_TEST

/* huge_index builds a snapshot of prog that is sound but for one pool
 * index of 2^30 - 1: a node's event (0), a node's previous node (1), a key
 * slot (2) or a run's node (3). */
static void
huge_index(nfa_prog *p, int which, cep_buf *b)
{
	static const char *const names[] = { "id", "k", "kind" };
	cep_event               *ev =
	    cep_test_event("{\"id\":1,\"k\":\"u\",\"kind\":\"a\"}");
	uint32_t big = (1u << 30) - 1;

	cep_buf_put_u32(b, 0x4d504543u); /* "CEPM" */
	cep_buf_put_u32(b, 3);
	cep_buf_put_u64(b, nfa_prog_fingerprint(p));
	cep_buf_put_i64(b, 5);
	for (int i = 0; i < 7; i++) {
		cep_buf_put_varint(b, 0);
	}
	cep_buf_put_varint(b, 3);
	for (int i = 0; i < 3; i++) {
		cep_buf_put_varint(b, cep_sym_intern_str(names[i]));
		cep_buf_put_blob(b, names[i], strlen(names[i]));
	}
	/* One event, one node on it, one key whose run ends there. */
	cep_buf_put_varint(b, 1);
	cep_buf_put_i64(b, 1);
	cep_buf_put_u64(b, 1);
	cep_buf_put_blob(b, ev, ev->size);
	cep_buf_put_varint(b, 1);
	cep_buf_put_varint(b, which == 0 ? big : 1);
	cep_buf_put_varint(b, which == 1 ? big : 0);
	cep_buf_put_varint(b, 0);
	cep_buf_put_varint(b, 1);
	cep_buf_put_varint(b, which == 2 ? big : 0);
	cep_buf_put_u8(b, CEP_T_STR);
	cep_buf_put_blob(b, "u", 1);
	cep_buf_put_i64(b, 1);
	cep_buf_put_varint(b, 1); /* runs */
	cep_buf_put_varint(b, which == 3 ? big : 1);
	cep_buf_put_varint(b, 1);
	cep_buf_put_i64(b, 1);
	cep_buf_put_i64(b, 1);
	cep_buf_put_u64(b, 1);
	cep_buf_put_varint(b, 0); /* held */
	cep_buf_put_varint(b, 0); /* free key slots */
	cep_buf_put_varint(b, 0); /* buffer */
	cep_event_unref(ev, NULL);
}

/* check_huge restores huge_index(which) and wants ECORRUPT; the sound
 * variant (which = -1) restores. */
static void
check_huge(int which)
{
	nfa_prog    *p = mt_compile(small_yaml);
	mt_log       log;
	nfa_matcher *m;
	cep_buf      b;
	cep_err      rv;

	mt_log_init(&log, 0);
	cep_buf_init(&b);
	huge_index(p, -1, &b);
	CEP_ASSERT_OK(nfa_matcher_create(p, mt_log_match, &log, &m));
	CEP_ASSERT_OK(nfa_matcher_restore(m, b.data, b.len));
	nfa_matcher_destroy(m);
	cep_buf_reset(&b);
	huge_index(p, which, &b);
	CEP_ASSERT_OK(nfa_matcher_create(p, mt_log_match, &log, &m));
	rv = nfa_matcher_restore(m, b.data, b.len);
	ck_assert_msg(
	    rv == CEP_ECORRUPT, "index %d: %s", which, cep_errname(rv));
	nfa_matcher_destroy(m);
	cep_buf_fini(&b);
	mt_log_fini(&log);
	nfa_prog_unref(p);
}

START_TEST(a_huge_key_slot_is_refused_quickly)
{
	/* Bounded by the live keys and the free slots listed. */
	check_huge(2);
}
END_TEST

/* Events and nodes are numbered densely: an index beyond those the
 * snapshot holds is damage, refused before any pool grows to it. */
START_TEST(huge_event_and_node_indices_are_refused_quickly)
{
	check_huge(0);
	check_huge(1);
	check_huge(3);
}
END_TEST

START_TEST(another_programs_snapshot_is_refused)
{
	nfa_prog    *p = mt_compile(small_yaml);
	nfa_prog    *q = mt_compile(HEAD "    key: k\n"
	                                    "    sequence:\n"
	                                    "      - begin: a\n"
	                                    "        where: kind == \"a\"\n");
	cep_event   *evs[SMALL_N];
	cep_buf      b;
	mt_log       log;
	nfa_matcher *m;

	ck_assert_uint_ne(nfa_prog_fingerprint(p), nfa_prog_fingerprint(q));
	events(evs, small_texts, SMALL_N);
	cep_buf_init(&b);
	small_snapshot(p, evs, &b);
	mt_log_init(&log, 0);
	CEP_ASSERT_OK(nfa_matcher_create(q, mt_log_match, &log, &m));
	CEP_ASSERT_ERR(nfa_matcher_restore(m, b.data, b.len), CEP_ECORRUPT);
	nfa_matcher_destroy(m);
	/* The right program takes it, even after a refusal. */
	CEP_ASSERT_OK(nfa_matcher_create(p, mt_log_match, &log, &m));
	CEP_ASSERT_ERR(nfa_matcher_restore(m, b.data, 10), CEP_ECORRUPT);
	CEP_ASSERT_OK(nfa_matcher_restore(m, b.data, b.len));
	nfa_matcher_destroy(m);
	/* An equal program (compiled again) takes it too. */
	{
		nfa_prog *again = mt_compile(small_yaml);
		ck_assert_uint_eq(
		    nfa_prog_fingerprint(again), nfa_prog_fingerprint(p));
		CEP_ASSERT_OK(
		    nfa_matcher_create(again, mt_log_match, &log, &m));
		CEP_ASSERT_OK(nfa_matcher_restore(m, b.data, b.len));
		nfa_matcher_destroy(m);
		nfa_prog_unref(again);
	}
	mt_log_fini(&log);
	cep_buf_fini(&b);
	events_free(evs, SMALL_N);
	nfa_prog_unref(q);
	nfa_prog_unref(p);
}
END_TEST

START_TEST(restore_into_a_used_matcher_is_einval)
{
	nfa_prog    *p = mt_compile(small_yaml);
	cep_event   *evs[SMALL_N];
	cep_buf      b;
	mt_log       log;
	nfa_matcher *m;

	events(evs, small_texts, SMALL_N);
	cep_buf_init(&b);
	small_snapshot(p, evs, &b);
	mt_log_init(&log, 0);
	/* After an event. */
	CEP_ASSERT_OK(nfa_matcher_create(p, mt_log_match, &log, &m));
	CEP_ASSERT_OK(nfa_matcher_push(m, evs[0], 1, 1, NFA_TIME_MIN, NULL));
	CEP_ASSERT_ERR(nfa_matcher_restore(m, b.data, b.len), CEP_EINVAL);
	nfa_matcher_destroy(m);
	/* After the watermark moved. */
	CEP_ASSERT_OK(nfa_matcher_create(p, mt_log_match, &log, &m));
	CEP_ASSERT_OK(nfa_matcher_advance(m, 0));
	CEP_ASSERT_ERR(nfa_matcher_restore(m, b.data, b.len), CEP_EINVAL);
	nfa_matcher_destroy(m);
	/* After a restore. */
	CEP_ASSERT_OK(nfa_matcher_create(p, mt_log_match, &log, &m));
	CEP_ASSERT_OK(nfa_matcher_restore(m, b.data, b.len));
	CEP_ASSERT_ERR(nfa_matcher_restore(m, b.data, b.len), CEP_EINVAL);
	nfa_matcher_destroy(m);
	/* After an event that was processed and left nothing behind. */
	CEP_ASSERT_OK(nfa_matcher_create(p, mt_log_match, &log, &m));
	nfa_matcher_set_ordered(m, 1);
	{
		cep_event *x = cep_test_event("{\"k\":\"z\",\"kind\":\"x\"}");
		CEP_ASSERT_OK(nfa_matcher_push(m, x, 1, 1, 1, NULL));
		cep_event_unref(x, NULL);
	}
	CEP_ASSERT_ERR(nfa_matcher_restore(m, b.data, b.len), CEP_EINVAL);
	nfa_matcher_destroy(m);
	/* After an event without a key, before any watermark: it waits in
	 * the buffer. */
	CEP_ASSERT_OK(nfa_matcher_create(p, mt_log_match, &log, &m));
	{
		cep_event *x = cep_test_event("{\"kind\":\"a\"}");
		CEP_ASSERT_OK(
		    nfa_matcher_push(m, x, 1, 1, NFA_TIME_MIN, NULL));
		cep_event_unref(x, NULL);
	}
	CEP_ASSERT_ERR(nfa_matcher_restore(m, b.data, b.len), CEP_EINVAL);
	nfa_matcher_destroy(m);
	mt_log_fini(&log);
	cep_buf_fini(&b);
	events_free(evs, SMALL_N);
	nfa_prog_unref(p);
}
END_TEST

START_TEST(restore_survives_allocation_failure)
{
	nfa_prog  *p = mt_compile(small_yaml);
	cep_event *evs[SMALL_N];
	cep_buf    b;
	int        ok = 0;

	events(evs, small_texts, SMALL_N);
	cep_buf_init(&b);
	small_snapshot(p, evs, &b);
	for (uint64_t n = 1; !ok; n++) {
		mt_log       log;
		nfa_matcher *m;
		cep_err      rv;
		mt_log_init(&log, 0);
		CEP_ASSERT_OK(nfa_matcher_create(p, mt_log_match, &log, &m));
		cep_alloc_fail_after(n, 0);
		rv = nfa_matcher_restore(m, b.data, b.len);
		cep_alloc_fail_after(0, 0);
		if (rv == CEP_OK) {
			ok = 1;
		} else {
			CEP_ASSERT_ERR(rv, CEP_ENOMEM);
			/* Left empty: a second try works. */
			CEP_ASSERT_OK(nfa_matcher_restore(m, b.data, b.len));
		}
		nfa_matcher_destroy(m);
		mt_log_fini(&log);
		ck_assert_uint_lt(n, 10000);
	}
	/* And saving. */
	for (uint64_t n = 1;; n++) {
		mt_log       log;
		nfa_matcher *m;
		cep_buf      s;
		cep_err      rv;
		mt_log_init(&log, 0);
		CEP_ASSERT_OK(nfa_matcher_create(p, mt_log_match, &log, &m));
		CEP_ASSERT_OK(nfa_matcher_restore(m, b.data, b.len));
		cep_buf_init(&s);
		cep_alloc_fail_after(n, 0);
		rv = nfa_matcher_save(m, &s);
		cep_alloc_fail_after(0, 0);
		cep_buf_fini(&s);
		nfa_matcher_destroy(m);
		mt_log_fini(&log);
		if (rv == CEP_OK) {
			break;
		}
		CEP_ASSERT_ERR(rv, CEP_ENOMEM);
		ck_assert_uint_lt(n, 10000);
	}
	cep_buf_fini(&b);
	events_free(evs, SMALL_N);
	nfa_prog_unref(p);
}
END_TEST

static Suite *
snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *t = tcase_create("round trip");

	tcase_set_timeout(t, 600);
	tcase_add_test(
	    t, every_conformance_case_survives_a_restore_after_every_event);
	tcase_add_test(t, keys_above_a_freed_slot_are_restored);
	tcase_add_test(
	    t, timeouts_of_several_keys_keep_their_order_after_a_restore);
	tcase_add_test(t, new_keys_after_a_restore_behave_as_before_it);
	tcase_add_test(t, a_random_keyed_stream_survives_restores);
	tcase_add_test(
	    t, a_snapshot_moves_to_a_process_with_other_symbol_numbers);
	suite_add_tcase(s, t);
	t = tcase_create("refusals");
	tcase_set_timeout(t, 600);
	tcase_add_test(t, every_truncation_is_corrupt);
	tcase_add_test(t, every_damaged_byte_is_refused_or_harmless);
	tcase_add_test(t, random_damage_is_refused_or_harmless);
	tcase_add_test(t, a_huge_key_slot_is_refused_quickly);
	tcase_add_test(t, huge_event_and_node_indices_are_refused_quickly);
	tcase_add_test(t, another_programs_snapshot_is_refused);
	tcase_add_test(t, restore_into_a_used_matcher_is_einval);
	tcase_add_test(t, restore_survives_allocation_failure);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(snapshot_suite)
