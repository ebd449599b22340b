/* SPDX-License-Identifier: MIT */
/*
 * bench_matcher.c: the matcher alone (nfa/matcher.h), without the dataflow
 * around it: memory per live partial match and the latency of each push.
 *
 *	bench_matcher [-n N] RULES [EVENTS.jsonl]
 *
 * Every pattern of RULES that reads the raw input ("from: events") gets its
 * own matcher, fed in order (set_ordered, watermark = highest time so far
 * minus the pattern's max_delay) with:
 *
 *  - the first N events of EVENTS (default: all), parsed up front so that
 *    only matching is timed; or
 *  - without EVENTS, a synthetic keyed stream for tests/bench/abc.yaml:
 *    N events (default 10^6) of types A..J uniformly over 1,000 integer
 *    keys ("key"), 1 ms apart.
 *
 * For each pattern it prints events/s, matches, the peak number of live
 * partial matches (sampled) with nfa_matcher_stats' bytes per partial
 * match at that peak, and the p50 / p99 / p99.9 / max of the time one
 * nfa_matcher_push takes (CLOCK_MONOTONIC around each call; the clock
 * itself costs some 20 ns, included).
 *
 * Without EVENTS it then measures memory with many live partial matches:
 * on 1,000 keys, 20 As then 50 Bs per key, all inside the window, leave
 * 20 + 20 * 50 partial matches per key under followed_by_any (no C ever
 * comes), about a million in all; it prints bytes / partial there.
 * Built with the tests, run by hand (tests/bench/run.sh).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nfa/nfa.h"
#include "server/rules.h"

#define SYNTH_KEYS 1000u
#define SYNTH_T0 INT64_C(1700000000000)
#define SAMPLE_EVERY 4096u
#define PILE_A 20u
#define PILE_B 50u

struct input {
	cep_event **ev;
	size_t      n;
	size_t      cap;
	cep_slab   *slab;
};

struct bench {
	uint64_t matches;
};

_Noreturn static void
die(const char *what, cep_err rv)
{
	fprintf(stderr, "bench_matcher: %s: %s\n", what, cep_strerror(rv));
	exit(1);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec);
}

/* splitmix64: the synthetic stream's generator (deterministic). */
static uint64_t
next_rand(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (z ^ (z >> 31));
}

static void
input_add(struct input *in, cep_builder *b)
{
	cep_err rv;

	if (in->n == in->cap &&
	    cep_grow(&in->ev, &in->cap, in->n + 1, sizeof(cep_event *)) != 0) {
		die("input", CEP_ENOMEM);
	}
	if ((rv = cep_builder_finish(b, in->slab, &in->ev[in->n])) != CEP_OK) {
		die("build", rv);
	}
	in->n++;
}

static void
input_free(struct input *in)
{
	for (size_t i = 0; i < in->n; i++) {
		cep_event_unref(in->ev[i], in->slab);
	}
	cep_free(in->ev, in->cap * sizeof(cep_event *));
	cep_slab_destroy(in->slab);
}

/* abc_event builds {"ts", "key", "type"}. */
static void
abc_event(struct input *in, cep_builder *b, int64_t ts, uint32_t key,
    char type)
{
	cep_builder_reset(b);
	cep_builder_map_begin(b);
	cep_builder_key(b, "ts", 2);
	cep_builder_int(b, ts);
	cep_builder_key(b, "key", 3);
	cep_builder_int(b, key);
	cep_builder_key(b, "type", 4);
	cep_builder_str(b, &type, 1);
	cep_builder_end(b);
	input_add(in, b);
}

static void
synth_abc(struct input *in, size_t n)
{
	cep_builder *b = cep_builder_create();
	uint64_t     seed = 42;

	if (b == NULL) {
		die("builder", CEP_ENOMEM);
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t r = next_rand(&seed);
		abc_event(in, b, SYNTH_T0 + (int64_t) i,
		    (uint32_t) (r % SYNTH_KEYS), (char) ('A' + (r >> 32) % 10));
	}
	cep_builder_destroy(b);
}

