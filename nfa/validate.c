/* SPDX-License-Identifier: MIT */
/*
 * validate.c: the rules FlinkCEP's Pattern API and NFA compiler enforce,
 * checked on a filled nfa_pattern (FLINKCEP.md section 2.2).
 *
 * Every violation is reported at the key that causes it (the step's kind
 * key when no other key is to blame) and names the step.  Validation never
 * stops at the first problem, and it reads the pattern only: a pattern the
 * loader filled with placeholder values after its own errors produces no
 * follow-on noise as long as those placeholders are neutral.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cep/duration.h"
#include "nfa/pattern.h"

typedef struct vctx {
	const nfa_pattern *p;
	cep_diag          *diag;
	int                nerr;
	cep_err            fatal;
} vctx;

static void vfail(vctx *v, cep_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* vfail records one violation. */
static void
vfail(vctx *v, cep_loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cep_diag_vadd(v->diag, CEP_SEV_ERROR, loc, fmt, ap);
	va_end(ap);
	v->nerr++;
}

static const char *
sname(const nfa_step *s)
{
	return (s->name != NULL ? s->name : "?");
}

static const char *
quant_key(nfa_quant q)
{
	switch (q) {
	case NFA_QUANT_TIMES:
		return ("times");
	case NFA_QUANT_ONE_OR_MORE:
		return ("one_or_more");
	case NFA_QUANT_TIMES_OR_MORE:
		return ("times_or_more");
	case NFA_QUANT_ONE:
		break;
	}
	return ("quantifier");
}

static int
is_negative(const nfa_step *s)
{
	return (s->join == NFA_JOIN_NOT_NEXT ||
	    s->join == NFA_JOIN_NOT_FOLLOWED_BY);
}

/* is_optional: optional: true, or times: [0, M]. */
static int
is_optional(const nfa_step *s)
{
	return (
	    s->optional || (s->quant == NFA_QUANT_TIMES && s->times_min == 0));
}

/* optional_loc: the key that makes a step optional. */
static cep_loc
optional_loc(const nfa_step *s)
{
	return (s->optional ? s->locs.optional : s->locs.quant);
}

static int
has_until(const nfa_step *s)
{
	return (s->until != NULL || s->locs.until.line != 0);
}

static int
has_where(const nfa_step *s)
{
	return (s->where != NULL || s->locs.where.line != 0);
}

/* check_negative: a negative step takes nothing that shapes a loop. */
static void
check_negative(vctx *v, const nfa_step *s)
{
	if (s->quant != NFA_QUANT_ONE) {
		vfail(v, s->locs.quant,
		    "step '%s': '%s' is not applicable to a negative step",
		    sname(s), quant_key(s->quant));
	}
	if (s->optional) {
		vfail(v, s->locs.optional,
		    "step '%s': a negative step cannot be optional", sname(s));
	}
	if (s->greedy) {
		vfail(v, s->locs.greedy,
		    "step '%s': 'greedy' is not applicable to a negative step",
		    sname(s));
	}
	if (s->consecutive) {
		vfail(v, s->locs.consecutive,
		    "step '%s': 'consecutive' is not applicable to a negative "
		    "step",
		    sname(s));
	}
	if (s->allow_combinations) {
		vfail(v, s->locs.allow_combinations,
		    "step '%s': 'allow_combinations' is not applicable to a "
		    "negative step",
		    sname(s));
	}
	if (has_until(s)) {
		vfail(v, s->locs.until,
		    "step '%s': 'until' is not applicable to a negative step",
		    sname(s));
	}
	if (s->group != NULL) {
		vfail(v, s->locs.sequence,
		    "step '%s': a negative step cannot be a group", sname(s));
	}
}

