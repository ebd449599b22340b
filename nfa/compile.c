/* SPDX-License-Identifier: MIT */
/*
 * compile.c: the NFA compiler, FlinkCEP's NFACompiler in C.
 *
 * The pattern is walked from its last step to its first, building each
 * step's states in front of the states built so far ("the sink"), exactly
 * as FlinkCEP does: singleton states, chains of states for `times`, a
 * looping state with its ignore state for one_or_more, groups compiled
 * recursively, negative steps turned into stop states reached by PROCEED
 * edges (or a pending state when not_followed_by ends the pattern), greedy
 * loops guarding their sink's edges with "and not the loop's condition".
 * Matching then follows FlinkCEP's results because it runs the same graph.
 *
 * Construction keeps each state's edges in its own growing array, since
 * FlinkCEP's algorithm edits earlier states (greedy guards, copies); the
 * finished program flattens them into one edge array.  States are always
 * addressed by index because the state array moves as it grows.
 */
#include <string.h>

#include "nfa/nfa_impl.h"

#define NO_COND UINT32_MAX
#define NO_STATE UINT32_MAX

/* FlinkCEP's consuming strategies. */
typedef enum consuming {
	STRICT,
	SKIP_TILL_NEXT,
	SKIP_TILL_ANY,
	NOT_FOLLOW,
	NOT_NEXT,
} consuming;

struct cedge {
	uint8_t  action;
	uint32_t to;
	uint32_t cond;
};

struct cstate {
	char           *name;
	uint8_t         type;
	const nfa_step *step; /* the step it was built for, NULL for final */
	struct cedge   *edges;
	size_t          nedges;
	size_t          cap;
};

/* One sequence of steps: the pattern's, or a group's inner one. */
struct chain {
	const nfa_step *steps;
	size_t          n;
};

struct pair {
	const void *key;
	uint32_t    val;
};

struct compiler {
	const nfa_pattern *pattern;
	cep_diag          *diag;
	cep_err            err;

	struct cstate *states;
	size_t         nstates;
	size_t         states_cap;
	cep_htab       names; /* state name -> state index */
	nfa_cond      *conds;
	size_t         nconds;
	size_t         conds_cap;
	const nfa_expr **exprs;
	size_t           nexprs;
	size_t           exprs_cap;
	uint32_t         true_cond;

	/* FlinkCEP's compiler state. */
	const struct chain *chain;     /* the chain of currentPattern */
	size_t              cur;       /* currentPattern = chain->steps[cur] */
	const nfa_step     *following; /* followingPattern, or NULL */
	const nfa_step     *group;     /* currentGroupPattern, or NULL */
	struct pair        *first_of_loop; /* group step -> bool */
	size_t              nfirst;
	size_t              first_cap;
	struct pair        *stops; /* negative step -> its stop state */
	size_t              nstops;
	size_t              stops_cap;
	struct pair        *originals; /* sink state -> its greedy copy */
	size_t              noriginals;
	size_t              originals_cap;
};

/* ---- small helpers ----------------------------------------------------- */

static const nfa_step *
current(const struct compiler *c)
{
	return (&c->chain->steps[c->cur]);
}

static const nfa_step *
previous_of(const struct compiler *c, size_t i)
{
	return (i == 0 ? NULL : &c->chain->steps[i - 1]);
}

static int
fail(struct compiler *c, cep_err err)
{
	if (c->err == CEP_OK) {
		c->err = err;
	}
	return (0);
}

static consuming
consuming_of(const nfa_step *s)
{
	switch (s->join) {
	case NFA_JOIN_BEGIN:
	case NFA_JOIN_NEXT:
		return (STRICT);
	case NFA_JOIN_FOLLOWED_BY:
		return (SKIP_TILL_NEXT);
	case NFA_JOIN_FOLLOWED_BY_ANY:
		return (SKIP_TILL_ANY);
	case NFA_JOIN_NOT_NEXT:
		return (NOT_NEXT);
	case NFA_JOIN_NOT_FOLLOWED_BY:
		return (NOT_FOLLOW);
	}
	return (STRICT);
}

static consuming
inner_consuming_of(const nfa_step *s)
{
	if (s->consecutive) {
		return (STRICT);
	}
	return (s->allow_combinations ? SKIP_TILL_ANY : SKIP_TILL_NEXT);
}

static int
is_looping(const nfa_step *s)
{
	return (s->quant == NFA_QUANT_ONE_OR_MORE ||
	        s->quant == NFA_QUANT_TIMES_OR_MORE);
}

static int
is_optional(const nfa_step *s)
{
	return (s->optional ||
	        (s->quant == NFA_QUANT_TIMES && s->times_min == 0));
}

static int
is_greedy(const nfa_step *s)
{
	return (s->greedy);
}

