/* SPDX-License-Identifier: MIT */
/*
 * matcher.c: the keyed, event-time side of matching.
 *
 * Events are partitioned by the pattern's key into per-key state (the runs
 * and held matches exec.c works on), held in a reorder buffer until the
 * watermark passes them, then released in (time, ingress sequence) order.
 * Every key whose partial matches can expire has a timer on one heap; as
 * the watermark passes a timer the key's runs are advanced to it (timeouts,
 * pending not_followed_by completions) or, with key_ttl, the idle key is
 * expired.  A key with nothing but its start run holds no state and is
 * freed at once; its slot (with the capacity of its arrays) is recycled.
 *
 * This mirrors FlinkCEP's CepOperator: per key, events below the
 * watermark are processed in time order, each time first advancing the
 * key to it, and finally the key is advanced to the watermark.  Our
 * watermark W means "no event older than W will come" (an event at W may);
 * FlinkCEP's is one less, so everything works at T = W - 1: events with
 * time <= T are released and keys advanced to T.  Holding events at exactly
 * W back is what makes the order of equal times (by ingress sequence) safe
 * when events reach the matcher from several upstream channels.
 */
#include <math.h>
#include <string.h>

#include "nfa/nfa_impl.h"

/* Slots keep the arrays of a freed key up to this many runs. */
#define KEEP_RUNS_CAP 256u

static int
buffered_less(const void *a, const void *b)
{
	const struct buffered *x = a, *y = b;

	return (x->ts != y->ts ? x->ts < y->ts : x->seq < y->seq);
}

static int
timer_less(const void *a, const void *b)
{
	const struct timer *x = a, *y = b;

	return (x->at != y->at ? x->at < y->at : x->key < y->key);
}

static cep_err
fail(nfa_matcher *m, cep_err rv)
{
	if (rv != CEP_OK && m->failed == CEP_OK) {
		m->failed = rv;
	}
	return (rv);
}

/* ---- keys -------------------------------------------------------------- */

struct key_probe {
	const nfa_matcher *m;
	const cep_val     *val;
};

static int
key_eq(const void *ctx, uint32_t k)
{
	const struct key_probe *p = ctx;

	return (cep_val_equal(&p->m->keys[k].val, p->val));
}

/* extract_key reads the pattern's key field: a string, integer, boolean
 * or number; anything else is not matched by this pattern. */
static int
extract_key(const nfa_matcher *m, const cep_event *ev, cep_val *out)
{
	const cep_path *key = &m->pat->key;

	if (key->n == 0) {
		*out = cep_val_null();
		return (1);
	}
	cep_slot_val(ev, cep_event_find_path(ev, key->syms, key->n), out);
	switch ((cep_type) out->type) {
	case CEP_T_STR:
	case CEP_T_INT:
	case CEP_T_BOOL:
		return (1);
	case CEP_T_DOUBLE:
		return (!isnan(out->u.d));
	case CEP_T_NULL:
	case CEP_T_MAP:
	case CEP_T_ARRAY:
		break;
	}
	return (0);
}

cep_err
nfa__key_slot(nfa_matcher *m, uint32_t *out)
{
	uint32_t k;

	if (m->key_free != UINT32_MAX) {
		k           = m->key_free;
		m->key_free = m->keys[k].next_free;
	} else {
		size_t cap = m->keys_cap;
		if (m->nkeys == UINT32_MAX - 1 ||
		    cep_grow(&m->keys, &cap, (size_t) m->nkeys + 1,
		        sizeof(nfa_key)) != 0) {
			return (CEP_ENOMEM);
		}
		m->keys_cap = (uint32_t) cap;
		k           = m->nkeys++;
		memset(&m->keys[k], 0, sizeof(nfa_key));
	}
	m->keys[k].used      = 1;
	m->keys[k].next_free = UINT32_MAX;
	m->keys[k].timer     = NFA_TIME_MAX;
	m->keys[k].last_ts   = NFA_TIME_MIN;
	m->keys[k].nruns     = 0;
	m->keys[k].nheld     = 0;
	m->keys_live++;
	*out = k;
	return (CEP_OK);
}