/* synth_pile: per key PILE_A As then PILE_B Bs, keys interleaved, all
 * within one second. */
static void
synth_pile(struct input *in)
{
	cep_builder *b = cep_builder_create();
	size_t       i = 0;

	if (b == NULL) {
		die("builder", CEP_ENOMEM);
	}
	for (uint32_t j = 0; j < PILE_A + PILE_B; j++) {
		for (uint32_t k = 0; k < SYNTH_KEYS; k++, i++) {
			abc_event(in, b, SYNTH_T0 + (int64_t) (i / 100), k,
			    j < PILE_A ? 'A' : 'B');
		}
	}
	cep_builder_destroy(b);
}

static void
read_events(struct input *in, const char *path, size_t max)
{
	FILE            *f = fopen(path, "rb");
	cep_json_reader *jr = cep_json_reader_create();
	cep_builder     *b  = cep_builder_create();
	char            *line = NULL;
	size_t           cap = 0;
	ssize_t          len;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	if (jr == NULL || b == NULL) {
		die("reader", CEP_ENOMEM);
	}
	while (in->n < max && (len = getline(&line, &cap, f)) > 0) {
		if (cep_json_parse(jr, line, (size_t) len - (line[len - 1] == '\n'),
		        b) == CEP_OK) {
			input_add(in, b);
		}
	}
	free(line);
	fclose(f);
	cep_json_reader_destroy(jr);
	cep_builder_destroy(b);
}

static cep_err
on_match(void *arg, const nfa_match *m)
{
	struct bench *bn = arg;

	(void) m;
	bn->matches++;
	return (CEP_OK);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

	return (x < y ? -1 : x > y);
}

static uint32_t
pct(const uint32_t *sorted, size_t n, double p)
{
	size_t i = (size_t) (p * (double) n);

	return (sorted[i < n ? i : n - 1]);
}

static int
event_time(const nfa_pattern *p, const cep_event *ev, int64_t *ts)
{
	cep_val v;

	cep_slot_val(ev, cep_event_find_path(ev, p->time.syms, p->time.n), &v);
	if (v.type != CEP_T_INT) {
		return (0);
	}
	*ts = v.u.i;
	return (1);
}

/* run_one replays the input through a fresh matcher of prog and prints a
 * line; with pile set it prints the memory line instead. */
static void
run_one(nfa_prog *prog, const struct input *in, int pile)
{
	const nfa_pattern *p = nfa_prog_pattern(prog);
	struct bench       bn = { 0 };
	nfa_matcher       *m;
	nfa_stats          st, peak = { 0 };
	uint32_t          *lat = malloc((in->n + 1) * sizeof(uint32_t));
	size_t             nlat = 0;
	int64_t            ts, wm = NFA_TIME_MIN, hi = NFA_TIME_MIN;
	uint64_t           t0, t1, total = 0;
	size_t             every = in->n / 256;
	cep_err            rv;

	if (lat == NULL) {
		die("latencies", CEP_ENOMEM);
	}
	every = every < 1 ? 1 : every > SAMPLE_EVERY ? SAMPLE_EVERY : every;
	if ((rv = nfa_matcher_create(prog, on_match, &bn, &m)) != CEP_OK) {
		die("matcher", rv);
	}
	nfa_matcher_set_ordered(m, 1);
	for (size_t i = 0; i < in->n; i++) {
		if (!event_time(p, in->ev[i], &ts)) {
			continue;
		}
		if (ts > hi) {
			hi = ts;
			wm = hi - p->max_delay;
		}
		t0 = now_ns();
		rv = nfa_matcher_push(m, in->ev[i], ts, i, wm, NULL);
		t1 = now_ns();
		if (rv != CEP_OK) {
			die("push", rv);
		}
		total += t1 - t0;
		lat[nlat++] = (uint32_t) (t1 - t0 > UINT32_MAX ? UINT32_MAX
		                                               : t1 - t0);
		if (i % every == every - 1 || i + 1 == in->n) {
			nfa_matcher_stats(m, &st);
			if (st.partial >= peak.partial) {
				peak = st;
			}
		}
	}
	if (pile) {
		printf("%-20s %9" PRIu64 " live partial matches on %" PRIu64
		       " keys: %.1f MB, %.0f bytes per partial match\n",
		    p->name, peak.partial, peak.keys, (double) peak.bytes / 1e6,
		    peak.partial > 0 ? (double) peak.bytes / (double) peak.partial
		                     : 0.0);
	}
	t0 = now_ns();
	if ((rv = nfa_matcher_finish(m)) != CEP_OK) {
		die("finish", rv);
	}
	total += now_ns() - t0;
	if (!pile && nlat > 0) {
		qsort(lat, nlat, sizeof(uint32_t), cmp_u32);
		printf("%-20s %9zu events %10.0f events/s %7" PRIu64
		       " matches  peak %7" PRIu64 " partial (%6.0f B each)  "
		       "push ns p50 %4" PRIu32 " p99 %5" PRIu32 " p999 %6" PRIu32
		       " max %8" PRIu32 "\n",
		    p->name, nlat, (double) nlat * 1e9 / (double) total,
		    bn.matches, peak.partial,
		    peak.partial > 0 ? (double) peak.bytes / (double) peak.partial
		                     : 0.0,
		    pct(lat, nlat, 0.50), pct(lat, nlat, 0.99),
		    pct(lat, nlat, 0.999), lat[nlat - 1]);
	}
	nfa_matcher_destroy(m);
	free(lat);
}

