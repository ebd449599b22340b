/* SPDX-License-Identifier: MIT */
/*
 * exec.c: one key's step of the automaton over one event.
 *
 * This is FlinkCEP's NFA.process/advanceTime: every partial match (run) of
 * the key follows the edges whose conditions hold, through PROCEED edges
 * (epsilon moves), taking or ignoring the event; runs reaching the final
 * state are matches, a run reaching a stop state kills every branch it
 * produced for this event; the start run is always kept.  Matches are
 * emitted in the order of their event sequences, and for skip strategies
 * only once no partial match started earlier, pruning what the strategy
 * discards.  advance times out runs whose `within` or `max_gap` window has
 * passed (a pending not_followed_by run completes instead).
 *
 * Hot path notes: conditions that only read the current event are cached
 * per event (the "epoch"), so many runs in one state evaluate them once;
 * a run's events are gathered for aggregates only when an aggregate asks;
 * all scratch arrays live in the matcher and are reused.
 */
#include <string.h>

#include "nfa/nfa_impl.h"

static int
is_start(const nfa_matcher *m, const nfa_run *r)
{
	return (m->prog->states[r->state].type == NFA_ST_START);
}

/* ---- gathering a run's events ---------------------------------------- */

static cep_err
ensure_mat(nfa_matcher *m, size_t n)
{
	size_t cap = m->mat_cap;

	if (n <= cap) {
		return (CEP_OK);
	}
	if (cep_grow(&m->mat_events, &cap, n, sizeof(*m->mat_events)) != 0) {
		return (CEP_ENOMEM);
	}
	m->mat_cap = cap;
	return (CEP_OK);
}

/* materialize lays out the events of the path ending at node by step:
 * mat_events[mat_off[s] .. + mat_count[s]) in acceptance order. */
static cep_err
materialize(nfa_matcher *m, uint32_t node)
{
	const nfa_hist *h      = &m->hist;
	size_t          nsteps = m->pat->nleaves, total = 0;
	cep_err         rv;

	memset(m->mat_count, 0, nsteps * sizeof(uint32_t));
	for (uint32_t n = node; n != 0; n = h->nodes[n].prev) {
		m->mat_count[h->nodes[n].step]++;
		total++;
	}
	if ((rv = ensure_mat(m, total)) != CEP_OK) {
		return (rv);
	}
	for (size_t s = 0, off = 0; s < nsteps; s++) {
		m->mat_off[s] = (uint32_t) off;
		off += m->mat_count[s];
		m->mat_pos[s] = (uint32_t) off;
	}
	/* Walk from the newest event, filling each step from its end. */
	for (uint32_t n = node; n != 0; n = h->nodes[n].prev) {
		uint16_t s                     = h->nodes[n].step;
		m->mat_events[--m->mat_pos[s]] = h->evs[h->nodes[n].ev].ev;
	}
	return (CEP_OK);
}

/* The context of a condition: the run it is evaluated for. */
struct runctx {
	nfa_matcher   *m;
	const nfa_run *run;
	int            gathered;
	cep_err        err;
};

static cep_err
step_events(
    void *arg, uint32_t step, const cep_event *const **events, size_t *n)
{
	struct runctx *rc = arg;
	nfa_matcher   *m  = rc->m;
	cep_err        rv;

	if (!rc->gathered) {
		if ((rv = materialize(m, rc->run->node)) != CEP_OK) {
			rc->err = rv;
			return (rv);
		}
		rc->gathered = 1;
	}
	if (step >= m->pat->nleaves) {
		*events = NULL;
		*n      = 0;
		return (CEP_OK);
	}
	*events = m->mat_events + m->mat_off[step];
	*n      = m->mat_count[step];
	return (CEP_OK);
}

/* ---- conditions -------------------------------------------------------- */