/* Key strings come from the history's slab: a key without state is freed
 * at once and made again on its next event, which must not allocate. */
cep_err
nfa__key_set_val(nfa_matcher *m, nfa_key *k, const cep_val *v)
{
	k->val = *v;
	if (v->type == CEP_T_STR) {
		char *s = cep_slab_alloc(m->hist.slab, (size_t) v->len + 1);
		if (s == NULL) {
			k->val = cep_val_null();
			return (CEP_ENOMEM);
		}
		memcpy(s, v->u.s, v->len);
		s[v->len]  = '\0';
		k->val.u.s = s;
	}
	k->hash = cep_val_hash(v, NFA_KEY_SEED);
	return (CEP_OK);
}

void
nfa__key_free_val(nfa_matcher *m, nfa_key *k)
{
	if (k->val.type == CEP_T_STR) {
		cep_slab_free(m->hist.slab, (char *) k->val.u.s,
		    (size_t) k->val.len + 1);
	}
	k->val = cep_val_null();
}

cep_err
nfa__key_index(nfa_matcher *m, uint32_t k)
{
	return (cep_htab_insert(&m->key_index, m->keys[k].hash, k));
}

void
nfa__key_release(nfa_matcher *m, uint32_t k)
{
	nfa_key *key = &m->keys[k];

	cep_htab_remove_val(&m->key_index, key->hash, k);
	for (uint32_t i = 0; i < key->nruns; i++) {
		nfa__hist_unref(&m->hist, key->runs[i].node);
	}
	for (uint32_t i = 0; i < key->nheld; i++) {
		nfa__hist_unref(&m->hist, key->held[i].node);
	}
	nfa__key_free_val(m, key);
	if (key->runs_cap > KEEP_RUNS_CAP) {
		cep_free(key->runs, key->runs_cap * sizeof(nfa_run));
		key->runs     = NULL;
		key->runs_cap = 0;
	}
	if (key->held_cap > KEEP_RUNS_CAP) {
		cep_free(key->held, key->held_cap * sizeof(nfa_run));
		key->held     = NULL;
		key->held_cap = 0;
	}
	key->nruns = 0;
	key->nheld = 0;
	key->used  = 0;
	key->gen++;
	key->timer     = NFA_TIME_MAX;
	key->next_free = m->key_free;
	m->key_free    = k;
	m->keys_live--;
}

/* start_runs gives a key FlinkCEP's start run only. */
static cep_err
start_runs(nfa_matcher *m, nfa_key *key)
{
	size_t cap = key->runs_cap;

	if (cep_grow(&key->runs, &cap, 1, sizeof(nfa_run)) != 0) {
		return (CEP_ENOMEM);
	}
	key->runs_cap = (uint32_t) cap;
	memset(&key->runs[0], 0, sizeof(nfa_run));
	key->runs[0].state     = m->prog->start;
	key->runs[0].start_ts  = -1;
	key->runs[0].prev_ts   = -1;
	key->runs[0].start_seq = NFA_NO_SEQ;
	key->nruns             = 1;
	return (CEP_OK);
}

/* find_key looks a key up; *h gets its hash. */
static uint32_t *
find_key(nfa_matcher *m, const cep_val *v, uint64_t *h)
{
	struct key_probe probe = { m, v };

	*h = cep_val_hash(v, NFA_KEY_SEED);
	return (cep_htab_find(&m->key_index, *h, key_eq, &probe));
}

/* holds_state says whether a key has anything but its start run. */
static int
holds_state(const nfa_matcher *m, const nfa_key *k)
{
	if (k->nheld > 0) {
		return (1);
	}
	return (!(k->nruns == 1 &&
	    m->prog->states[k->runs[0].state].type == NFA_ST_START));
}

cep_err
nfa__schedule(nfa_matcher *m, uint32_t k)
{
	nfa_key     *key  = &m->keys[k];
	int64_t      next = nfa__next_deadline(m, key);
	struct timer t;

	if (next >= key->timer) {
		return (CEP_OK);
	}
	t.at  = next;
	t.key = k;
	t.gen = key->gen;
	if (cep_heap_push(&m->timers, &t) != CEP_OK) {
		return (CEP_ENOMEM);
	}
	key->timer = next;
	return (CEP_OK);
}

