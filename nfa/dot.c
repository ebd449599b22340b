/* SPDX-License-Identifier: MIT */
/*
 * dot.c: drawing a compiled automaton as a Graphviz digraph.
 *
 * One node per state (the start state bold, the final state a double
 * circle, stop states crossed out, a pending not_followed_by state
 * dashed), one arrow per edge labelled with its action and condition.
 */
#include <string.h>

#include "nfa/nfa_impl.h"

static const char *const action_names[] = {
#define NFA__ACTION_NAME(name, text) text,
	NFA_ACTION_LIST(NFA__ACTION_NAME)
#undef NFA__ACTION_NAME
};

/* put_escaped writes text for a double-quoted DOT string. */
static void
put_escaped(cep_buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			cep_buf_put_u8(b, '\\');
			cep_buf_put_u8(b, (uint8_t) *s);
		} else if (*s == '\n') {
			cep_buf_puts(b, "\\n");
		} else {
			cep_buf_put_u8(b, (uint8_t) *s);
		}
	}
}

static void
put_cond(cep_buf *b, const nfa_prog *p, uint32_t ci, int depth)
{
	const nfa_cond *c = &p->conds[ci];

	if (depth > 32) {
		cep_buf_puts(b, "...");
		return;
	}
	switch ((nfa_cond_op) c->op) {
	case NFA_COND_TRUE:
		cep_buf_puts(b, "true");
		break;
	case NFA_COND_EXPR:
		put_escaped(b, nfa_expr_text(p->exprs[c->a]));
		break;
	case NFA_COND_NOT:
		cep_buf_puts(b, "not (");
		put_cond(b, p, c->a, depth + 1);
		cep_buf_puts(b, ")");
		break;
	case NFA_COND_AND:
		cep_buf_puts(b, "(");
		put_cond(b, p, c->a, depth + 1);
		cep_buf_puts(b, ") and (");
		put_cond(b, p, c->b, depth + 1);
		cep_buf_puts(b, ")");
		break;
	}
}

static const char *
state_style(const nfa_state *s)
{
	switch ((nfa_state_type) s->type) {
	case NFA_ST_START:
		return ("shape=circle, style=bold");
	case NFA_ST_FINAL:
		return ("shape=doublecircle");
	case NFA_ST_STOP:
		return ("shape=Mcircle");
	case NFA_ST_PENDING:
		return ("shape=circle, style=dashed");
	case NFA_ST_NORMAL:
		break;
	}
	return ("shape=circle");
}

cep_err
nfa_prog_dot(const nfa_prog *p, cep_buf *b)
{
	cep_buf_puts(b, "digraph \"");
	put_escaped(b, p->pattern->name);
	cep_buf_puts(b, "\" {\n\trankdir=LR;\n");
	for (uint32_t i = 0; i < p->nstates; i++) {
		const nfa_state *s = &p->states[i];
		cep_buf_printf(b, "\ts%u [label=\"", i);
		put_escaped(b, s->name);
		if (s->gap > 0) {
			cep_buf_printf(b, "\\nmax_gap %lldms", (long long) s->gap);
		}
		cep_buf_printf(b, "\", %s];\n", state_style(s));
	}
	for (uint32_t i = 0; i < p->nedges; i++) {
		const nfa_edge *e = &p->edges[i];
		cep_buf_printf(b, "\ts%u -> s%u [label=\"%s: ", e->from, e->to,
		    action_names[e->action]);
		put_cond(b, p, e->cond, 0);
		cep_buf_printf(b, "\"%s];\n",
		    e->action == NFA_PROCEED ? ", style=dashed" : "");
	}
	cep_buf_puts(b, "}\n");
	return (cep_buf_status(b));
}