static int
expr_holds(struct runctx *rc, uint32_t e)
{
	nfa_matcher *m   = rc->m;
	nfa_eval_ctx ctx = { m->cur_ev, NULL, NULL, m->scratch };
	int          val;

	if (!m->prog->expr_uses_steps[e]) {
		struct cache_entry *c = &m->cache[e];
		if (c->epoch == m->epoch) {
			return (c->val);
		}
		val = nfa_expr_test(m->prog->exprs[e], &ctx);
		nfa_scratch_reset(m->scratch);
		c->epoch = m->epoch;
		c->val   = (uint8_t) val;
		return (val);
	}
	ctx.step_events = step_events;
	ctx.arg         = rc;
	val             = nfa_expr_test(m->prog->exprs[e], &ctx);
	nfa_scratch_reset(m->scratch);
	return (val);
}

static int
cond_holds(struct runctx *rc, uint32_t ci)
{
	const nfa_cond *c = &rc->m->prog->conds[ci];

	switch ((nfa_cond_op) c->op) {
	case NFA_COND_TRUE:
		return (1);
	case NFA_COND_EXPR:
		return (expr_holds(rc, c->a));
	case NFA_COND_NOT:
		return (!cond_holds(rc, c->a));
	case NFA_COND_AND:
		return (cond_holds(rc, c->a) && cond_holds(rc, c->b));
	}
	return (0);
}

/* ---- the decision graph ------------------------------------------------ */

static cep_err
push_state(nfa_matcher *m, uint32_t *depth, uint16_t state)
{
	size_t cap = m->stack_cap;

	if (cep_grow(&m->stack, &cap, (size_t) *depth + 1, sizeof(uint16_t)) !=
	    0) {
		return (CEP_ENOMEM);
	}
	m->stack_cap         = (uint32_t) cap;
	m->stack[(*depth)++] = state;
	return (CEP_OK);
}

/* decision_graph is createDecisionGraph: the TAKE and IGNORE edges whose
 * conditions hold, from the run's state and every state reached from it by
 * PROCEED edges whose conditions hold, in FlinkCEP's (stack) order. */
static cep_err
decision_graph(struct runctx *rc)
{
	nfa_matcher    *m     = rc->m;
	const nfa_prog *p     = m->prog;
	uint32_t        depth = 0;
	cep_err         rv;

	m->nfound = 0;
	if ((rv = push_state(m, &depth, rc->run->state)) != CEP_OK) {
		return (rv);
	}
	while (depth > 0) {
		const nfa_state *s = &p->states[m->stack[--depth]];
		for (uint32_t i = 0; i < s->nedges; i++) {
			uint32_t        ei = s->edge0 + i;
			const nfa_edge *e  = &p->edges[ei];
			if (!cond_holds(rc, e->cond)) {
				continue;
			}
			if (e->action == NFA_PROCEED) {
				rv = push_state(m, &depth, e->to);
			} else {
				size_t cap   = m->found_cap;
				rv           = cep_grow(&m->found, &cap,
				                   (size_t) m->nfound + 1,
				                   sizeof(uint32_t)) != 0
				              ? CEP_ENOMEM
				              : CEP_OK;
				m->found_cap = (uint32_t) cap;
				if (rv == CEP_OK) {
					m->found[m->nfound++] = ei;
				}
			}
			if (rv != CEP_OK) {
				return (rv);
			}
		}
	}
	return (rc->err);
}

/* final_after_proceed is findFinalStateAfterProceed: whether the state a
 * run just moved to can reach the final state by PROCEED edges alone (an
 * optional rest of the pattern), judged in the old run's context. */
static int
final_after_proceed(struct runctx *rc, uint16_t from, uint16_t *final)
{
	nfa_matcher    *m = rc->m;
	const nfa_prog *p = m->prog;
	/* PROCEED chains are short; a fixed stack is plenty and avoids
	 * disturbing the decision graph's stack. */
	uint16_t stack[64];
	uint32_t depth = 0;

	stack[depth++] = from;
	while (depth > 0) {
		const nfa_state *s = &p->states[stack[--depth]];
		for (uint32_t i = 0; i < s->nedges; i++) {
			const nfa_edge *e = &p->edges[s->edge0 + i];
			if (e->action != NFA_PROCEED ||
			    !cond_holds(rc, e->cond)) {
				continue;
			}
			if (p->states[e->to].type == NFA_ST_FINAL) {
				*final = e->to;
				return (1);
			}
			if (depth < sizeof(stack) / sizeof(stack[0])) {
				stack[depth++] = e->to;
			}
		}
	}
	return (0);
}