/* settle frees a key left without state, or schedules its next timer. */
static cep_err
settle(nfa_matcher *m, uint32_t k)
{
	if (!holds_state(m, &m->keys[k])) {
		nfa__key_release(m, k);
		return (CEP_OK);
	}
	return (nfa__schedule(m, k));
}

/* ---- processing -------------------------------------------------------- */

/* release_time is the time up to which events may be processed: below
 * the watermark, or up to it when events come in sequence order. */
static int64_t
release_time(const nfa_matcher *m, int64_t wm)
{
	if (m->ordered || wm == NFA_TIME_MAX || wm == NFA_TIME_MIN) {
		return (wm);
	}
	return (wm - 1);
}

/* step runs the automaton of one key over the current event. */
static cep_err
step(nfa_matcher *m, nfa_key *key)
{
	if (m->cur_ts > key->last_ts) {
		key->last_ts = m->cur_ts;
	}
	return (nfa__process(m, key));
}

/* spare_clear drops what the spare key holds. */
static void
spare_clear(nfa_matcher *m)
{
	nfa_key *s = &m->spare;

	for (uint32_t i = 0; i < s->nruns; i++) {
		nfa__hist_unref(&m->hist, s->runs[i].node);
	}
	for (uint32_t i = 0; i < s->nheld; i++) {
		nfa__hist_unref(&m->hist, s->held[i].node);
	}
	s->nruns = 0;
	s->nheld = 0;
	s->val   = cep_val_null();
}

/* swap_runs exchanges two arrays of runs and their capacities. */
static void
swap_runs(nfa_run **a, uint32_t *a_cap, nfa_run **b, uint32_t *b_cap)
{
	nfa_run *arr = *a;
	uint32_t cap = *a_cap;

	*a     = *b;
	*a_cap = *b_cap;
	*b     = arr;
	*b_cap = cap;
}

/* step_new_key runs the first event of a key that holds no state in the
 * spare key.  Most events start nothing (a card's auth for a rule that
 * begins with a password reset): those are seen off by nfa__start_takes
 * alone.  Creating, indexing and freeing a key for each of them would cost
 * an allocation and two index updates per event and pattern, so only a
 * key left with state moves into a slot of its own, taking the spare's
 * arrays. */
static cep_err
step_new_key(nfa_matcher *m, const cep_val *v, uint64_t h)
{
	nfa_key *s = &m->spare;
	nfa_key *key;
	uint32_t k;
	int      takes;
	cep_err  rv;

	if ((rv = nfa__start_takes(m, &takes)) != CEP_OK || !takes) {
		return (rv);
	}
	if ((rv = start_runs(m, s)) != CEP_OK) {
		return (rv);
	}
	s->val     = *v; /* borrowed: the event outlives the step */
	s->hash    = h;
	s->nheld   = 0;
	s->last_ts = NFA_TIME_MIN;
	s->timer   = NFA_TIME_MAX;
	if ((rv = step(m, s)) != CEP_OK || !holds_state(m, s)) {
		spare_clear(m);
		return (rv);
	}
	if ((rv = nfa__key_slot(m, &k)) != CEP_OK) {
		spare_clear(m);
		return (rv);
	}
	key = &m->keys[k];
	/* Swap the arrays: the slot keeps the spare's, the spare the slot's
	 * recycled ones. */
	key->nruns = s->nruns;
	key->nheld = s->nheld;
	swap_runs(&key->runs, &key->runs_cap, &s->runs, &s->runs_cap);
	swap_runs(&key->held, &key->held_cap, &s->held, &s->held_cap);
	s->nruns     = 0;
	s->nheld     = 0;
	s->val       = cep_val_null();
	key->last_ts = m->cur_ts;
	if ((rv = nfa__key_set_val(m, key, v)) != CEP_OK ||
	    (rv = nfa__key_index(m, k)) != CEP_OK) {
		nfa__key_release(m, k);
		return (rv);
	}
	return (settle(m, k));
}

