/* SPDX-License-Identifier: MIT */
/*
 * matcher_support.h: helpers for the compiler and matcher suites (tests/nfa).
 *
 * Patterns come from YAML text through the rule loader (a fixture, so the
 * suites link srv_dep); events come from the test notation (see
 * cep_test_event), so nothing here needs the JSON codec.
 *
 * A match is logged as one canonical line:
 *
 *	pattern|match|step:[ids];step:[ids]	(timeout instead of match)
 *
 * with the steps that accepted events in pattern order and each event named
 * by its integer "id" field (or "#SEQ" without one).  With MT_LOG_IDS the
 * line ends with "|" and the match id, with MT_LOG_KEY the key is added
 * after the timeout flag.
 *
 * A conformance case (tests/conformance/NAME) is loaded whole: its
 * patterns compiled, its events built, its expected matches turned into
 * canonical lines.  mt_drive feeds a matcher the way `cep run` does: the
 * pattern's time field, the watermark at the highest time seen minus
 * max_delay, sequence numbers from 1 in file order.
 */
#ifndef CEP_MATCHER_SUPPORT_H
#define CEP_MATCHER_SUPPORT_H

#include "nfa/nfa.h"
#include "server/rules.h"
#include "tests/support/test_support.h"

/* Compile the patterns of YAML text; fails the test (printing the
 * diagnostics) unless all load and compile.  Returns how many (at most
 * max) went to progs. */
size_t mt_compile_all(const char *yaml, nfa_prog **progs, size_t max);
/* The one pattern of YAML text, compiled. */
nfa_prog *mt_compile(const char *yaml);
/* Load text that must load, and compile its one pattern: the result of
 * nfa_prog_create, its diagnostics in d (*out set on success). */
cep_err mt_compile_try(const char *yaml, nfa_prog **out, cep_diag *d);

/* ---- logging matches ---------------------------------------------------- */

enum { MT_LOG_IDS = 1, MT_LOG_KEY = 2 };

typedef struct mt_log {
	char  **lines;
	size_t  n;
	size_t  cap;
	int     flags;    /* MT_LOG_* */
	size_t  fail_at;  /* the callback fails on this match (1-based) */
	cep_err fail_err; /* ... with this error */
	size_t  calls;    /* callback calls, failed ones included */
} mt_log;

void mt_log_init(mt_log *l, int flags);
void mt_log_fini(mt_log *l);
void mt_log_clear(mt_log *l);
/* Append a line (copied). */
void mt_log_add(mt_log *l, const char *line);
/* The nfa_match_fn that logs into an mt_log. */
cep_err mt_log_match(void *arg, const nfa_match *m);
/* The canonical line of a match (static buffer). */
const char *mt_match_line(const nfa_match *m, int flags);
/* All lines joined by newlines (static buffer), for messages. */
const char *mt_log_text(const mt_log *l);
/* Whether two logs hold the same lines in the same order. */
int mt_log_equal(const mt_log *a, const mt_log *b);
/* Whether they hold the same lines, order aside. */
int mt_log_same_multiset(const mt_log *a, const mt_log *b);

#define MT_ASSERT_LOG(log, want)                              \
	do {                                                  \
		const char *got_ = mt_log_text(log);          \
		ck_assert_msg(strcmp(got_, (want)) == 0,      \
		    "matches:\n%s\nwant:\n%s", got_, (want)); \
	} while (0)

/* ---- driving a matcher -------------------------------------------------- */

typedef struct mt_driver {
	nfa_prog    *prog;
	nfa_matcher *m;
	int64_t      wm;
	uint64_t     no_time;
} mt_driver;

/* Create a matcher for prog logging into log (ordered as given). */
void mt_driver_init(mt_driver *d, nfa_prog *prog, mt_log *log, int ordered);
void mt_driver_fini(mt_driver *d);
/* Offer one event as `cep run` does (skipped without a time). */
cep_err mt_drive(mt_driver *d, const cep_event *ev, uint64_t seq);
/* Event time of ev for prog, as `cep run` reads it; 0 when it has none. */
int mt_event_time(const nfa_prog *prog, const cep_event *ev, int64_t *ts);

/* ---- conformance cases -------------------------------------------------- */

#define MT_MAX_PATTERNS 8

typedef struct mt_case {
	char       *name;
	nfa_prog   *progs[MT_MAX_PATTERNS];
	size_t      nprogs;
	cep_event **events;
	size_t      nevents;
	mt_log      expected; /* canonical lines, in file order */
} mt_case;

/* The names of every case folder, sorted; returns how many. */
size_t mt_case_names(char ***names);
void   mt_case_names_free(char **names, size_t n);
/* Load a case (fails the test when it cannot). */
void mt_case_load(const char *name, mt_case *c);
void mt_case_fini(mt_case *c);
/* Run every event of c through one fresh matcher per pattern (ordered as
 * given), then finish; matches go to log. */
void mt_case_run(const mt_case *c, int ordered, mt_log *log);

/* A small deterministic generator (xorshift64*). */
uint64_t mt_rand(uint64_t *state);

#endif