/* check_quantifier: the quantifier and the options that refine it. */
static void
check_quantifier(vctx *v, const nfa_step *s)
{
	if (s->quant == NFA_QUANT_TIMES &&
	    (s->times_max < 1 || s->times_min > s->times_max)) {
		vfail(v, s->locs.quant,
		    "step '%s': times needs 0 <= N <= M and M >= 1", sname(s));
	}
	if (s->quant == NFA_QUANT_TIMES_OR_MORE && s->times_min < 1) {
		vfail(v, s->locs.quant,
		    "step '%s': times_or_more must be at least 1", sname(s));
	}
	if (s->optional && s->quant == NFA_QUANT_TIMES && s->times_min == 0) {
		vfail(v, s->locs.optional,
		    "step '%s': optional already applied (times: [0, M] is "
		    "optional)",
		    sname(s));
	}
	if (s->greedy) {
		if (s->group != NULL) {
			vfail(v, s->locs.greedy,
			    "step '%s': greedy is not applicable to a group",
			    sname(s));
		} else if (s->quant == NFA_QUANT_ONE) {
			vfail(v, s->locs.greedy,
			    "step '%s': greedy needs one_or_more, "
			    "times_or_more or times",
			    sname(s));
		} else if (s->allow_combinations) {
			vfail(v, s->locs.greedy,
			    "step '%s': greedy cannot be combined with "
			    "allow_combinations",
			    sname(s));
		}
	}
	if (has_until(s) && s->quant != NFA_QUANT_ONE_OR_MORE &&
	    s->quant != NFA_QUANT_TIMES_OR_MORE) {
		vfail(v, s->locs.until,
		    "step '%s': until needs one_or_more or times_or_more",
		    sname(s));
	}
	if (s->consecutive && s->quant == NFA_QUANT_ONE) {
		vfail(v, s->locs.consecutive,
		    "step '%s': consecutive needs times, one_or_more or "
		    "times_or_more",
		    sname(s));
	}
	if (s->allow_combinations && s->quant == NFA_QUANT_ONE) {
		vfail(v, s->locs.allow_combinations,
		    "step '%s': allow_combinations needs times, one_or_more "
		    "or times_or_more",
		    sname(s));
	}
	if (s->consecutive && s->allow_combinations) {
		vfail(v, s->locs.allow_combinations,
		    "step '%s': consecutive and allow_combinations cannot be "
		    "combined",
		    sname(s));
	}
}

static void check_steps(
    vctx *v, const nfa_step *steps, size_t n, const nfa_step *group);

/* check_step: the rules about one step and its predecessor. */
static void
check_step(
    vctx *v, const nfa_step *steps, size_t n, size_t i, const nfa_step *group)
{
	const nfa_step *s = &steps[i];
	char            b1[CEP_DURATION_BUF], b2[CEP_DURATION_BUF];

	if (i == 0 && s->join != NFA_JOIN_BEGIN) {
		if (group != NULL) {
			vfail(v, s->locs.step,
			    "step '%s': the first step of group '%s' must be "
			    "'begin'",
			    sname(s), sname(group));
		} else {
			vfail(v, s->locs.step,
			    "step '%s': the first step must be 'begin'",
			    sname(s));
		}
	} else if (i > 0 && s->join == NFA_JOIN_BEGIN) {
		vfail(v, s->locs.step,
		    "step '%s': only the first step may be 'begin'", sname(s));
	}
	if (is_negative(s)) {
		check_negative(v, s);
		if (i > 0 && is_optional(&steps[i - 1])) {
			vfail(v, s->locs.step,
			    "step '%s': a negative step cannot follow an "
			    "optional step",
			    sname(s));
		}
	} else {
		check_quantifier(v, s);
		if (i > 0 && is_optional(s) && steps[i - 1].greedy) {
			vfail(v, optional_loc(s),
			    "step '%s': an optional step cannot follow a "
			    "greedy step",
			    sname(s));
		}
	}
	if (i + 1 == n && s->join == NFA_JOIN_NOT_FOLLOWED_BY) {
		if (group != NULL) {
			vfail(v, s->locs.step,
			    "step '%s': a group cannot end with "
			    "not_followed_by",
			    sname(s));
		} else if (v->p->within <= 0 && s->max_gap <= 0) {
			vfail(v, s->locs.step,
			    "step '%s': not_followed_by as the last step "
			    "needs 'within'",
			    sname(s));
		}
	}
	if (s->max_gap > 0 && v->p->within > 0 && s->max_gap > v->p->within) {
		vfail(v, s->locs.max_gap,
		    "step '%s': max_gap %s exceeds within %s", sname(s),
		    cep_duration_format(s->max_gap, b1),
		    cep_duration_format(v->p->within, b2));
	}
	if (s->group != NULL) {
		if (has_where(s)) {
			vfail(v, s->locs.where,
			    "step '%s': a group has no 'where' of its own; "
			    "put conditions on its steps",
			    sname(s));
		}
		if (s->ngroup == 0) {
			vfail(v, s->locs.sequence,
			    "step '%s': a group needs at least one step",
			    sname(s));
		} else {
			check_steps(v, s->group, s->ngroup, s);
		}
	}
}