/* step_key runs the current event on its key. */
static cep_err
step_key(nfa_matcher *m)
{
	cep_val   v;
	uint32_t  k;
	uint32_t *found;
	uint64_t  h;
	cep_err   rv;

	if (!extract_key(m, m->cur_ev, &v)) {
		m->st.bad_key++;
		return (CEP_OK);
	}
	if ((found = find_key(m, &v, &h)) == NULL) {
		return (step_new_key(m, &v, h));
	}
	k = *found;
	/* Deadlines up to the event pass first, however the watermark moved
	 * in between: a key idle for key_ttl expires before its next event. */
	if (m->keys[k].timer <= m->cur_ts) {
		int expired;
		rv = nfa__catch_up(m, &m->keys[k], m->cur_ts, &expired);
		if (expired) {
			nfa__key_release(m, k);
			return (rv != CEP_OK ? rv : step_new_key(m, &v, h));
		}
		if (rv != CEP_OK) {
			return (rv);
		}
	}
	if ((rv = step(m, &m->keys[k])) != CEP_OK) {
		return (rv);
	}
	return (settle(m, k));
}

/* process_one makes ev the current event (slot: where it is stored, 0 if
 * it is not) and runs it. */
static cep_err
process_one(nfa_matcher *m, const cep_event *ev, int64_t ts, uint64_t seq,
    uint32_t slot)
{
	cep_err rv;

	m->cur_ev   = ev;
	m->cur_ts   = ts;
	m->cur_seq  = seq;
	m->cur_slot = slot;
	m->epoch++;
	rv = step_key(m);
	/* An event stored during the step drops the storing reference; the
	 * nodes that took it hold their own. */
	if (slot == 0 && m->cur_slot != 0) {
		nfa__hist_ev_unref(&m->hist, m->cur_slot);
	}
	m->cur_ev   = NULL;
	m->cur_slot = 0;
	return (rv);
}

static int
timer_live(void *ctx, const void *item)
{
	const nfa_matcher  *m = ctx;
	const struct timer *t = item;
	const nfa_key      *k = &m->keys[t->key];

	return (k->used && k->gen == t->gen && k->timer == t->at);
}

static cep_err
fire_timers(nfa_matcher *m, int64_t t)
{
	const struct timer *top;
	cep_err             rv = CEP_OK;

	while (rv == CEP_OK && (top = cep_heap_top(&m->timers)) != NULL &&
	    top->at <= t) {
		struct timer tm;
		nfa_key     *k;
		int          expired;
		cep_heap_pop(&m->timers, &tm);
		if (!timer_live(m, &tm)) {
			continue;
		}
		k        = &m->keys[tm.key];
		k->timer = NFA_TIME_MAX;
		/* A timer is not moved later when the run it was set for
		 * goes (a match, a step); one firing before the key's
		 * earliest deadline only re-arms for that deadline.  So keys
		 * fire in the order of their real deadlines, as they do in a
		 * matcher restored from a snapshot, which sets each key's
		 * timer afresh. */
		if (nfa__next_deadline(m, k) > tm.at) {
			rv = nfa__schedule(m, tm.key);
			continue;
		}
		/* Only to the timer's time: the key's later deadlines wait
		 * their turn behind other keys' earlier ones. */
		if ((rv = nfa__catch_up(m, k, tm.at, &expired)) == CEP_OK &&
		    !expired) {
			rv = settle(m, tm.key);
		} else if (expired) {
			nfa__key_release(m, tm.key);
		}
	}
	/* Stale entries pile up as timers move; sweep them now and then. */
	if (m->timers.n > 4 * (size_t) m->keys_live + 1024) {
		cep_heap_filter(&m->timers, timer_live, m);
	}
	return (rv);
}

/* release runs an event once time has come to it: the deadlines up to its
 * time pass first, on every key, so that what comes out is in one order
 * however far the watermark jumps at a time. */