/* FlinkCEP's Times(from, to) of a quantified step. */
static void
times_of(const nfa_step *s, uint32_t *from, uint32_t *to)
{
	switch (s->quant) {
	case NFA_QUANT_ONE_OR_MORE:
		*from = *to = 1;
		return;
	case NFA_QUANT_TIMES_OR_MORE:
		*from = *to = s->times_min;
		return;
	case NFA_QUANT_TIMES:
		*from = s->times_min == 0 ? 1 : s->times_min;
		*to   = s->times_max;
		return;
	case NFA_QUANT_ONE:
		break;
	}
	*from = *to = 1;
}

static struct pair *
find_pair(struct pair *pairs, size_t n, const void *key)
{
	for (size_t i = 0; i < n; i++) {
		if (pairs[i].key == key) {
			return (&pairs[i]);
		}
	}
	return (NULL);
}

static void
set_pair(struct compiler *c, struct pair **pairs, size_t *n, size_t *cap,
    const void *key, uint32_t val)
{
	struct pair *p = find_pair(*pairs, *n, key);

	if (p == NULL) {
		if (cep_grow(pairs, cap, *n + 1, sizeof(struct pair)) != 0) {
			fail(c, CEP_ENOMEM);
			return;
		}
		p      = &(*pairs)[(*n)++];
		p->key = key;
	}
	p->val = val;
}

/* ---- conditions -------------------------------------------------------- */

static uint32_t
add_cond(struct compiler *c, uint8_t op, uint32_t a, uint32_t b)
{
	nfa_cond *n;

	if (cep_grow(&c->conds, &c->conds_cap, c->nconds + 1,
	        sizeof(nfa_cond)) != 0) {
		fail(c, CEP_ENOMEM);
		return (0);
	}
	n     = &c->conds[c->nconds];
	n->op = op;
	n->a  = a;
	n->b  = b;
	return ((uint32_t) c->nconds++);
}

static uint32_t
cond_true(struct compiler *c)
{
	if (c->true_cond == NO_COND) {
		c->true_cond = add_cond(c, NFA_COND_TRUE, 0, 0);
	}
	return (c->true_cond);
}

static uint32_t
cond_expr(struct compiler *c, const nfa_expr *e)
{
	size_t i;

	if (e == NULL || nfa_expr_is_true(e)) {
		return (cond_true(c));
	}
	for (i = 0; i < c->nexprs && c->exprs[i] != e; i++) {
	}
	if (i == c->nexprs) {
		if (cep_grow(&c->exprs, &c->exprs_cap, c->nexprs + 1,
		        sizeof(*c->exprs)) != 0) {
			fail(c, CEP_ENOMEM);
			return (0);
		}
		c->exprs[c->nexprs++] = e;
	}
	return (add_cond(c, NFA_COND_EXPR, (uint32_t) i, 0));
}

static uint32_t
cond_not(struct compiler *c, uint32_t a)
{
	return (add_cond(c, NFA_COND_NOT, a, 0));
}

static uint32_t
cond_and(struct compiler *c, uint32_t a, uint32_t b)
{
	return (add_cond(c, NFA_COND_AND, a, b));
}

/* extend_with_until is FlinkCEP's extendWithUntilCondition. */
static uint32_t
extend_with_until(struct compiler *c, uint32_t cond, const nfa_expr *until,
    int is_take)
{
	if (until != NULL && cond != NO_COND) {
		return (cond_and(c, cond_not(c, cond_expr(c, until)), cond));
	}
	if (until != NULL && is_take) {
		return (cond_not(c, cond_expr(c, until)));
	}
	return (cond);
}

static const nfa_expr *
group_until(const struct compiler *c)
{
	return (c->group != NULL ? c->group->until : NULL);
}

/* take_cond is getTakeCondition: the step's where, and not the enclosing
 * group's until. */
static uint32_t
take_cond(struct compiler *c, const nfa_step *s)
{
	return (extend_with_until(c, cond_expr(c, s->where), group_until(c),
	    1));
}

/* true_cond is getTrueFunction. */
static uint32_t
true_cond(struct compiler *c)
{
	return (extend_with_until(c, cond_true(c), group_until(c), 1));
}

static int
head_of_group(const struct compiler *c, const nfa_step *s)
{
	return (c->group != NULL && s == &c->chain->steps[0]);
}

static int
current_group_first_of_loop(const struct compiler *c)
{
	struct pair *p = find_pair(c->first_of_loop, c->nfirst, c->group);

	return (p == NULL ? 1 : (int) p->val);
}

static void
set_current_group_first_of_loop(struct compiler *c, int first)
{
	if (current(c)->group != NULL) {
		set_pair(c, &c->first_of_loop, &c->nfirst, &c->first_cap,
		    current(c), (uint32_t) first);
	}
}

static uint32_t
ignore_for(struct compiler *c, const nfa_step *s, consuming cs)
{
	uint32_t cond = NO_COND;

	switch (cs) {
	case STRICT:
	case NOT_FOLLOW:
	case NOT_NEXT:
		break;
	case SKIP_TILL_NEXT:
		cond = cond_not(c, cond_expr(c, s->where));
		break;
	case SKIP_TILL_ANY:
		cond = cond_true(c);
		break;
	}
	return (extend_with_until(c, cond, group_until(c), 0));
}