static void
check_steps(vctx *v, const nfa_step *steps, size_t n, const nfa_step *group)
{
	for (size_t i = 0; i < n; i++) {
		check_step(v, steps, n, i, group);
	}
}

/* Step names, flattened with their document order, for the uniqueness
 * check (sorted, so a pattern of many steps stays fast). */
typedef struct named {
	const nfa_step *s;
	size_t          order;
} named;

static int
cmp_named(const void *a, const void *b)
{
	const named *x = a, *y = b;
	int          c = strcmp(x->s->name, y->s->name);

	if (c != 0) {
		return (c);
	}
	return (x->order < y->order ? -1 : x->order > y->order);
}

static size_t
count_steps(const nfa_step *steps, size_t n)
{
	size_t c = n;

	for (size_t i = 0; i < n; i++) {
		if (steps[i].group != NULL) {
			c += count_steps(steps[i].group, steps[i].ngroup);
		}
	}
	return (c);
}

static void
collect_names(const nfa_step *steps, size_t n, named *out, size_t *k)
{
	for (size_t i = 0; i < n; i++) {
		if (steps[i].name != NULL) {
			out[*k].s     = &steps[i];
			out[*k].order = *k;
			(*k)++;
		}
		if (steps[i].group != NULL) {
			collect_names(steps[i].group, steps[i].ngroup, out, k);
		}
	}
}

static void
check_unique_names(vctx *v)
{
	size_t total = count_steps(v->p->steps, v->p->nsteps), k = 0;
	named *all;

	if (total == 0) {
		return;
	}
	if ((all = cep_calloc(total, sizeof(named))) == NULL) {
		v->fatal = CEP_ENOMEM;
		return;
	}
	collect_names(v->p->steps, v->p->nsteps, all, &k);
	qsort(all, k, sizeof(named), cmp_named);
	for (size_t i = 1, first = 0; i < k; i++) {
		if (strcmp(all[i].s->name, all[first].s->name) != 0) {
			first = i;
			continue;
		}
		vfail(v, all[i].s->locs.step,
		    "step '%s': duplicate step name (first at %u:%u)",
		    all[i].s->name, all[first].s->locs.step.line,
		    all[first].s->locs.step.col);
	}
	cep_free(all, total * sizeof(named));
}

/* find_step: the step named `name`, searching groups too. */
static const nfa_step *
find_step(const nfa_step *steps, size_t n, const char *name)
{
	const nfa_step *s;

	for (size_t i = 0; i < n; i++) {
		if (steps[i].name != NULL &&
		    strcmp(steps[i].name, name) == 0) {
			return (&steps[i]);
		}
		if (steps[i].group != NULL &&
		    (s = find_step(steps[i].group, steps[i].ngroup, name)) !=
		        NULL) {
			return (s);
		}
	}
	return (NULL);
}

static void
check_skip(vctx *v)
{
	const nfa_pattern *p = v->p;
	const nfa_step    *s;
	const char        *how;

	if (p->skip != NFA_SKIP_TO_FIRST && p->skip != NFA_SKIP_TO_LAST) {
		return;
	}
	how = nfa_skip_name(p->skip);
	if (p->skip_step == NULL) {
		vfail(v, p->locs.skip, "%s needs a step name", how);
	} else if ((s = find_step(p->steps, p->nsteps, p->skip_step)) ==
	    NULL) {
		vfail(v, p->locs.skip, "%s: no step named '%s'", how,
		    p->skip_step);
	} else if (s->group != NULL) {
		vfail(v, p->locs.skip,
		    "%s: '%s' is a group; name one of its steps", how,
		    p->skip_step);
	}
}

cep_err
nfa_pattern_validate(const nfa_pattern *p, cep_diag *diag)
{
	vctx v = { .p = p, .diag = diag };

	if (p->nsteps == 0) {
		vfail(&v, p->locs.sequence, "pattern '%s' has no steps",
		    p->name != NULL ? p->name : "?");
	}
	check_steps(&v, p->steps, p->nsteps, NULL);
	check_unique_names(&v);
	check_skip(&v);
	if (v.fatal != CEP_OK) {
		return (v.fatal);
	}
	return (v.nerr > 0 ? CEP_EINVAL : CEP_OK);
}