int
main(int argc, char **argv)
{
	struct input in = { 0 };
	size_t       max = 0;
	srv_rules   *rules;
	nfa_prog   **progs;
	cep_diag    *diag = cep_diag_create();
	cep_err      rv;
	int          a = 1;

	if (argc > 2 && strcmp(argv[1], "-n") == 0) {
		max = strtoul(argv[2], NULL, 10);
		a   = 3;
	}
	if (argc - a < 1 || argc - a > 2 || diag == NULL) {
		fprintf(stderr,
		    "usage: bench_matcher [-n N] RULES [EVENTS.jsonl]\n");
		return (2);
	}
	if ((rv = srv_rules_load(argv[a], &rules, diag)) != CEP_OK) {
		cep_diag_print(diag, stderr);
		die(argv[a], rv);
	}
	if ((progs = calloc(rules->npatterns, sizeof(*progs))) == NULL) {
		die("programs", CEP_ENOMEM);
	}
	for (size_t i = 0; i < rules->npatterns; i++) {
		if (strcmp(rules->patterns[i]->from, "events") != 0) {
			continue;
		}
		if ((rv = nfa_prog_create(rules->patterns[i], &progs[i],
		         diag)) != CEP_OK) {
			cep_diag_print(diag, stderr);
			die("compile", rv);
		}
		rules->patterns[i] = NULL; /* the program owns it now */
	}
	if ((in.slab = cep_slab_create()) == NULL) {
		die("slab", CEP_ENOMEM);
	}
	if (argc - a == 2) {
		read_events(&in, argv[a + 1], max > 0 ? max : SIZE_MAX);
	} else {
		synth_abc(&in, max > 0 ? max : 1000000);
	}
	for (size_t i = 0; i < rules->npatterns; i++) {
		if (progs[i] != NULL) {
			run_one(progs[i], &in, 0);
		}
	}
	if (argc - a == 1) {
		input_free(&in);
		memset(&in, 0, sizeof(in));
		if ((in.slab = cep_slab_create()) == NULL) {
			die("slab", CEP_ENOMEM);
		}
		synth_pile(&in);
		for (size_t i = 0; i < rules->npatterns; i++) {
			if (progs[i] != NULL) {
				run_one(progs[i], &in, 1);
			}
		}
	}
	input_free(&in);
	for (size_t i = 0; i < rules->npatterns; i++) {
		nfa_prog_unref(progs[i]);
	}
	free(progs);
	srv_rules_destroy(rules);
	cep_diag_destroy(diag);
	return (0);
}