/* ---- results ----------------------------------------------------------- */

static cep_err
append_run(nfa_run **arr, uint32_t *n, uint32_t *cap, const nfa_run *r)
{
	size_t c = *cap;

	if (cep_grow(arr, &c, (size_t) *n + 1, sizeof(nfa_run)) != 0) {
		return (CEP_ENOMEM);
	}
	*cap           = (uint32_t) c;
	(*arr)[(*n)++] = *r;
	return (CEP_OK);
}

/* add_result files a new computation state: final ones are matches, a stop
 * state kills the branch, others are kept for the next event. */
static cep_err
add_result(nfa_matcher *m, const nfa_run *r, int *stop)
{
	uint8_t type = m->prog->states[r->state].type;
	cep_err rv;

	if (type == NFA_ST_STOP) {
		*stop = 1;
		return (CEP_OK);
	}
	if (type == NFA_ST_FINAL) {
		rv = append_run(&m->done, &m->ndone, &m->done_cap, r);
	} else {
		rv = append_run(&m->next, &m->nnext, &m->next_cap, r);
	}
	if (rv == CEP_OK) {
		nfa__hist_ref(&m->hist, r->node);
	}
	return (rv);
}

static cep_err
current_slot(nfa_matcher *m, uint32_t *slot)
{
	cep_err rv;

	if (m->cur_slot == 0 &&
	    (rv = nfa__hist_store(&m->hist, m->cur_ev, m->cur_ts, m->cur_seq,
	         &m->cur_slot)) != CEP_OK) {
		return (rv);
	}
	*slot = m->cur_slot;
	return (CEP_OK);
}

/* next_states is computeNextStates for one run. */
static cep_err
next_states(nfa_matcher *m, const nfa_run *run, int *stop)
{
	const nfa_prog *p     = m->prog;
	struct runctx   rc    = { m, run, 0, CEP_OK };
	int             start = is_start(m, run);
	cep_err         rv;

	if ((rv = decision_graph(&rc)) != CEP_OK) {
		return (rv);
	}
	for (uint32_t i = 0; i < m->nfound; i++) {
		const nfa_edge *e = &p->edges[m->found[i]];
		nfa_run         r;
		uint32_t        slot, node;
		uint16_t        final;

		if (e->action == NFA_IGNORE) {
			if (start) {
				continue;
			}
			r       = *run;
			r.state = e->to;
			if ((rv = add_result(m, &r, stop)) != CEP_OK) {
				return (rv);
			}
			continue;
		}
		/* TAKE: record the event under the taking state's step. */
		if ((rv = current_slot(m, &slot)) != CEP_OK ||
		    (rv = nfa__hist_node(&m->hist, slot, run->node,
		         p->states[e->from].step, &node)) != CEP_OK) {
			return (rv);
		}
		r.node      = node;
		r.state     = e->to;
		r.pad       = 0;
		r.start_ts  = start ? m->cur_ts : run->start_ts;
		r.start_seq = start ? m->cur_seq : run->start_seq;
		r.prev_ts   = m->cur_ts;
		rv          = add_result(m, &r, stop);
		if (rv == CEP_OK && final_after_proceed(&rc, e->to, &final)) {
			r.state = final;
			rv      = add_result(m, &r, stop);
		}
		/* Drop the creator's reference: the results hold theirs. */
		nfa__hist_unref(&m->hist, node);
		if (rv == CEP_OK) {
			rv = rc.err;
		}
		if (rv != CEP_OK) {
			return (rv);
		}
	}
	if (start) {
		return (add_result(m, run, stop));
	}
	return (rc.err);
}

/* nfa__start_takes says whether the current event begins a partial match:
 * whether the start run would take it.  A key without state that does not
 * is left as it was, without state (matcher.c, step_new_key). */
