/* SPDX-License-Identifier: MIT */
/*
 * pattern.c: the pattern as written, its paths and the names of its enums.
 *
 * A pattern owns everything it points to: strings, expressions, steps (and
 * their groups, recursively) and its leaf names.  nfa_pattern_destroy
 * accepts a pattern at any stage of being filled, as the loader leaves it
 * on error.
 */
#include <string.h>

#include "nfa/pattern.h"


void
nfa_step_fini(nfa_step *s)
{
	if (s == NULL) {
		return;
	}
	cep_strfree(s->name);
	nfa_expr_destroy(s->where);
	nfa_expr_destroy(s->until);
	if (s->group != NULL) {
		for (size_t i = 0; i < s->ngroup; i++) {
			nfa_step_fini(&s->group[i]);
		}
		cep_free(s->group, s->ngroup * sizeof(nfa_step));
	}
	memset(s, 0, sizeof(*s));
}

nfa_pattern *
nfa_pattern_create(void)
{
	nfa_pattern *p;

	if ((p = cep_zalloc(sizeof(*p))) == NULL) {
		return (NULL);
	}
	p->skip                = NFA_SKIP_NO_SKIP;
	p->overflow            = NFA_OVERFLOW_DROP_OLDEST;
	p->max_partial_matches = NFA_DEFAULT_MAX_PARTIAL_MATCHES;
	if (cep_path_parse(&p->time, "ts", 2) != CEP_OK ||
	    (p->from = cep_strdup("events")) == NULL) {
		nfa_pattern_destroy(p);
		return (NULL);
	}
	return (p);
}

void
nfa_pattern_destroy(nfa_pattern *p)
{
	if (p == NULL) {
		return;
	}
	cep_strfree(p->name);
	cep_strfree(p->description);
	cep_path_fini(&p->key);
	cep_path_fini(&p->time);
	cep_strfree(p->from);
	cep_strfree(p->skip_step);
	if (p->steps != NULL) {
		for (size_t i = 0; i < p->nsteps; i++) {
			nfa_step_fini(&p->steps[i]);
		}
		cep_free(p->steps, p->nsteps * sizeof(nfa_step));
	}
	if (p->leaves != NULL) {
		for (size_t i = 0; i < p->nleaves; i++) {
			cep_strfree(p->leaves[i]);
		}
		cep_free(p->leaves, p->nleaves * sizeof(char *));
	}
	if (p->emit != NULL) {
		for (size_t i = 0; i < p->nemit; i++) {
			cep_strfree(p->emit[i].name);
			nfa_expr_destroy(p->emit[i].expr);
		}
		cep_free(p->emit, p->nemit * sizeof(nfa_emit));
	}
	cep_free(p, sizeof(*p));
}

const char *
nfa_skip_name(nfa_skip s)
{
	switch (s) {
	case NFA_SKIP_NO_SKIP:
		return ("no_skip");
	case NFA_SKIP_TO_NEXT:
		return ("skip_to_next");
	case NFA_SKIP_PAST_LAST_EVENT:
		return ("skip_past_last_event");
	case NFA_SKIP_TO_FIRST:
		return ("skip_to_first");
	case NFA_SKIP_TO_LAST:
		return ("skip_to_last");
	}
	return ("?");
}

const char *
nfa_overflow_name(nfa_overflow o)
{
	switch (o) {
	case NFA_OVERFLOW_DROP_OLDEST:
		return ("drop_oldest");
	case NFA_OVERFLOW_DROP_NEWEST:
		return ("drop_newest");
	case NFA_OVERFLOW_REJECT_START:
		return ("reject_start");
	}
	return ("?");
}

const char *
nfa_join_name(nfa_join j)
{
	switch (j) {
	case NFA_JOIN_BEGIN:
		return ("begin");
	case NFA_JOIN_NEXT:
		return ("next");
	case NFA_JOIN_FOLLOWED_BY:
		return ("followed_by");
	case NFA_JOIN_FOLLOWED_BY_ANY:
		return ("followed_by_any");
	case NFA_JOIN_NOT_NEXT:
		return ("not_next");
	case NFA_JOIN_NOT_FOLLOWED_BY:
		return ("not_followed_by");
	}
	return ("?");
}
