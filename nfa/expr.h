/* SPDX-License-Identifier: MIT */
/*
 * expr.h: the expression language of `where`, `until` and `emit`.
 *
 * An expression is parsed, type-checked where types are known (literals,
 * function results, aggregates) and compiled once, at load, into a flat
 * program for a small stack machine.  Evaluating it allocates nothing:
 * intermediate strings (lower(), concatenation) go to a scratch arena the
 * caller resets, and aggregates read the events of the partial match
 * through a callback of the caller's, so the matcher can feed them.
 *
 * Grammar (lowest binding first; see PATTERNS.md):
 *	or; and; not; == != < <= > >= in, not in; + -; * / %; unary -
 *	literals 12, 1.5, "s", 's', true, false, null, [a, b] (after in)
 *	name, a.b.c, `odd name` (fields of the current event)
 *	abs len lower starts_with ends_with contains matches (functions)
 *	count(S) sum(S.f) avg(S.f) min(S.f) max(S.f) first(S.f) last(S.f)
 *
 * Semantics: a missing field is null; comparisons with null are false,
 * except `x == null` / `x != null` against the literal null, which test
 * for it.  Integers are 64-bit (overflow gives a double); int / int
 * truncates; division or modulo by zero gives null; mixing int and double
 * gives a double.  A type error found at load is a diagnostic; one found
 * at run time makes a condition false (nfa_expr_test) or an emit value
 * fail (nfa_expr_eval returns CEP_ETYPE).
 *
 * A compiled nfa_expr is immutable and may be evaluated by several threads
 * at once, each with its own nfa_scratch.
 */
#ifndef NFA_EXPR_H
#define NFA_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "cep/cep.h"

typedef struct nfa_expr    nfa_expr;
typedef struct nfa_scratch nfa_scratch;

/* Where an expression appears and what it may refer to. */
typedef struct nfa_scope {
	/* The pattern's leaf steps (steps inside groups included), in order;
	 * an aggregate names one of them and compiles to its index. */
	const char *const *steps;
	size_t             nsteps;
	/* visible[i] != 0 when step i's events exist when this expression is
	 * evaluated: the steps before the current one, and the current step
	 * itself when it loops.  Naming another step is an error.  NULL with
	 * nsteps > 0 means all are visible (emit). */
	const uint8_t *visible;
	/* The name of the step the expression belongs to, for messages;
	 * NULL for emit. */
	const char *current;
	/* Location of the expression's first character; errors point at
	 * loc plus the offending offset (newlines in the text counted). */
	cep_loc loc;
} nfa_scope;

/* Compile text[0..len).  On success *out is the expression (destroy it
 * with nfa_expr_destroy).  On failure every problem found is added to
 * diag and CEP_EPARSE or CEP_ETYPE is returned. */
cep_err nfa_expr_compile(const char *text, size_t len,
    const nfa_scope *scope, nfa_expr **out, cep_diag *diag);
void nfa_expr_destroy(nfa_expr *e);

/* The source text it was compiled from. */
const char *nfa_expr_text(const nfa_expr *e);
/* Nonzero when it reads the partial match through aggregates (its value
 * depends on more than the current event). */
int nfa_expr_uses_steps(const nfa_expr *e);
/* Nonzero when it is the constant true. */
int nfa_expr_is_true(const nfa_expr *e);

/* Give the events accepted so far by leaf step `step` of the partial match
 * being tested, in order; the array stays valid for the evaluation. */
typedef cep_err (*nfa_step_events_fn)(void *arg, uint32_t step,
    const cep_event *const **events, size_t *n);

typedef struct nfa_eval_ctx {
	const cep_event   *event;       /* bare names read it; NULL: null */
	nfa_step_events_fn step_events; /* NULL: every step has no event */
	void              *arg;
	nfa_scratch       *scratch;     /* required */
} nfa_eval_ctx;

/* Evaluate as a condition: 1 when true; 0 when false, null, not a bool, or
 * on a run-time type error. */
int nfa_expr_test(const nfa_expr *e, const nfa_eval_ctx *ctx);
/* Evaluate to a value.  Strings may point into the scratch (valid until it
 * is reset) or into the events.  CEP_ETYPE on a run-time type error (*out
 * is then null). */
cep_err nfa_expr_eval(const nfa_expr *e, const nfa_eval_ctx *ctx,
    cep_val *out);

/* Scratch memory for evaluation.  Not thread-safe: one per thread. */
nfa_scratch *nfa_scratch_create(void);
void         nfa_scratch_destroy(nfa_scratch *s);
/* Forget everything allocated since the last reset (keeps the memory). */
void nfa_scratch_reset(nfa_scratch *s);

#endif