/* ignore_cond is getIgnoreCondition: from the step's own contiguity, or
 * the group's when the step heads a group. */
static uint32_t
ignore_cond(struct compiler *c, const nfa_step *s)
{
	consuming cs = consuming_of(s);

	if (head_of_group(c, s)) {
		cs = current_group_first_of_loop(c)
		         ? consuming_of(c->group)
		         : inner_consuming_of(c->group);
	}
	return (ignore_for(c, s, cs));
}

/* inner_ignore_cond is getInnerIgnoreCondition: the contiguity between
 * the events of a loop. */
static uint32_t
inner_ignore_cond(struct compiler *c, const nfa_step *s)
{
	consuming cs = inner_consuming_of(s);

	if (head_of_group(c, s)) {
		cs = inner_consuming_of(c->group);
	}
	return (ignore_for(c, s, cs));
}

/* ---- states ------------------------------------------------------------ */

static struct cstate *
st(struct compiler *c, uint32_t i)
{
	return (&c->states[i]);
}

struct name_probe {
	const struct compiler *c;
	const char            *name;
};

static int
name_eq(const void *ctx, uint32_t i)
{
	const struct name_probe *p = ctx;

	return (strcmp(p->c->states[i].name, p->name) == 0);
}

static uint64_t
name_hash(const char *name)
{
	return (cep_hash64(name, strlen(name), 0x6e616d65));
}

/* unique_name is NFAStateNameHandler.getUniqueInternalName: the base name,
 * or the first of base:0, base:1, ... not taken.  The names taken are
 * indexed, as FlinkCEP keeps them in a set: a scan of every state per
 * candidate made large `times` take minutes to compile (or to refuse). */
static char *
unique_name(struct compiler *c, const char *base)
{
	char              buf[300];
	size_t            counter = 0;
	struct name_probe probe   = { c, buf };

	snprintf(buf, sizeof(buf), "%s", base);
	while (cep_htab_find(&c->names, name_hash(buf), name_eq, &probe) !=
	    NULL) {
		snprintf(buf, sizeof(buf), "%s:%zu", base, counter++);
	}
	return (cep_strdup(buf));
}

static uint32_t
new_state(struct compiler *c, const char *base, uint8_t type,
    const nfa_step *step)
{
	struct cstate *s;
	char          *name;

	if (c->err != CEP_OK) {
		return (0);
	}
	if (c->nstates >= NFA_MAX_STATES) {
		cep_diag_error(c->diag, c->pattern->locs.sequence,
		    "pattern '%s' needs more than %u automaton states; "
		    "use smaller repeat counts",
		    c->pattern->name, NFA_MAX_STATES);
		fail(c, CEP_ELIMIT);
		return (0);
	}
	if (cep_grow(&c->states, &c->states_cap, c->nstates + 1,
	        sizeof(struct cstate)) != 0 ||
	    (name = unique_name(c, base)) == NULL) {
		fail(c, CEP_ENOMEM);
		return (0);
	}
	s = &c->states[c->nstates];
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->type = type;
	s->step = step;
	c->nstates++;
	if (cep_htab_insert(&c->names, name_hash(name),
	        (uint32_t) (c->nstates - 1)) != CEP_OK) {
		fail(c, CEP_ENOMEM);
		return (0);
	}
	return ((uint32_t) (c->nstates - 1));
}

/* create_state is createState(type, isTake) for the current step. */
static uint32_t
create_state(struct compiler *c, uint8_t type)
{
	return (new_state(c, current(c)->name, type, current(c)));
}

static void
add_edge(struct compiler *c, uint32_t from, uint8_t action, uint32_t to,
    uint32_t cond)
{
	struct cstate *s;

	if (c->err != CEP_OK) {
		return;
	}
	s = st(c, from);
	if (cep_grow(&s->edges, &s->cap, s->nedges + 1,
	        sizeof(struct cedge)) != 0) {
		fail(c, CEP_ENOMEM);
		return;
	}
	s->edges[s->nedges].action = action;
	s->edges[s->nedges].to     = to;
	s->edges[s->nedges].cond   = cond;
	s->nedges++;
}

/* copy_state is FlinkCEP's copy(state): same name and type, same edges,
 * self-loops pointing at the copy. */
static uint32_t
copy_state(struct compiler *c, uint32_t src)
{
	uint32_t dst = new_state(c, st(c, src)->step != NULL
	                                 ? st(c, src)->step->name
	                                 : "$endState$",
	    st(c, src)->type, st(c, src)->step);

	for (size_t i = 0; c->err == CEP_OK && i < st(c, src)->nedges; i++) {
		struct cedge e = st(c, src)->edges[i];
		add_edge(c, dst, e.action, e.to == src ? dst : e.to, e.cond);
	}
	return (dst);
}

struct not_cond {
	uint32_t        cond;
	const nfa_step *step;
};

#define MAX_NOTS 64

/* current_not_conditions is getCurrentNotCondition: the not_followed_by
 * steps reachable backwards from the current step through optional and
 * negative steps. */