cep_err
nfa__start_takes(nfa_matcher *m, int *takes)
{
	const nfa_run start = { 0, m->prog->start, 0, -1, -1, NFA_NO_SEQ };
	struct runctx rc    = { m, &start, 0, CEP_OK };
	cep_err       rv;

	*takes = 0;
	if ((rv = decision_graph(&rc)) != CEP_OK) {
		return (rv);
	}
	for (uint32_t i = 0; i < m->nfound && !*takes; i++) {
		*takes = m->prog->edges[m->found[i]].action == NFA_TAKE;
	}
	return (CEP_OK);
}

/* ---- ordering and emitting matches ------------------------------------ */

/* gather fills m->out with a path's events, oldest first. */
static cep_err
gather(nfa_matcher *m, uint32_t node, size_t *n)
{
	const nfa_hist *h     = &m->hist;
	size_t          count = 0;

	for (uint32_t i = node; i != 0; i = h->nodes[i].prev) {
		count++;
	}
	if (cep_grow(&m->out, &m->out_cap, count, sizeof(nfa_match_event)) !=
	    0) {
		return (CEP_ENOMEM);
	}
	*n = count;
	for (uint32_t i = node; i != 0; i = h->nodes[i].prev) {
		const nfa_evslot *s = &h->evs[h->nodes[i].ev];
		nfa_match_event  *o = &m->out[--count];
		o->ev               = s->ev;
		o->ts               = s->ts;
		o->seq              = s->seq;
		o->step             = h->nodes[i].step;
	}
	return (CEP_OK);
}

static cep_err
emit(nfa_matcher *m, const nfa_key *k, const nfa_run *r, int timeout)
{
	nfa_match match;
	size_t    n;
	cep_err   rv;

	if ((rv = gather(m, r->node, &n)) != CEP_OK) {
		return (rv);
	}
	match.prog    = m->prog;
	match.key     = &k->val;
	match.timeout = timeout;
	match.nevents = n;
	match.events  = m->out;
	match.at      = m->now;
	if (timeout) {
		m->st.timeouts++;
	} else {
		m->st.matches++;
	}
	return (m->fn(m->arg, &match));
}

/* seq_list writes a path's positions, oldest first, after *used in
 * order_seqs: per event its time (biased to sort as unsigned) and its
 * sequence, the order events are processed in; returns its length. */
static cep_err
seq_list(nfa_matcher *m, uint32_t node, size_t *used, size_t *len)
{
	const nfa_hist *h = &m->hist;
	size_t          n = 0;

	for (uint32_t i = node; i != 0; i = h->nodes[i].prev) {
		n += 2;
	}
	if (cep_grow(&m->order_seqs, &m->order_cap, *used + n,
	        sizeof(uint64_t)) != 0) {
		return (CEP_ENOMEM);
	}
	*len = n;
	for (uint32_t i = node; i != 0; i = h->nodes[i].prev) {
		const nfa_evslot *e        = &h->evs[h->nodes[i].ev];
		m->order_seqs[*used + --n] = e->seq;
		m->order_seqs[*used + --n] = (uint64_t) e->ts ^ (1ull << 63);
	}
	*used += *len;
	return (CEP_OK);
}

static int
seq_less(const nfa_matcher *m, const struct seqref *a, const struct seqref *b)
{
	for (size_t i = 0; i < a->len && i < b->len; i++) {
		uint64_t x = m->order_seqs[a->off + i];
		uint64_t y = m->order_seqs[b->off + i];
		if (x != y) {
			return (x < y);
		}
	}
	return (a->len < b->len);
}

/* sort_runs orders runs by their events' positions (compared event by
 * event, in the order they were processed): a stable merge sort, as the
 * matches completing on one event can be many.  Its workspace lives in the
 * matcher. */