static cep_err
release(nfa_matcher *m, const cep_event *ev, int64_t ts, uint64_t seq,
    uint32_t slot)
{
	cep_err rv;

	if ((rv = fire_timers(m, ts)) != CEP_OK) {
		return (rv);
	}
	return (process_one(m, ev, ts, seq, slot));
}

static cep_err
advance(nfa_matcher *m, int64_t wm)
{
	const struct buffered *top;
	struct buffered        b;
	cep_err                rv = CEP_OK;

	int64_t t = release_time(m, wm);

	if (wm <= m->wm) {
		return (CEP_OK);
	}
	m->wm = wm;
	while (rv == CEP_OK && (top = cep_heap_top(&m->buffer)) != NULL &&
	    top->ts <= t) {
		cep_heap_pop(&m->buffer, &b);
		rv = release(m, m->hist.evs[b.slot].ev, b.ts, b.seq, b.slot);
		nfa__hist_ev_unref(&m->hist, b.slot);
	}
	if (rv == CEP_OK) {
		rv = fire_timers(m, t);
	}
	return (rv);
}

cep_err
nfa_matcher_push(nfa_matcher *m, const cep_event *ev, int64_t ts, uint64_t seq,
    int64_t wm, int *late)
{
	cep_err rv;

	if (m->failed != CEP_OK) {
		return (m->failed);
	}
	if (late != NULL) {
		*late = ts < m->wm;
	}
	if (ts < m->wm) {
		m->st.late++;
		return (fail(m, advance(m, wm)));
	}
	m->st.events++;
	if (m->buffer.n == 0 &&
	    ts <= release_time(m, wm > m->wm ? wm : m->wm)) {
		/* Already releasable: no need to buffer. */
		rv = release(m, ev, ts, seq, 0);
	} else {
		struct buffered b = { ts, seq, 0 };
		rv = nfa__hist_store(&m->hist, ev, ts, seq, &b.slot);
		if (rv == CEP_OK &&
		    (rv = cep_heap_push(&m->buffer, &b)) != CEP_OK) {
			nfa__hist_ev_unref(&m->hist, b.slot);
		}
	}
	if (rv == CEP_OK) {
		rv = advance(m, wm);
	}
	return (fail(m, rv));
}

cep_err
nfa_matcher_advance(nfa_matcher *m, int64_t wm)
{
	if (m->failed != CEP_OK) {
		return (m->failed);
	}
	return (fail(m, advance(m, wm)));
}

cep_err
nfa_matcher_finish(nfa_matcher *m)
{
	cep_err rv;

	if (m->failed != CEP_OK) {
		return (m->failed);
	}
	if ((rv = advance(m, NFA_TIME_MAX)) != CEP_OK) {
		return (fail(m, rv));
	}
	for (uint32_t k = 0; rv == CEP_OK && k < m->nkeys; k++) {
		if (m->keys[k].used && m->keys[k].nheld > 0) {
			rv = nfa__flush_held(m, &m->keys[k]);
			if (rv == CEP_OK) {
				rv = settle(m, k);
			}
		}
	}
	return (fail(m, rv));
}

/* ---- life cycle -------------------------------------------------------- */

void
nfa_matcher_destroy(nfa_matcher *m)
{
	size_t nleaves;

	if (m == NULL) {
		return;
	}
	nleaves = m->pat != NULL ? m->pat->nleaves : 0;
	for (uint32_t k = 0; k < m->nkeys; k++) {
		nfa_key *key = &m->keys[k];
		nfa__key_free_val(m, key);
		cep_free(key->runs, key->runs_cap * sizeof(nfa_run));
		cep_free(key->held, key->held_cap * sizeof(nfa_run));
	}
	cep_free(m->keys, m->keys_cap * sizeof(nfa_key));
	cep_free(m->spare.runs, m->spare.runs_cap * sizeof(nfa_run));
	cep_free(m->spare.held, m->spare.held_cap * sizeof(nfa_run));
	cep_htab_fini(&m->key_index);
	cep_heap_fini(&m->buffer);
	cep_heap_fini(&m->timers);
	nfa__hist_fini(&m->hist);
	nfa_scratch_destroy(m->scratch);
	if (m->prog != NULL) {
		cep_free(
		    m->cache, m->prog->nexprs * sizeof(struct cache_entry));
	}
	cep_free(m->next, m->next_cap * sizeof(nfa_run));
	cep_free(m->done, m->done_cap * sizeof(nfa_run));
	cep_free(m->found, m->found_cap * sizeof(uint32_t));
	cep_free(m->stack, m->stack_cap * sizeof(uint16_t));
	cep_free(m->mat_events, m->mat_cap * sizeof(*m->mat_events));
	cep_free(m->mat_count, nleaves * sizeof(uint32_t));
	cep_free(m->mat_off, nleaves * sizeof(uint32_t));
	cep_free(m->mat_pos, nleaves * sizeof(uint32_t));
	cep_free(m->out, m->out_cap * sizeof(nfa_match_event));
	cep_free(m->order_seqs, m->order_cap * sizeof(uint64_t));
	cep_free(m->order, m->order_n_cap * sizeof(*m->order));
	nfa_prog_unref(m->prog);
	cep_free(m, sizeof(*m));
}

