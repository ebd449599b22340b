/* SPDX-License-Identifier: MIT */
/* expr_support.c: compile-and-evaluate helpers for the expression suites. */
#include <stdio.h>
#include <string.h>

#include "tests/support/expr_support.h"

const char *const tx_step_names[TX_NSTEPS] = { "small", "big", "middle-first",
	"loop", "later" };
static const uint8_t tx_visible[TX_NSTEPS] = { 1, 1, 1, 1, 0 };

nfa_scope
tx_scope_at(uint32_t line, uint32_t col)
{
	nfa_scope sc = {
		.steps   = tx_step_names,
		.nsteps  = TX_NSTEPS,
		.visible = tx_visible,
		.current = "loop",
		.loc     = { "rules.yaml", line, col },
	};
	return (sc);
}

nfa_scope
tx_scope(void)
{
	return (tx_scope_at(1, 1));
}

void
tx_steps_add(tx_steps *st, int step, const char *event)
{
	ck_assert_uint_lt(st->n[step], TX_MAX_EVENTS);
	st->ev[step][st->n[step]++] = cep_test_event(event);
}

void
tx_steps_clear(tx_steps *st)
{
	for (int s = 0; s < TX_NSTEPS; s++) {
		for (size_t i = 0; i < st->n[s]; i++) {
			cep_event_unref(st->ev[s][i], NULL);
		}
		st->n[s] = 0;
	}
	st->fail = CEP_OK;
}

cep_err
tx_step_events(
    void *arg, uint32_t step, const cep_event *const **events, size_t *n)
{
	const tx_steps *st = arg;

	ck_assert_uint_lt(step, TX_NSTEPS);
	if (st->fail != CEP_OK) {
		return (st->fail);
	}
	*events = (const cep_event *const *) st->ev[step];
	*n      = st->n[step];
	return (CEP_OK);
}

nfa_expr *
tx_compile(const char *text)
{
	nfa_scope sc = tx_scope();
	cep_diag *d  = cep_diag_create();
	nfa_expr *e  = NULL;
	cep_err   rv;

	ck_assert_ptr_nonnull(d);
	sc.current = NULL; /* values of any type, not only conditions */
	rv         = nfa_expr_compile(text, strlen(text), &sc, &e, d);
	ck_assert_msg(rv == CEP_OK, "%s: %s\n%s", text, cep_errname(rv),
	    cep_test_diag_text(d));
	ck_assert_uint_eq(cep_diag_count(d, -1), 0);
	cep_diag_destroy(d);
	return (e);
}

cep_err
tx_errors(const char *text, const nfa_scope *sc, const char **diag)
{
	nfa_scope def = tx_scope();
	cep_diag *d   = cep_diag_create();
	nfa_expr *e   = NULL;
	cep_err   rv;

	ck_assert_ptr_nonnull(d);
	rv = nfa_expr_compile(
	    text, strlen(text), sc != NULL ? sc : &def, &e, d);
	if (rv == CEP_OK) {
		ck_assert_ptr_nonnull(e);
		nfa_expr_destroy(e);
	} else {
		ck_assert_ptr_null(e);
	}
	*diag = cep_test_diag_text(d);
	cep_diag_destroy(d);
	return (rv);
}

/* What the last tx_eval keeps alive. */
static struct {
	nfa_expr    *e;
	cep_event   *ev;
	nfa_scratch *s;
} last;

static void
keep(nfa_expr *e, cep_event *ev)
{
	nfa_expr_destroy(last.e);
	if (last.ev != NULL) {
		cep_event_unref(last.ev, NULL);
	}
	last.e  = e;
	last.ev = ev;
	if (last.s == NULL) {
		last.s = nfa_scratch_create();
		ck_assert_ptr_nonnull(last.s);
	}
	nfa_scratch_reset(last.s);
}

static nfa_eval_ctx
prepare(const char *text, const char *event, const tx_steps *st)
{
	nfa_eval_ctx ctx;

	keep(tx_compile(text), event != NULL ? cep_test_event(event) : NULL);
	ctx.event       = last.ev;
	ctx.step_events = st != NULL ? tx_step_events : NULL;
	ctx.arg         = (void *) (uintptr_t) st;
	ctx.scratch     = last.s;
	return (ctx);
}

cep_err
tx_eval(const char *text, const char *event, const tx_steps *st, cep_val *out)
{
	nfa_eval_ctx ctx = prepare(text, event, st);

	return (nfa_expr_eval(last.e, &ctx, out));
}

int
tx_test(const char *text, const char *event, const tx_steps *st)
{
	nfa_eval_ctx ctx = prepare(text, event, st);

	return (nfa_expr_test(last.e, &ctx));
}

const char *
tx_fmt(const cep_val *v)
{
	static char buf[256];

	switch ((cep_type) v->type) {
	case CEP_T_NULL:
		return ("null");
	case CEP_T_BOOL:
		return (v->u.b ? "true" : "false");
	case CEP_T_INT:
		snprintf(buf, sizeof(buf), "int %lld", (long long) v->u.i);
		return (buf);
	case CEP_T_DOUBLE:
		snprintf(buf, sizeof(buf), "double %.17g", v->u.d);
		return (buf);
	case CEP_T_STR:
		snprintf(buf, sizeof(buf), "\"%.*s\"",
		    v->len > 200 ? 200 : (int) v->len, v->u.s);
		return (buf);
	default:
		snprintf(buf, sizeof(buf), "%s of %u", cep_type_name(v->type),
		    (unsigned) v->len);
		return (buf);
	}
}
