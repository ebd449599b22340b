/* SPDX-License-Identifier: MIT */
/*
 * expr_support.h: helpers for the expression suites (tests/nfa).
 *
 * One scope serves most tests: the leaf steps small, big, middle-first,
 * loop and later, all visible but `later`, evaluated in step `loop`, with
 * the text starting at rules.yaml:1:1.  Step events come from a tx_steps
 * the test fills with event notation (see cep_test_event).
 *
 * tx_eval compiles, evaluates and keeps the expression, the event and the
 * scratch alive until the next call, so a returned string stays valid.
 */
#ifndef CEP_EXPR_SUPPORT_H
#define CEP_EXPR_SUPPORT_H

#include "nfa/expr.h"
#include "tests/support/test_support.h"

enum { TX_SMALL, TX_BIG, TX_MIDDLE, TX_LOOP, TX_LATER, TX_NSTEPS };

extern const char *const tx_step_names[TX_NSTEPS];
/* The condition scope described above. */
nfa_scope tx_scope(void);
/* The same with the text starting at rules.yaml:line:col. */
nfa_scope tx_scope_at(uint32_t line, uint32_t col);

#define TX_MAX_EVENTS 16
typedef struct tx_steps {
	cep_event *ev[TX_NSTEPS][TX_MAX_EVENTS];
	size_t     n[TX_NSTEPS];
	cep_err    fail; /* returned by the callback when not CEP_OK */
} tx_steps;

/* Add an event (notation text) to a step. */
void tx_steps_add(tx_steps *st, int step, const char *event);
void tx_steps_clear(tx_steps *st);
/* The nfa_step_events_fn over a tx_steps. */
cep_err tx_step_events(
    void *arg, uint32_t step, const cep_event *const **events, size_t *n);

/* Compile with tx_scope() but no current step (so the value may be of
 * any type, as for emit); fails the test (printing the diagnostics)
 * unless it compiles. */
nfa_expr *tx_compile(const char *text);
/* Compile with scope sc (tx_scope() when NULL); returns the result and
 * the diagnostics, formatted one per line (static buffer).  Destroys the
 * expression when it compiled. */
cep_err tx_errors(const char *text, const nfa_scope *sc, const char **diag);

/* Compile text, evaluate it on event (notation, NULL: no event) with the
 * step events of st (NULL: no callback). */
cep_err tx_eval(
    const char *text, const char *event, const tx_steps *st, cep_val *out);
/* Same, as a condition. */
int tx_test(const char *text, const char *event, const tx_steps *st);
/* A value as text, for messages (static buffer). */
const char *tx_fmt(const cep_val *v);

#define TX_EVAL(text, ev, st, v)                                        \
	do {                                                            \
		cep_err rv_ = tx_eval((text), (ev), (st), (v));         \
		ck_assert_msg(                                          \
		    rv_ == CEP_OK, "%s: %s", (text), cep_errname(rv_)); \
	} while (0)

#define TX_INT(text, ev, st, want)                                           \
	do {                                                                 \
		cep_val v_;                                                  \
		TX_EVAL(text, ev, st, &v_);                                  \
		ck_assert_msg(                                               \
		    v_.type == CEP_T_INT && v_.u.i == (int64_t) (want),      \
		    "%s: want int %lld, got %s", (text), (long long) (want), \
		    tx_fmt(&v_));                                            \
	} while (0)

#define TX_DOUBLE(text, ev, st, want)                                         \
	do {                                                                  \
		cep_val v_;                                                   \
		TX_EVAL(text, ev, st, &v_);                                   \
		ck_assert_msg(                                                \
		    v_.type == CEP_T_DOUBLE && v_.u.d == (double) (want),     \
		    "%s: want double %.17g, got %s", (text), (double) (want), \
		    tx_fmt(&v_));                                             \
	} while (0)

#define TX_STR(text, ev, st, want)                                           \
	do {                                                                 \
		cep_val v_;                                                  \
		TX_EVAL(text, ev, st, &v_);                                  \
		ck_assert_msg(v_.type == CEP_T_STR &&                        \
		        v_.len == strlen(want) &&                            \
		        memcmp(v_.u.s, (want), v_.len) == 0,                 \
		    "%s: want \"%s\", got %s", (text), (want), tx_fmt(&v_)); \
	} while (0)

#define TX_TYPE(text, ev, st, want_type)                                     \
	do {                                                                 \
		cep_val v_;                                                  \
		TX_EVAL(text, ev, st, &v_);                                  \
		ck_assert_msg(v_.type == (want_type), "%s: want %s, got %s", \
		    (text), cep_type_name(want_type), tx_fmt(&v_));          \
	} while (0)

#define TX_NULL(text, ev, st) TX_TYPE(text, ev, st, CEP_T_NULL)

#define TX_BOOL(text, ev, st, want)                                           \
	do {                                                                  \
		cep_val v_;                                                   \
		TX_EVAL(text, ev, st, &v_);                                   \
		ck_assert_msg(v_.type == CEP_T_BOOL && v_.u.b == !!(want),    \
		    "%s: want %s, got %s", (text), (want) ? "true" : "false", \
		    tx_fmt(&v_));                                             \
	} while (0)

#define TX_TRUE(text, ev, st) TX_BOOL(text, ev, st, 1)
#define TX_FALSE(text, ev, st) TX_BOOL(text, ev, st, 0)

/* A run-time type error: the condition is false, the value fails. */
#define TX_ETYPE(text, ev, st)                                           \
	do {                                                             \
		cep_val v_ = cep_val_int(42);                            \
		cep_err rv_;                                             \
		ck_assert_msg(tx_test((text), (ev), (st)) == 0,          \
		    "%s: the test should fail", (text));                 \
		rv_ = tx_eval((text), (ev), (st), &v_);                  \
		ck_assert_msg(rv_ == CEP_ETYPE && v_.type == CEP_T_NULL, \
		    "%s: want ETYPE and null, got %s and %s", (text),    \
		    cep_errname(rv_), tx_fmt(&v_));                      \
	} while (0)

/* The diagnostics of a failed compile are exactly `want` (lines). */
#define TX_ERRORS(text, sc, code, want)                                     \
	do {                                                                \
		const char *d_;                                             \
		cep_err     rv_ = tx_errors((text), (sc), &d_);             \
		ck_assert_msg(rv_ == (code), "%s: want %s, got %s", (text), \
		    cep_errname(code), cep_errname(rv_));                   \
		ck_assert_msg(strcmp(d_, (want)) == 0,                      \
		    "%s:\nwant: %sgot:  %s", (text), (want), d_);           \
	} while (0)

#endif