cep_err
nfa_matcher_create(
    nfa_prog *prog, nfa_match_fn fn, void *arg, nfa_matcher **out)
{
	nfa_matcher *m = cep_zalloc(sizeof(*m));
	size_t       nleaves;

	if (m == NULL) {
		return (CEP_ENOMEM);
	}
	nfa_prog_ref(prog);
	m->prog     = prog;
	m->pat      = prog->pattern;
	m->fn       = fn;
	m->arg      = arg;
	m->wm       = NFA_TIME_MIN;
	m->key_free = UINT32_MAX;
	nleaves     = m->pat->nleaves;
	cep_htab_init(&m->key_index);
	cep_heap_init(&m->buffer, sizeof(struct buffered), buffered_less);
	cep_heap_init(&m->timers, sizeof(struct timer), timer_less);
	if (nfa__hist_init(&m->hist) != CEP_OK ||
	    (m->scratch = nfa_scratch_create()) == NULL ||
	    (m->cache = cep_calloc(
	         prog->nexprs + 1, sizeof(struct cache_entry))) == NULL ||
	    (m->mat_count = cep_calloc(nleaves, sizeof(uint32_t))) == NULL ||
	    (m->mat_off = cep_calloc(nleaves, sizeof(uint32_t))) == NULL ||
	    (m->mat_pos = cep_calloc(nleaves, sizeof(uint32_t))) == NULL) {
		nfa_matcher_destroy(m);
		return (CEP_ENOMEM);
	}
	*out = m;
	return (CEP_OK);
}

void
nfa_matcher_set_ordered(nfa_matcher *m, int ordered)
{
	m->ordered = ordered;
}

int64_t
nfa_matcher_watermark(const nfa_matcher *m)
{
	return (m->wm);
}

void
nfa_matcher_stats(const nfa_matcher *m, nfa_stats *out)
{
	uint64_t bytes = sizeof(*m) + cep_slab_bytes(m->hist.slab) +
	    (m->spare.runs_cap + m->spare.held_cap) * sizeof(nfa_run);

	*out          = m->st;
	out->partial  = 0;
	out->keys     = m->keys_live;
	out->buffered = m->buffer.n;
	out->stored   = m->hist.ev_live;
	for (uint32_t k = 0; k < m->nkeys; k++) {
		const nfa_key *key = &m->keys[k];
		bytes += sizeof(nfa_key) +
		    (key->runs_cap + key->held_cap) * sizeof(nfa_run);
		if (!key->used) {
			continue;
		}
		for (uint32_t i = 0; i < key->nruns; i++) {
			out->partial +=
			    m->prog->states[key->runs[i].state].type !=
			    NFA_ST_START;
		}
	}
	bytes += m->hist.evs_cap * sizeof(nfa_evslot) +
	    m->hist.nodes_cap * sizeof(nfa_node) +
	    (m->key_index.mask + 1) * sizeof(cep_hslot) +
	    m->buffer.cap * sizeof(struct buffered) +
	    m->timers.cap * sizeof(struct timer);
	out->bytes = bytes;
}