static cep_err
sort_runs(nfa_matcher *m, nfa_run *runs, uint32_t n)
{
	struct order_item *w;
	size_t             used = 0;
	cep_err            rv;

	if (n < 2) {
		return (CEP_OK);
	}
	if (cep_grow(&m->order, &m->order_n_cap, n, sizeof(*m->order)) != 0) {
		return (CEP_ENOMEM);
	}
	w = m->order;
	for (uint32_t i = 0; i < n; i++) {
		w[i].ref.off = used;
		if ((rv = seq_list(m, runs[i].node, &used, &w[i].ref.len)) !=
		    CEP_OK) {
			return (rv);
		}
	}
	for (uint32_t width = 1; width < n; width *= 2) {
		for (uint32_t lo = 0; lo < n; lo += 2 * width) {
			uint32_t mid = lo + width < n ? lo + width : n;
			uint32_t hi  = lo + 2 * width < n ? lo + 2 * width : n;
			uint32_t i = lo, j = mid, o = lo;
			while (i < mid || j < hi) {
				int right = j < hi &&
				    (i >= mid ||
				        seq_less(m, &w[j].ref, &w[i].ref));
				uint32_t from = right ? j++ : i++;
				w[o].tmp_ref  = w[from].ref;
				w[o].tmp_run  = runs[from];
				o++;
			}
		}
		for (uint32_t i = 0; i < n; i++) {
			w[i].ref = w[i].tmp_ref;
			runs[i]  = w[i].tmp_run;
		}
	}
	return (CEP_OK);
}

/* ---- after-match skip ------------------------------------------------- */

/* before says whether the event at (ta, sa) was processed before the one
 * at (tb, sb).  Events are processed in (time, sequence) order, which is
 * the order of their sequences only when the input is sorted by time (and
 * not at all for derived streams, whose sequences are digests). */
static int
before(int64_t ta, uint64_t sa, int64_t tb, uint64_t sb)
{
	return (ta != tb ? ta < tb : sa < sb);
}

/* pruning_pos returns the position (time, sequence) of the skip
 * strategy's pruning event for a match and whether runs starting exactly
 * there are pruned too; 0 when the strategy prunes nothing for it. */
static int
pruning_pos(nfa_matcher *m, const nfa_run *match, int64_t *ts, uint64_t *seq,
    int *inclusive)
{
	const nfa_hist   *h    = &m->hist;
	uint16_t          step = m->prog->skip_step;
	const nfa_evslot *e;
	int               found = 0;

	switch (m->pat->skip) {
	case NFA_SKIP_NO_SKIP:
		return (0);
	case NFA_SKIP_TO_NEXT:
		/* The match's first event. */
		*ts        = match->start_ts;
		*seq       = match->start_seq;
		*inclusive = 1;
		return (1);
	case NFA_SKIP_PAST_LAST_EVENT:
		e          = &h->evs[h->nodes[match->node].ev];
		*ts        = e->ts;
		*seq       = e->seq;
		*inclusive = 1;
		return (1);
	case NFA_SKIP_TO_FIRST:
	case NFA_SKIP_TO_LAST:
		*inclusive = 0;
		for (uint32_t i = match->node; i != 0; i = h->nodes[i].prev) {
			if (h->nodes[i].step != step) {
				continue;
			}
			e     = &h->evs[h->nodes[i].ev];
			*ts   = e->ts;
			*seq  = e->seq;
			found = 1;
			/* Walking backwards: the first hit is the last event.
			 */
			if (m->pat->skip == NFA_SKIP_TO_LAST) {
				return (1);
			}
		}
		return (found);
	}
	return (0);
}

static uint32_t
prune(nfa_matcher *m, nfa_run *runs, uint32_t n, int64_t ts, uint64_t seq,
    int inclusive)
{
	uint32_t kept = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t s  = runs[i].start_seq;
		int64_t  t  = runs[i].start_ts;
		int      go = s != NFA_NO_SEQ &&
		    (before(t, s, ts, seq) ||
		        (inclusive && t == ts && s == seq));
		if (go) {
			nfa__hist_unref(&m->hist, runs[i].node);
		} else {
			runs[kept++] = runs[i];
		}
	}
	return (kept);
}

/* emit_held emits the key's held matches in order, each pruning what the
 * skip strategy discards; with `gate`, only while no partial match of the
 * key started before the next one (FlinkCEP's processMatchesAccording-
 * ToSkipStrategy). */