static size_t
current_not_conditions(struct compiler *c, struct not_cond *out)
{
	size_t n = 0;

	for (size_t i = c->cur; previous_of(c, i) != NULL; i--) {
		const nfa_step *prev = previous_of(c, i);
		if (!is_optional(prev) &&
		    consuming_of(prev) != NOT_FOLLOW) {
			break;
		}
		if (consuming_of(prev) == NOT_FOLLOW && n < MAX_NOTS) {
			out[n].cond = take_cond(c, prev);
			out[n].step = prev;
			n++;
		}
	}
	return (n);
}

/* create_stop_state is createStopState: one stop state per negative step,
 * shared by every state that can stop on it. */
static uint32_t
create_stop_state(struct compiler *c, uint32_t cond, const nfa_step *neg)
{
	struct pair *p = find_pair(c->stops, c->nstops, neg);
	uint32_t     stop;

	if (p != NULL) {
		return (p->val);
	}
	stop = new_state(c, neg->name, NFA_ST_STOP, neg);
	add_edge(c, stop, NFA_TAKE, stop, cond);
	set_pair(c, &c->stops, &c->nstops, &c->stops_cap, neg, stop);
	return (stop);
}

/* copy_without_transitive_nots is copyWithoutTransitiveNots: when an
 * optional step takes an event, the negative steps before it no longer
 * apply, so its TAKE edge leads to a copy of the sink without the PROCEED
 * edges into their stop states. */
static uint32_t
copy_without_transitive_nots(struct compiler *c, uint32_t sink)
{
	struct not_cond nots[MAX_NOTS];
	size_t          nnots = current_not_conditions(c, nots);
	uint32_t        copy;

	if (nnots == 0 || !is_optional(current(c))) {
		return (sink);
	}
	copy = new_state(c, st(c, sink)->step != NULL ? st(c, sink)->step->name
	                                              : "$endState$",
	    st(c, sink)->type, st(c, sink)->step);
	for (size_t i = 0; c->err == CEP_OK && i < st(c, sink)->nedges; i++) {
		struct cedge e = st(c, sink)->edges[i];
		if (e.action == NFA_PROCEED) {
			uint32_t to     = e.to;
			int      remove = 0;
			if (st(c, to)->type == NFA_ST_STOP) {
				for (size_t k = 0; k < nnots; k++) {
					remove |= st(c, to)->step == nots[k].step;
				}
			} else {
				to = copy_without_transitive_nots(c, to);
			}
			if (!remove) {
				add_edge(c, copy, e.action, to, e.cond);
			}
		} else {
			add_edge(c, copy, e.action, e.to == sink ? copy : e.to,
			    e.cond);
		}
	}
	return (copy);
}

static void
add_stop_states(struct compiler *c, uint32_t state)
{
	struct not_cond nots[MAX_NOTS];
	size_t          n = current_not_conditions(c, nots);

	for (size_t i = 0; i < n; i++) {
		uint32_t stop = create_stop_state(c, nots[i].cond, nots[i].step);
		add_edge(c, state, NFA_PROCEED, stop, nots[i].cond);
	}
}

/* add_stop_state_to_looping: a loop followed by not_followed_by stops on
 * the negative step's condition. */
static void
add_stop_state_to_looping(struct compiler *c, uint32_t state)
{
	if (c->following != NULL && consuming_of(c->following) == NOT_FOLLOW) {
		uint32_t cond = take_cond(c, c->following);
		uint32_t stop = create_stop_state(c, cond, c->following);
		add_edge(c, state, NFA_PROCEED, stop, cond);
	}
}

/* update_with_greedy_condition guards every edge of a greedy loop's sink
 * with "and not the loop's condition". */
static void
update_with_greedy_condition(struct compiler *c, uint32_t state,
    uint32_t take)
{
	for (size_t i = 0; c->err == CEP_OK && i < st(c, state)->nedges; i++) {
		uint32_t guarded = cond_and(c, st(c, state)->edges[i].cond,
		    cond_not(c, take));
		st(c, state)->edges[i].cond = guarded;
	}
}

static uint32_t original_of(struct compiler *c, uint32_t state)
{
	struct pair *p = find_pair(c->originals, c->noriginals,
	    (const void *) (uintptr_t) (state + 1));

	return (p != NULL ? p->val : state);
}

/* ---- steps ------------------------------------------------------------- */

static uint32_t convert_step(struct compiler *c, uint32_t sink);
static uint32_t create_middle_states(struct compiler *c, uint32_t sink);

/* enter_group switches the compiler into a group's inner sequence (its
 * last step first) and returns what to restore. */
struct saved {
	const struct chain *chain;
	size_t              cur;
	const nfa_step     *following;
	const nfa_step     *group;
};

static struct saved
enter_group(struct compiler *c, const nfa_step *grp, struct chain *inner)
{
	struct saved s = { c->chain, c->cur, c->following, c->group };

	inner->steps = grp->group;
	inner->n     = grp->ngroup;
	c->group     = grp;
	c->chain     = inner;
	c->cur       = inner->n - 1;
	return (s);
}

