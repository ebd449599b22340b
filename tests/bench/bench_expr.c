/* SPDX-License-Identifier: MIT */
/*
 * bench_expr.c: nanoseconds per evaluation of typical conditions.
 *
 * Built with the tests, run by hand: build/tests/bench/bench_expr [N].
 * Each condition is compiled once and tested N times (default 10^7, in
 * five rounds of which the fastest counts) on a 6-field event, the way
 * the matcher tests a step's `where`; aggregates see three events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nfa/expr.h"

static cep_event *
make_event(int small)
{
	cep_builder *b = cep_builder_create();
	cep_event   *ev;

	if (b == NULL) {
		return (NULL);
	}
	cep_builder_map_begin(b);
	cep_builder_key(b, "ts", 2);
	cep_builder_int(b, 1700000000000);
	cep_builder_key(b, "type", 4);
	cep_builder_str(b, "auth", 4);
	cep_builder_key(b, "card_id", 7);
	cep_builder_str(b, "c-17", 4);
	cep_builder_key(b, "amount", 6);
	if (small) {
		cep_builder_double(b, 1.5);
	} else {
		cep_builder_int(b, 250);
	}
	cep_builder_key(b, "user", 4);
	cep_builder_str(b, "Alice", 5);
	cep_builder_key(b, "geo", 3);
	cep_builder_map_begin(b);
	cep_builder_key(b, "cc", 2);
	cep_builder_str(b, "FR", 2);
	cep_builder_end(b);
	cep_builder_end(b);
	if (cep_builder_finish(b, NULL, &ev) != CEP_OK) {
		ev = NULL;
	}
	cep_builder_destroy(b);
	return (ev);
}

struct steps {
	const cep_event *ev[3];
};

static cep_err
step_events(
    void *arg, uint32_t step, const cep_event *const **events, size_t *n)
{
	struct steps *st = arg;

	(void) step;
	*events = st->ev;
	*n      = 3;
	return (CEP_OK);
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double) ts.tv_sec * 1e9 + (double) ts.tv_nsec);
}

int
main(int argc, char **argv)
{
	static const char *const conds[] = {
		"type == \"auth\" and amount < 2",
		"type == \"auth\" and amount > 100 and card_id != \"c-0\"",
		"amount * 2 + 1 > 10 or type in [\"login\", \"logout\"]",
		"geo.cc == \"FR\" and user != null",
		"lower(user) == \"alice\" and starts_with(card_id, \"c-\")",
		"user + \"@\" + geo.cc == \"Alice@FR\"",
		"matches(user, \"^Al.*e$\")",
		"count(small) < 5 and sum(small.amount) + amount < 1000",
		"amount > 3 * avg(small.amount)",
	};
	static const char *const steps[] = { "small", "big" };
	long                     n   = argc > 1 ? atol(argv[1]) : 10000000L;
	cep_event               *ev  = make_event(1);
	cep_event               *se  = make_event(0);
	struct steps             st  = { { se, se, se } };
	nfa_scratch             *s   = nfa_scratch_create();
	nfa_eval_ctx             ctx = { ev, step_events, &st, s };
	nfa_scope sc = { steps, 2, NULL, "big", { "bench", 1, 1 } };

	if (ev == NULL || se == NULL || s == NULL || n <= 0) {
		fprintf(stderr, "bench_expr: setup failed\n");
		return (1);
	}
	printf("%-60s %8s %6s\n", "condition", "ns/eval", "result");
	for (size_t i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
		nfa_expr *e;
		cep_diag *d = cep_diag_create();
		double    t0, t1, best;
		long      hits = 0;

		if (nfa_expr_compile(conds[i], strlen(conds[i]), &sc, &e, d) !=
		    CEP_OK) {
			cep_diag_print(d, stderr);
			return (1);
		}
		cep_diag_destroy(d);
		for (long k = 0; k < n / 10; k++) {
			hits += nfa_expr_test(e, &ctx);
		}
		/* The best of five rounds: the machine may be shared. */
		best = 0.0;
		for (int round = 0; round < 5; round++) {
			t0 = now_ns();
			for (long k = 0; k < n / 5; k++) {
				hits += nfa_expr_test(e, &ctx);
			}
			t1 = now_ns();
			if (round == 0 || t1 - t0 < best) {
				best = t1 - t0;
			}
		}
		printf("%-60s %8.1f %6s\n", conds[i], best / (double) (n / 5),
		    hits > 0 ? "true" : "false");
		nfa_expr_destroy(e);
	}
	nfa_scratch_destroy(s);
	cep_event_unref(ev, NULL);
	cep_event_unref(se, NULL);
	return (0);
}