static cep_err
emit_held(nfa_matcher *m, nfa_key *k, int gate)
{
	cep_err rv;

	while (k->nheld > 0) {
		nfa_run  first = k->held[0];
		int64_t  ts;
		uint64_t seq;
		int      inclusive;

		/* Runs are sorted by start, the start run (no start) last. */
		if (gate && k->nruns > 0 &&
		    k->runs[0].start_seq != NFA_NO_SEQ &&
		    before(k->runs[0].start_ts, k->runs[0].start_seq,
		        first.start_ts, first.start_seq)) {
			break;
		}
		memmove(
		    k->held, k->held + 1, (k->nheld - 1) * sizeof(nfa_run));
		k->nheld--;
		if (pruning_pos(m, &first, &ts, &seq, &inclusive)) {
			k->nruns =
			    prune(m, k->runs, k->nruns, ts, seq, inclusive);
			k->nheld =
			    prune(m, k->held, k->nheld, ts, seq, inclusive);
		}
		rv = emit(m, k, &first, 0);
		nfa__hist_unref(&m->hist, first.node);
		if (rv != CEP_OK) {
			return (rv);
		}
	}
	return (CEP_OK);
}

/* complete handles the matches of one step (m->done). */
static cep_err
complete(nfa_matcher *m, nfa_key *k)
{
	cep_err rv;

	if (m->ndone == 0 && k->nheld == 0) {
		return (CEP_OK);
	}
	if (m->pat->skip == NFA_SKIP_NO_SKIP) {
		if ((rv = sort_runs(m, m->done, m->ndone)) != CEP_OK) {
			return (rv);
		}
		for (uint32_t i = 0; i < m->ndone; i++) {
			rv = emit(m, k, &m->done[i], 0);
			nfa__hist_unref(&m->hist, m->done[i].node);
			if (rv != CEP_OK) {
				for (uint32_t j = i + 1; j < m->ndone; j++) {
					nfa__hist_unref(
					    &m->hist, m->done[j].node);
				}
				m->ndone = 0;
				return (rv);
			}
		}
		m->ndone = 0;
		return (CEP_OK);
	}
	for (uint32_t i = 0; i < m->ndone; i++) {
		size_t cap = k->held_cap;
		if (cep_grow(&k->held, &cap, (size_t) k->nheld + 1,
		        sizeof(nfa_run)) != 0) {
			for (uint32_t j = i; j < m->ndone; j++) {
				nfa__hist_unref(&m->hist, m->done[j].node);
			}
			m->ndone = 0;
			return (CEP_ENOMEM);
		}
		k->held_cap         = (uint32_t) cap;
		k->held[k->nheld++] = m->done[i];
	}
	m->ndone = 0;
	if ((rv = sort_runs(m, k->held, k->nheld)) != CEP_OK) {
		return (rv);
	}
	return (emit_held(m, k, 1));
}

/* ---- bounds ------------------------------------------------------------ */

static uint32_t
partial_count(const nfa_matcher *m, const nfa_key *k)
{
	uint32_t n = k->nruns;

	if (n > 0 && is_start(m, &k->runs[n - 1])) {
		n--;
	}
	return (n);
}

/* bound applies max_partial_matches: the runs are ordered by start, so
 * the oldest are at the front and the newest just before the start run. */
static void
bound(nfa_matcher *m, nfa_key *k)
{
	uint64_t max  = m->pat->max_partial_matches;
	uint32_t live = partial_count(m, k), excess, keep_tail;

	if (max == 0 || live <= max) {
		return;
	}
	excess    = live - (uint32_t) max;
	keep_tail = k->nruns - live; /* the start run, if any */
	if (m->pat->overflow == NFA_OVERFLOW_DROP_OLDEST) {
		for (uint32_t i = 0; i < excess; i++) {
			nfa__hist_unref(&m->hist, k->runs[i].node);
		}
		memmove(k->runs, k->runs + excess,
		    (k->nruns - excess) * sizeof(nfa_run));
	} else {
		uint32_t from = live - excess;
		for (uint32_t i = from; i < live; i++) {
			nfa__hist_unref(&m->hist, k->runs[i].node);
		}
		memmove(k->runs + from, k->runs + live,
		    keep_tail * sizeof(nfa_run));
	}
	k->nruns -= excess;
	m->st.dropped += excess;
}