static void
leave_group(struct compiler *c, struct saved s)
{
	c->chain     = s.chain;
	c->cur       = s.cur;
	c->following = s.following;
	c->group     = s.group;
}

/* create_group_state is createGroupPatternState. */
static uint32_t
create_group_state(struct compiler *c, uint32_t sink, uint32_t proceed,
    int optional)
{
	uint32_t     proceed_cond = true_cond(c);
	struct chain inner;
	struct saved saved = enter_group(c, current(c), &inner);
	uint32_t     last  = create_middle_states(c, sink);

	last = convert_step(c, last);
	if (optional) {
		add_edge(c, last, NFA_PROCEED, proceed, proceed_cond);
	}
	leave_group(c, saved);
	return (last);
}

/* create_looping_group_state is createLoopingGroupPatternState. */
static uint32_t
create_looping_group_state(struct compiler *c, uint32_t sink)
{
	uint32_t     proceed_cond = true_cond(c);
	uint32_t     dummy        = create_state(c, NFA_ST_NORMAL);
	struct chain inner;
	struct saved saved = enter_group(c, current(c), &inner);
	uint32_t     last  = create_middle_states(c, dummy);

	last = convert_step(c, last);
	add_edge(c, last, NFA_PROCEED, sink, proceed_cond);
	add_edge(c, dummy, NFA_PROCEED, last, proceed_cond);
	leave_group(c, saved);
	return (last);
}

/* create_singleton_state is createSingletonState: a state taking one event
 * into `sink`, proceeding to `proceed` when optional, and ignoring events
 * per the step's contiguity (through a separate ignore state when
 * optional, so that PROCEED is only taken once per path). */
static uint32_t
create_singleton_state(struct compiler *c, uint32_t sink, uint32_t proceed,
    uint32_t take, uint32_t ignore, int optional)
{
	const nfa_step *s = current(c);
	uint32_t        single, sink2, proceed_cond;

	if (s->group != NULL) {
		return (create_group_state(c, sink, proceed, optional));
	}
	single = create_state(c, NFA_ST_NORMAL);
	sink2  = copy_without_transitive_nots(c, sink);
	add_edge(c, single, NFA_TAKE, sink2, take);
	proceed_cond = true_cond(c);
	if (optional) {
		if (is_greedy(s) && s->until != NULL) {
			uint32_t until = cond_expr(c, s->until);
			add_edge(c, single, NFA_PROCEED, original_of(c, proceed),
			    cond_and(c, proceed_cond, until));
			add_edge(c, single, NFA_PROCEED, proceed,
			    cond_and(c, proceed_cond, cond_not(c, until)));
		} else {
			add_edge(c, single, NFA_PROCEED, proceed, proceed_cond);
		}
	}
	if (ignore != NO_COND) {
		uint32_t ignore_state = single;
		if (optional ||
		    (head_of_group(c, s) && current_group_first_of_loop(c) &&
		        is_optional(c->group))) {
			ignore_state = create_state(c, NFA_ST_NORMAL);
			add_edge(c, ignore_state, NFA_TAKE, sink2, take);
			add_edge(c, ignore_state, NFA_IGNORE, ignore_state,
			    ignore);
			add_stop_states(c, ignore_state);
		}
		add_edge(c, single, NFA_IGNORE, ignore_state, ignore);
	}
	return (single);
}

/* create_times_state is createTimesState: `to - from` optional states,
 * then `from - 1` mandatory ones, then the first state. */
static uint32_t
create_times_state(struct compiler *c, uint32_t sink, uint32_t proceed,
    uint32_t from, uint32_t to)
{
	const nfa_step *s    = current(c);
	uint32_t        last = sink;
	uint32_t        inner_ignore, take;

	set_current_group_first_of_loop(c, 0);
	inner_ignore = extend_with_until(c, inner_ignore_cond(c, s), s->until,
	    0);
	take = extend_with_until(c, take_cond(c, s), s->until, 1);
	if (is_greedy(s) && from != to) {
		if (s->until != NULL) {
			uint32_t copy = copy_state(c, sink);
			set_pair(c, &c->originals, &c->noriginals,
			    &c->originals_cap,
			    (const void *) (uintptr_t) (sink + 1), copy);
		}
		update_with_greedy_condition(c, sink, take);
	}
	for (uint32_t i = from; c->err == CEP_OK && i < to; i++) {
		last = create_singleton_state(c, last, proceed, take,
		    inner_ignore, 1);
		add_stop_state_to_looping(c, last);
	}
	for (uint32_t i = 0; c->err == CEP_OK && i + 1 < from; i++) {
		last = create_singleton_state(c, last, NO_STATE, take,
		    inner_ignore, 0);
		add_stop_state_to_looping(c, last);
	}
	set_current_group_first_of_loop(c, 1);
	return (create_singleton_state(c, last, proceed, take,
	    ignore_cond(c, s), is_optional(s)));
}

/* create_looping is createLooping: a state that takes events into itself
 * and proceeds to the sink, with an ignore state for relaxed contiguity. */
static uint32_t
create_looping(struct compiler *c, uint32_t sink)
{
	const nfa_step *s = current(c);
	uint32_t        ignore, take, proceed_cond, looping;

	if (s->group != NULL) {
		return (create_looping_group_state(c, sink));
	}
	ignore = extend_with_until(c, inner_ignore_cond(c, s), s->until, 0);
	take   = extend_with_until(c, take_cond(c, s), s->until, 1);
	proceed_cond = true_cond(c);
	looping      = create_state(c, NFA_ST_NORMAL);
	if (is_greedy(s)) {
		if (s->until != NULL) {
			uint32_t until = cond_expr(c, s->until);
			uint32_t copy  = copy_state(c, sink);
			add_edge(c, looping, NFA_PROCEED, copy,
			    cond_and(c, proceed_cond, until));
			set_pair(c, &c->originals, &c->noriginals,
			    &c->originals_cap,
			    (const void *) (uintptr_t) (sink + 1), copy);
			add_edge(c, looping, NFA_PROCEED, sink,
			    cond_and(c, proceed_cond, cond_not(c, until)));
		} else {
			add_edge(c, looping, NFA_PROCEED, sink, proceed_cond);
		}
		update_with_greedy_condition(c, sink, take_cond(c, s));
	} else {
		add_edge(c, looping, NFA_PROCEED, sink, proceed_cond);
	}
	add_edge(c, looping, NFA_TAKE, looping, take);
	add_stop_state_to_looping(c, looping);
	if (ignore != NO_COND) {
		uint32_t ignore_state = create_state(c, NFA_ST_NORMAL);
		add_edge(c, ignore_state, NFA_TAKE, looping, take);
		add_edge(c, ignore_state, NFA_IGNORE, ignore_state, ignore);
		add_edge(c, looping, NFA_IGNORE, ignore_state, ignore);
		add_stop_state_to_looping(c, ignore_state);
	}
	return (looping);
}

/* convert_step is convertPattern. */
static uint32_t
convert_step(struct compiler *c, uint32_t sink)
{
	const nfa_step *s = current(c);
	uint32_t        last, from, to;

	times_of(s, &from, &to);
	if (is_looping(s)) {
		uint32_t sink2, looping;
		set_current_group_first_of_loop(c, 0);
		sink2   = copy_without_transitive_nots(c, sink);
		looping = create_looping(c, sink2);
		set_current_group_first_of_loop(c, 1);
		last = create_times_state(c, looping, sink, from, to);
	} else if (s->quant == NFA_QUANT_TIMES) {
		last = create_times_state(c, sink, sink, from, to);
	} else {
		last = create_singleton_state(c, sink, sink, take_cond(c, s),
		    ignore_cond(c, s), is_optional(s));
	}
	add_stop_states(c, last);
	return (last);
}

/* create_middle_states is createMiddleStates: every step but the first of
 * the current chain, last to first. */
static uint32_t
create_middle_states(struct compiler *c, uint32_t sink)
{
	uint32_t last = sink;

	while (c->err == CEP_OK && c->cur > 0) {
		const nfa_step *s  = current(c);
		consuming       cs = consuming_of(s);

		if (cs == NOT_FOLLOW) {
			/* In the middle it becomes stop edges of the states
			 * after it; at the end, a pending state. */
			if ((s->max_gap > 0 || c->pattern->within > 0) &&
			    st(c, last)->type == NFA_ST_FINAL) {
				uint32_t pending = create_state(c, NFA_ST_PENDING);
				uint32_t cond    = take_cond(c, s);
				uint32_t stop    = create_stop_state(c, cond, s);
				add_edge(c, pending, NFA_PROCEED, stop, cond);
				add_edge(c, pending, NFA_IGNORE, pending,
				    cond_not(c, cond));
				last = pending;
			}
		} else if (cs == NOT_NEXT) {
			uint32_t not_next = create_state(c, NFA_ST_NORMAL);
			uint32_t cond     = take_cond(c, s);
			uint32_t stop     = create_stop_state(c, cond, s);
			if (st(c, last)->type == NFA_ST_FINAL) {
				/* So that the PROCEED to final is not fired. */
				add_edge(c, not_next, NFA_IGNORE, last,
				    cond_not(c, cond));
			} else {
				add_edge(c, not_next, NFA_PROCEED, last,
				    cond_not(c, cond));
			}
			add_edge(c, not_next, NFA_PROCEED, stop, cond);
			last = not_next;
		} else {
			last = convert_step(c, last);
		}
		c->following = s;
		c->cur--;
	}
	return (last);
}

/* ---- the program ------------------------------------------------------- */

/* proceed_acyclic checks that PROCEED edges never form a cycle, which the
 * matcher's closure over them relies on: CEP_OK, CEP_EINTERNAL for a
 * cycle, CEP_ENOMEM. */