/* ---- the step ---------------------------------------------------------- */

static cep_err
replace_runs(nfa_key *k, const nfa_run *runs, uint32_t n)
{
	size_t cap = k->runs_cap;

	if (cep_grow(&k->runs, &cap, n, sizeof(nfa_run)) != 0) {
		return (CEP_ENOMEM);
	}
	k->runs_cap = (uint32_t) cap;
	memcpy(k->runs, runs, n * sizeof(nfa_run));
	k->nruns = n;
	return (CEP_OK);
}

static void
drop_results(nfa_matcher *m, uint32_t next_from, uint32_t done_from)
{
	for (uint32_t i = next_from; i < m->nnext; i++) {
		nfa__hist_unref(&m->hist, m->next[i].node);
	}
	for (uint32_t i = done_from; i < m->ndone; i++) {
		nfa__hist_unref(&m->hist, m->done[i].node);
	}
	m->nnext = next_from;
	m->ndone = done_from;
}

/* refuse_starts drops the partial matches the start run just began (the
 * start run itself is the last result): reject_start at the bound. */
static void
refuse_starts(nfa_matcher *m, uint32_t next_from)
{
	uint32_t last = m->nnext - 1;

	for (uint32_t i = next_from; i < last; i++) {
		nfa__hist_unref(&m->hist, m->next[i].node);
	}
	m->st.dropped += last - next_from;
	m->next[next_from] = m->next[last];
	m->nnext           = next_from + 1;
}

cep_err
nfa__process(nfa_matcher *m, nfa_key *k)
{
	uint64_t max = m->pat->max_partial_matches;
	int      at_bound;
	cep_err  rv;

	m->now   = m->cur_ts;
	at_bound = m->pat->overflow == NFA_OVERFLOW_REJECT_START && max > 0 &&
	    partial_count(m, k) >= max;
	m->nnext = 0;
	m->ndone = 0;
	for (uint32_t i = 0; i < k->nruns; i++) {
		uint32_t next_from = m->nnext;
		int      stop      = 0;

		if ((rv = next_states(m, &k->runs[i], &stop)) != CEP_OK) {
			drop_results(m, 0, 0);
			return (rv);
		}
		if (stop) {
			/* A negative step matched: this run's branches die,
			 * though matches it completed stand. */
			drop_results(m, next_from, m->ndone);
		} else if (at_bound && is_start(m, &k->runs[i]) &&
		    m->nnext > next_from) {
			refuse_starts(m, next_from);
		}
	}
	for (uint32_t i = 0; i < k->nruns; i++) {
		nfa__hist_unref(&m->hist, k->runs[i].node);
	}
	k->nruns = 0;
	if ((rv = replace_runs(k, m->next, m->nnext)) != CEP_OK) {
		drop_results(m, 0, 0);
		return (rv);
	}
	m->nnext = 0;
	if ((rv = complete(m, k)) != CEP_OK) {
		return (rv);
	}
	bound(m, k);
	return (CEP_OK);
}

/* ---- time -------------------------------------------------------------- */

static int
timed_out(const nfa_matcher *m, const nfa_run *r, int64_t t)
{
	int64_t gap = m->prog->states[r->state].gap;

	if (is_start(m, r)) {
		return (0);
	}
	return ((gap > 0 && t >= nfa__deadline(r->prev_ts, gap)) ||
	    (m->prog->within > 0 &&
	        t >= nfa__deadline(r->start_ts, m->prog->within)));
}