static cep_err
proceed_acyclic(const nfa_prog *p)
{
	uint8_t *mark = cep_zalloc(p->nstates);
	int      ok   = 1;

	if (mark == NULL) {
		return (CEP_ENOMEM);
	}
	/* Kahn-style: repeatedly retire states whose PROCEED successors are
	 * all retired; anything left sits on a cycle. */
	for (int changed = 1; changed;) {
		changed = 0;
		for (uint32_t s = 0; s < p->nstates; s++) {
			int ready = 1;
			if (mark[s]) {
				continue;
			}
			for (uint32_t e = 0; e < p->states[s].nedges; e++) {
				const nfa_edge *edge = &p->edges[p->states[s].edge0 +
				                                 e];
				if (edge->action == NFA_PROCEED && !mark[edge->to]) {
					ready = 0;
				}
			}
			if (ready) {
				mark[s] = 1;
				changed = 1;
			}
		}
	}
	for (uint32_t s = 0; s < p->nstates; s++) {
		ok &= mark[s];
	}
	cep_free(mark, p->nstates);
	return (ok ? CEP_OK : CEP_EINTERNAL);
}

static void
fingerprint(nfa_prog *p)
{
	cep_buf b;

	cep_buf_init(&b);
	cep_buf_puts(&b, p->pattern->name);
	cep_buf_put_i64(&b, p->within);
	/* The options that change what a run emits or keeps. */
	cep_buf_printf(&b, "|key=%s|", p->pattern->key.text != NULL
	                                   ? p->pattern->key.text
	                                   : "");
	cep_buf_put_u8(&b, (uint8_t) p->pattern->timeouts);
	cep_buf_put_u8(&b, (uint8_t) p->pattern->skip);
	cep_buf_put_u16(&b, p->skip_step);
	cep_buf_put_u64(&b, p->pattern->max_partial_matches);
	cep_buf_put_u8(&b, (uint8_t) p->pattern->overflow);
	cep_buf_put_i64(&b, p->pattern->key_ttl);
	for (size_t i = 0; i < p->pattern->nemit; i++) {
		cep_buf_printf(&b, "%s=%s;", p->pattern->emit[i].name,
		    nfa_expr_text(p->pattern->emit[i].expr));
	}
	for (uint32_t i = 0; i < p->nstates; i++) {
		cep_buf_put_u8(&b, p->states[i].type);
		cep_buf_put_u16(&b, p->states[i].step);
		cep_buf_put_i64(&b, p->states[i].gap);
		cep_buf_put_u32(&b, p->states[i].nedges);
	}
	for (uint32_t i = 0; i < p->nedges; i++) {
		cep_buf_put_u8(&b, p->edges[i].action);
		cep_buf_put_u16(&b, p->edges[i].to);
		cep_buf_put_u32(&b, p->edges[i].cond);
	}
	for (uint32_t i = 0; i < p->nconds; i++) {
		cep_buf_put_u8(&b, p->conds[i].op);
		cep_buf_put_u32(&b, p->conds[i].a);
		cep_buf_put_u32(&b, p->conds[i].b);
	}
	for (uint32_t i = 0; i < p->nexprs; i++) {
		cep_buf_puts(&b, nfa_expr_text(p->exprs[i]));
		cep_buf_put_u8(&b, 0);
	}
	p->fingerprint = cep_hash64(b.data, b.len, 0x6e6661);
	cep_buf_fini(&b);
}

static void
prog_free(nfa_prog *p)
{
	for (uint32_t i = 0; i < p->nstates; i++) {
		cep_strfree(p->states[i].name);
	}
	cep_free(p->states, p->nstates * sizeof(nfa_state));
	cep_free(p->edges, p->nedges * sizeof(nfa_edge));
	cep_free(p->conds, p->nconds * sizeof(nfa_cond));
	cep_free(p->exprs, p->nexprs * sizeof(*p->exprs));
	cep_free(p->expr_uses_steps, p->nexprs);
	cep_free(p, sizeof(*p));
}