/* time_out times out the runs of key k whose deadline is t or earlier. */
static cep_err
time_out(nfa_matcher *m, nfa_key *k, int64_t t)
{
	uint32_t kept = 0;
	cep_err  rv   = CEP_OK;

	/* Timed-out runs wait in m->next (unused between steps) so that,
	 * as in FlinkCEP, completed pending matches go out before them. */
	m->ndone = 0;
	m->nnext = 0;
	for (uint32_t i = 0; i < k->nruns; i++) {
		nfa_run *r = &k->runs[i];
		if (rv != CEP_OK || !timed_out(m, r, t)) {
			/* After a failure the rest stays, to be freed later.
			 */
			k->runs[kept++] = *r;
			continue;
		}
		/* A pending not_followed_by whose window closed with no
		 * forbidden event completes; other runs time out. */
		if (m->prog->states[r->state].type == NFA_ST_PENDING) {
			rv = append_run(&m->done, &m->ndone, &m->done_cap, r);
		} else {
			rv = append_run(&m->next, &m->nnext, &m->next_cap, r);
		}
		if (rv != CEP_OK) {
			k->runs[kept++] = *r;
		}
	}
	if (rv != CEP_OK) {
		k->nruns = kept;
		drop_results(m, 0, 0);
		return (rv);
	}
	k->nruns = kept;
	rv       = complete(m, k);
	for (uint32_t i = 0; i < m->nnext; i++) {
		if (rv == CEP_OK && m->pat->timeouts) {
			rv = emit(m, k, &m->next[i], 1);
		}
		nfa__hist_unref(&m->hist, m->next[i].node);
	}
	m->nnext = 0;
	return (rv);
}

cep_err
nfa__flush_held(nfa_matcher *m, nfa_key *k)
{
	m->now = NFA_TIME_MAX;
	return (emit_held(m, k, 0));
}

/* expire ends a key idle for key_ttl: its partial matches time out,
 * then what was complete goes out. */
static cep_err
expire(nfa_matcher *m, nfa_key *k)
{
	cep_err rv = CEP_OK;

	for (uint32_t i = 0; i < k->nruns; i++) {
		nfa_run *r = &k->runs[i];
		if (rv == CEP_OK && m->pat->timeouts && r->node != 0) {
			rv = emit(m, k, r, 1);
		}
		nfa__hist_unref(&m->hist, r->node);
	}
	k->nruns = 0;
	if (rv == CEP_OK) {
		rv = emit_held(m, k, 0);
	}
	m->st.expired++;
	return (rv);
}

/* runs_deadline is the earliest max_gap or within deadline of k's runs. */
static int64_t
runs_deadline(const nfa_matcher *m, const nfa_key *k)
{
	int64_t next = NFA_TIME_MAX;

	for (uint32_t i = 0; i < k->nruns; i++) {
		const nfa_run *r   = &k->runs[i];
		int64_t        gap = m->prog->states[r->state].gap;
		if (is_start(m, r)) {
			continue;
		}
		if (gap > 0 && nfa__deadline(r->prev_ts, gap) < next) {
			next = nfa__deadline(r->prev_ts, gap);
		}
		if (m->prog->within > 0 &&
		    nfa__deadline(r->start_ts, m->prog->within) < next) {
			next = nfa__deadline(r->start_ts, m->prog->within);
		}
	}
	return (next);
}

/* ttl_deadline is when k expires if no event comes, NFA_TIME_MAX when it
 * holds nothing to expire. */
static int64_t
ttl_deadline(const nfa_matcher *m, const nfa_key *k)
{
	if (m->pat->key_ttl > 0 && (partial_count(m, k) > 0 || k->nheld > 0)) {
		return (nfa__deadline(k->last_ts, m->pat->key_ttl));
	}
	return (NFA_TIME_MAX);
}

int64_t
nfa__next_deadline(const nfa_matcher *m, const nfa_key *k)
{
	int64_t runs = runs_deadline(m, k);
	int64_t ttl  = ttl_deadline(m, k);

	return (ttl < runs ? ttl : runs);
}

cep_err
nfa__catch_up(nfa_matcher *m, nfa_key *k, int64_t t, int *expired)
{
	cep_err rv = CEP_OK;

	*expired = 0;
	while (rv == CEP_OK) {
		int64_t runs = runs_deadline(m, k);
		int64_t ttl  = ttl_deadline(m, k);
		if (ttl <= t && ttl <= runs) {
			*expired = 1;
			m->now   = ttl;
			return (expire(m, k));
		}
		if (runs > t) {
			break;
		}
		m->now = runs;
		rv     = time_out(m, k, runs);
	}
	return (rv);
}