/* flatten moves the construction states into the program's arrays. */
static cep_err
flatten(struct compiler *c, nfa_prog *p)
{
	size_t nedges = 0;

	for (size_t i = 0; i < c->nstates; i++) {
		nedges += c->states[i].nedges;
	}
	p->states = cep_calloc(c->nstates, sizeof(nfa_state));
	p->edges  = cep_calloc(nedges, sizeof(nfa_edge));
	p->conds  = cep_calloc(c->nconds, sizeof(nfa_cond));
	p->exprs  = cep_calloc(c->nexprs, sizeof(*p->exprs));
	p->expr_uses_steps = cep_zalloc(c->nexprs);
	if (p->states == NULL || p->edges == NULL || p->conds == NULL ||
	    p->exprs == NULL || p->expr_uses_steps == NULL) {
		return (CEP_ENOMEM);
	}
	p->nstates = (uint32_t) c->nstates;
	p->nedges  = (uint32_t) nedges;
	p->nconds  = (uint32_t) c->nconds;
	p->nexprs  = (uint32_t) c->nexprs;
	memcpy(p->conds, c->conds, c->nconds * sizeof(nfa_cond));
	for (size_t i = 0; i < c->nexprs; i++) {
		p->exprs[i]           = c->exprs[i];
		p->expr_uses_steps[i] = (uint8_t) nfa_expr_uses_steps(c->exprs[i]);
	}
	nedges = 0;
	for (uint32_t i = 0; i < p->nstates; i++) {
		struct cstate *s = &c->states[i];
		nfa_state     *d = &p->states[i];
		d->name          = s->name;
		s->name          = NULL;
		d->type          = s->type;
		d->step = s->step != NULL && s->step->group == NULL &&
		                  s->type != NFA_ST_STOP
		              ? (uint16_t) s->step->leaf
		              : NFA_NO_STEP;
		d->gap    = s->step != NULL ? s->step->max_gap : 0;
		d->edge0  = (uint32_t) nedges;
		d->nedges = (uint32_t) s->nedges;
		for (size_t e = 0; e < s->nedges; e++) {
			nfa_edge *edge = &p->edges[nedges++];
			edge->action   = s->edges[e].action;
			edge->from     = (uint16_t) i;
			edge->to       = (uint16_t) s->edges[e].to;
			edge->cond     = s->edges[e].cond;
		}
		if (d->type == NFA_ST_START) {
			p->start = (uint16_t) i;
		}
	}
	return (CEP_OK);
}

static void
compiler_fini(struct compiler *c)
{
	for (size_t i = 0; i < c->nstates; i++) {
		cep_strfree(c->states[i].name);
		cep_free(c->states[i].edges,
		    c->states[i].cap * sizeof(struct cedge));
	}
	cep_free(c->states, c->states_cap * sizeof(struct cstate));
	cep_htab_fini(&c->names);
	cep_free(c->conds, c->conds_cap * sizeof(nfa_cond));
	cep_free(c->exprs, c->exprs_cap * sizeof(*c->exprs));
	cep_free(c->first_of_loop, c->first_cap * sizeof(struct pair));
	cep_free(c->stops, c->stops_cap * sizeof(struct pair));
	cep_free(c->originals, c->originals_cap * sizeof(struct pair));
}

static uint16_t
leaf_named(const nfa_pattern *p, const char *name)
{
	for (size_t i = 0; name != NULL && i < p->nleaves; i++) {
		if (strcmp(p->leaves[i], name) == 0) {
			return ((uint16_t) i);
		}
	}
	return (NFA_NO_STEP);
}

cep_err
nfa_prog_create(nfa_pattern *pattern, nfa_prog **out, cep_diag *diag)
{
	struct compiler c;
	struct chain    top = { pattern->steps, pattern->nsteps };
	nfa_prog       *p;
	uint32_t        sink, first;
	cep_err         rv;

	if (pattern->nsteps == 0 || pattern->nleaves >= NFA_NO_STEP) {
		return (CEP_EINVAL);
	}
	memset(&c, 0, sizeof(c));
	cep_htab_init(&c.names);
	c.pattern   = pattern;
	c.diag      = diag;
	c.true_cond = NO_COND;
	c.chain     = &top;
	c.cur       = top.n - 1;

	sink  = new_state(&c, "$endState$", NFA_ST_FINAL, NULL);
	sink  = create_middle_states(&c, sink);
	first = convert_step(&c, sink);
	if (c.err == CEP_OK) {
		st(&c, first)->type = NFA_ST_START;
	}
	if ((rv = c.err) != CEP_OK) {
		compiler_fini(&c);
		return (rv);
	}
	if ((p = cep_zalloc(sizeof(*p))) == NULL) {
		compiler_fini(&c);
		return (CEP_ENOMEM);
	}
	atomic_init(&p->refs, 1);
	p->pattern   = pattern;
	p->within    = pattern->within;
	p->skip_step = leaf_named(pattern, pattern->skip_step);
	rv           = flatten(&c, p);
	compiler_fini(&c);
	if (rv == CEP_OK &&
	    (rv = proceed_acyclic(p)) == CEP_EINTERNAL) {
		cep_diag_error(diag, pattern->locs.sequence,
		    "pattern '%s' compiles to an automaton with a cycle of "
		    "PROCEED edges (please report this)",
		    pattern->name);
	}
	if (rv != CEP_OK) {
		p->pattern = NULL;
		prog_free(p);
		return (rv);
	}
	fingerprint(p);
	*out = p;
	return (CEP_OK);
}

void
nfa_prog_ref(nfa_prog *p)
{
	atomic_fetch_add(&p->refs, 1);
}

void
nfa_prog_unref(nfa_prog *p)
{
	if (p == NULL || atomic_fetch_sub(&p->refs, 1) != 1) {
		return;
	}
	nfa_pattern_destroy(p->pattern);
	prog_free(p);
}

const nfa_pattern *
nfa_prog_pattern(const nfa_prog *p)
{
	return (p->pattern);
}

size_t
nfa_prog_nstates(const nfa_prog *p)
{
	return (p->nstates);
}

uint64_t
nfa_prog_fingerprint(const nfa_prog *p)
{
	return (p->fingerprint);
}
