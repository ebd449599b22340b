/* SPDX-License-Identifier: MIT */
/*
 * snapshot.c: saving a matcher's state to bytes and restoring it.
 *
 * Layout (little-endian; varints are LEB128):
 *
 *	"CEPM" u32 version, u64 program fingerprint, i64 watermark
 *	7 varint counters (events, late, bad_key, matches, timeouts,
 *	    dropped, expired)
 *	symbols: n, then (old id, name) - the field names the events use
 *	events:  n, then (ts, seq, block): slots 1..n
 *	nodes:   n, then (event slot, previous node, step): nodes 1..n
 *	keys:    n, then (index, value, last_ts, runs, held matches)
 *	free key slots: n, then their indices in free-list order
 *	buffer:  n, then (ts, seq, slot)
 *
 * Events and nodes are renumbered densely, in pool order, so that no index
 * in a snapshot exceeds what the snapshot itself holds: a damaged or
 * hostile one cannot make restore size a pool beyond its own length.
 * Nothing orders by those indices (the pools' free lists are rebuilt in
 * any order).  Key slots are kept as they are, free ones included, since
 * the slot a new key takes orders its timers and its flush at the end;
 * every slot is listed, so they too are bounded by the snapshot's length.
 * Symbols are saved by name because another process numbers them
 * differently; event blocks are remapped on restore.  Reference counts are
 * not saved: restore recounts them from the structure, which also proves
 * every stored event and node is referenced and every chain of nodes ends
 * (a damaged snapshot is refused, never trusted).
 */
#include <string.h>

#include "cep/keytab.h"
#include "nfa/nfa_impl.h"

#define MAGIC 0x4d504543u /* "CEPM" */
#define VERSION 3u

/* ---- saving ------------------------------------------------------------ */

struct symset {
	cep_sym *syms;
	size_t   n;
	size_t   cap;
	cep_htab seen;
	int      failed;
};

static int
sym_eq(const void *ctx, uint32_t i)
{
	const struct symset *s = ((const void *const *) ctx)[0];
	cep_sym w = *(const cep_sym *) ((const void *const *) ctx)[1];

	return (s->syms[i] == w);
}

static void
collect_sym(void *arg, cep_sym sym)
{
	struct symset *s      = arg;
	const void    *ctx[2] = { s, &sym };
	uint64_t       h      = cep_hash64(&sym, sizeof(sym), 0);

	if (s->failed || cep_htab_find(&s->seen, h, sym_eq, ctx) != NULL) {
		return;
	}
	if (cep_grow(&s->syms, &s->cap, s->n + 1, sizeof(cep_sym)) != 0 ||
	    cep_htab_insert(&s->seen, h, (uint32_t) s->n) != CEP_OK) {
		s->failed = 1;
		return;
	}
	s->syms[s->n++] = sym;
}

/* Dense numbers of the live events and nodes, by pool index (0 stays 0). */
struct renumber {
	uint32_t *ev;
	uint32_t *node;
};

/* renumber_pools numbers the live events and nodes 1, 2, ... in pool
 * order. */
static cep_err
renumber_pools(const nfa_hist *h, struct renumber *rn)
{
	uint32_t next = 0;

	rn->ev   = cep_calloc(h->nevs + 1, sizeof(uint32_t));
	rn->node = cep_calloc(h->nnodes + 1, sizeof(uint32_t));
	if (rn->ev == NULL || rn->node == NULL) {
		return (CEP_ENOMEM);
	}
	for (uint32_t i = 1; i < h->nevs; i++) {
		if (h->evs[i].ev != NULL) {
			rn->ev[i] = ++next;
		}
	}
	next = 0;
	for (uint32_t i = 1; i < h->nnodes; i++) {
		if (h->nodes[i].refs > 0) {
			rn->node[i] = ++next;
		}
	}
	return (CEP_OK);
}

static void
renumber_fini(const nfa_hist *h, struct renumber *rn)
{
	cep_free(rn->ev, (h->nevs + (size_t) 1) * sizeof(uint32_t));
	cep_free(rn->node, (h->nnodes + (size_t) 1) * sizeof(uint32_t));
}

static void
put_runs(
    cep_buf *b, const struct renumber *rn, const nfa_run *runs, uint32_t n)
{
	cep_buf_put_varint(b, n);
	for (uint32_t i = 0; i < n; i++) {
		cep_buf_put_varint(b, rn->node[runs[i].node]);
		cep_buf_put_varint(b, runs[i].state);
		cep_buf_put_i64(b, runs[i].start_ts);
		cep_buf_put_i64(b, runs[i].prev_ts);
		cep_buf_put_u64(b, runs[i].start_seq);
	}
}

cep_err
nfa_matcher_save(const nfa_matcher *m, cep_buf *b)
{
	const nfa_hist        *h = &m->hist;
	const struct buffered *buf;
	struct symset          syms;
	struct renumber        rn = { NULL, NULL };
	uint64_t               n;
	cep_err                rv;

	if (m->failed != CEP_OK) {
		return (m->failed);
	}
	cep_buf_put_u32(b, MAGIC);
	cep_buf_put_u32(b, VERSION);
	cep_buf_put_u64(b, m->prog->fingerprint);
	cep_buf_put_i64(b, m->wm);
	cep_buf_put_varint(b, m->st.events);
	cep_buf_put_varint(b, m->st.late);
	cep_buf_put_varint(b, m->st.bad_key);
	cep_buf_put_varint(b, m->st.matches);
	cep_buf_put_varint(b, m->st.timeouts);
	cep_buf_put_varint(b, m->st.dropped);
	cep_buf_put_varint(b, m->st.expired);

	memset(&syms, 0, sizeof(syms));
	cep_htab_init(&syms.seen);
	for (uint32_t i = 1; i < h->nevs; i++) {
		if (h->evs[i].ev != NULL) {
			cep_event_each_sym(h->evs[i].ev, collect_sym, &syms);
		}
	}
	if (!syms.failed) {
		cep_buf_put_varint(b, syms.n);
		for (size_t i = 0; i < syms.n; i++) {
			size_t      len;
			const char *name = cep_sym_name(syms.syms[i], &len);
			cep_buf_put_varint(b, syms.syms[i]);
			cep_buf_put_blob(b, name, len);
		}
	}
	cep_free(syms.syms, syms.cap * sizeof(cep_sym));
	cep_htab_fini(&syms.seen);
	if (syms.failed) {
		return (CEP_ENOMEM);
	}
	if ((rv = renumber_pools(h, &rn)) != CEP_OK) {
		renumber_fini(h, &rn);
		return (rv);
	}

	cep_buf_put_varint(b, h->ev_live);
	for (uint32_t i = 1; i < h->nevs; i++) {
		const nfa_evslot *s = &h->evs[i];
		if (s->ev != NULL) {
			cep_buf_put_i64(b, s->ts);
			cep_buf_put_u64(b, s->seq);
			cep_buf_put_blob(b, s->ev, s->ev->size);
		}
	}
	cep_buf_put_varint(b, h->node_live);
	for (uint32_t i = 1; i < h->nnodes; i++) {
		const nfa_node *nd = &h->nodes[i];
		if (nd->refs > 0) {
			cep_buf_put_varint(b, rn.ev[nd->ev]);
			cep_buf_put_varint(b, rn.node[nd->prev]);
			cep_buf_put_varint(b, nd->step);
		}
	}
	cep_buf_put_varint(b, m->keys_live);
	for (uint32_t k = 0; k < m->nkeys; k++) {
		const nfa_key *key = &m->keys[k];
		if (!key->used) {
			continue;
		}
		cep_buf_put_varint(b, k);
		cep_keytab_put_val(b, &key->val);
		cep_buf_put_i64(b, key->last_ts);
		put_runs(b, &rn, key->runs, key->nruns);
		put_runs(b, &rn, key->held, key->nheld);
	}
	n = 0;
	for (uint32_t k = m->key_free; k != UINT32_MAX;
	     k          = m->keys[k].next_free) {
		n++;
	}
	cep_buf_put_varint(b, n);
	for (uint32_t k = m->key_free; k != UINT32_MAX;
	     k          = m->keys[k].next_free) {
		cep_buf_put_varint(b, k);
	}
	n = m->buffer.n;
	cep_buf_put_varint(b, n);
	buf = (const struct buffered *) (const void *) m->buffer.items;
	for (uint64_t i = 0; i < n; i++) {
		cep_buf_put_i64(b, buf[i].ts);
		cep_buf_put_u64(b, buf[i].seq);
		cep_buf_put_varint(b, rn.ev[buf[i].slot]);
	}
	renumber_fini(h, &rn);
	return (cep_buf_status(b));
}

/* ---- restoring --------------------------------------------------------- */

struct symmap {
	cep_sym *from;
	cep_sym *to;
	size_t   n;
	cep_htab index;
};

static int
symmap_eq(const void *ctx, uint32_t i)
{
	const struct symmap *sm = ((const void *const *) ctx)[0];

	return (
	    sm->from[i] == *(const cep_sym *) ((const void *const *) ctx)[1]);
}

static cep_sym
symmap_get(void *arg, cep_sym old)
{
	struct symmap *sm     = arg;
	const void    *ctx[2] = { sm, &old };
	uint32_t      *i      = cep_htab_find(
	              &sm->index, cep_hash64(&old, sizeof(old), 0), symmap_eq, ctx);

	return (i == NULL ? CEP_SYM_NONE : sm->to[*i]);
}

static int
symmap_has(void *arg, cep_sym old)
{
	return (symmap_get(arg, old) != CEP_SYM_NONE);
}

static void
symmap_fini(struct symmap *sm)
{
	cep_free(sm->from, sm->n * sizeof(cep_sym));
	cep_free(sm->to, sm->n * sizeof(cep_sym));
	cep_htab_fini(&sm->index);
}

static cep_err
read_symbols(cep_rd *r, struct symmap *sm)
{
	uint64_t n = cep_rd_varint(r);

	if (n > cep_rd_left(r)) {
		return (CEP_ECORRUPT);
	}
	sm->from = cep_calloc((size_t) n + 1, sizeof(cep_sym));
	sm->to   = cep_calloc((size_t) n + 1, sizeof(cep_sym));
	sm->n    = (size_t) n + 1;
	if (sm->from == NULL || sm->to == NULL) {
		return (CEP_ENOMEM);
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t    old = cep_rd_varint(r);
		size_t      len;
		const char *name = cep_rd_blob(r, &len);
		/* No symbol has an empty or over-long name: such a name is
		 * damage, not a full symbol table. */
		if (cep_rd_status(r) != CEP_OK || old == 0 ||
		    old > UINT32_MAX || len == 0 || len > CEP_SYM_MAX_LEN ||
		    symmap_get(sm, (cep_sym) old) != CEP_SYM_NONE) {
			return (CEP_ECORRUPT);
		}
		sm->from[i] = (cep_sym) old;
		if ((sm->to[i] = cep_sym_intern(name, len)) == CEP_SYM_NONE) {
			return (CEP_ELIMIT);
		}
		if (cep_htab_insert(&sm->index,
		        cep_hash64(&sm->from[i], sizeof(cep_sym), 0),
		        (uint32_t) i) != CEP_OK) {
			return (CEP_ENOMEM);
		}
	}
	return (CEP_OK);
}

static cep_err
read_events(cep_rd *r, nfa_hist *h, struct symmap *sm)
{
	uint64_t n = cep_rd_varint(r);

	if (n > cep_rd_left(r)) {
		return (CEP_ECORRUPT);
	}
	for (uint64_t i = 0; i < n; i++) {
		int64_t     ts  = cep_rd_i64(r);
		uint64_t    seq = cep_rd_u64(r);
		size_t      len;
		const void *bytes = cep_rd_blob(r, &len);
		cep_event  *ev;
		uint32_t    slot;
		cep_err     rv;

		if (cep_rd_status(r) != CEP_OK ||
		    len > CEP_EVENT_DEFAULT_MAX_BYTES ||
		    len < sizeof(cep_event)) {
			return (CEP_ECORRUPT);
		}
		/* The blob sits at any offset of the snapshot: verify the
		 * block once copied to aligned memory. */
		if ((ev = cep_slab_alloc(h->slab, len)) == NULL) {
			return (CEP_ENOMEM);
		}
		memcpy(ev, bytes, len);
		if (cep_event_verify(ev, len, CEP_EVENT_DEFAULT_MAX_DEPTH,
		        symmap_has, sm) != CEP_OK) {
			cep_slab_free(h->slab, ev, len);
			return (CEP_ECORRUPT);
		}
		ev->refs  = 1;
		ev->flags = CEP_EVF_SLAB;
		if ((rv = cep_event_remap_syms(ev, symmap_get, sm)) !=
		        CEP_OK ||
		    (rv = nfa__hist_adopt(h, ev, ts, seq, &slot)) != CEP_OK) {
			cep_event_unref(ev, h->slab);
			return (rv);
		}
		h->evs[slot].refs = 0; /* recount counts the references */
	}
	return (CEP_OK);
}

static cep_err
read_nodes(cep_rd *r, nfa_hist *h, size_t nleaves)
{
	uint64_t n = cep_rd_varint(r);

	if (n > cep_rd_left(r)) {
		return (CEP_ECORRUPT);
	}
	if (cep_grow(&h->nodes, &h->nodes_cap, (size_t) n + 1,
	        sizeof(nfa_node)) != 0) {
		return (CEP_ENOMEM);
	}
	memset(h->nodes, 0, ((size_t) n + 1) * sizeof(nfa_node));
	h->nnodes = (uint32_t) n + 1;
	for (uint64_t i = 1; i <= n; i++) {
		uint64_t ev   = cep_rd_varint(r);
		uint64_t prev = cep_rd_varint(r);
		uint64_t step = cep_rd_varint(r);

		if (cep_rd_status(r) != CEP_OK || ev == 0 || ev >= h->nevs ||
		    prev > n || step >= nleaves) {
			return (CEP_ECORRUPT);
		}
		h->nodes[i].ev   = (uint32_t) ev;
		h->nodes[i].prev = (uint32_t) prev;
		h->nodes[i].step = (uint16_t) step;
		h->node_live++;
	}
	return (CEP_OK);
}

static cep_err
read_runs(cep_rd *r, const nfa_matcher *m, nfa_run **runs, uint32_t *nruns,
    uint32_t *cap)
{
	uint64_t n = cep_rd_varint(r);
	size_t   c = *cap;

	/* Each run takes at least 26 bytes: two varints and three 8-byte
	 * fields. */
	if (n > cep_rd_left(r) / 26) {
		return (CEP_ECORRUPT);
	}
	if (cep_grow(runs, &c, (size_t) n, sizeof(nfa_run)) != 0) {
		return (CEP_ENOMEM);
	}
	*cap = (uint32_t) c;
	for (uint64_t i = 0; i < n; i++) {
		nfa_run *run   = &(*runs)[i];
		uint64_t node  = cep_rd_varint(r);
		uint64_t state = cep_rd_varint(r);
		run->start_ts  = cep_rd_i64(r);
		run->prev_ts   = cep_rd_i64(r);
		run->start_seq = cep_rd_u64(r);
		run->pad       = 0;
		if (cep_rd_status(r) != CEP_OK || node >= m->hist.nnodes ||
		    (node != 0 && m->hist.nodes[node].ev == 0) ||
		    state >= m->prog->nstates) {
			return (CEP_ECORRUPT);
		}
		run->node  = (uint32_t) node;
		run->state = (uint16_t) state;
		*nruns     = (uint32_t) i + 1;
	}
	return (CEP_OK);
}

/* grow_marks grows the array of restored-slot marks to n, zeroing the
 * new part (cep_grow leaves it uninitialized). */
static cep_err
grow_marks(uint8_t **marks, size_t *cap, size_t n)
{
	size_t old = *cap;

	if (cep_grow(marks, cap, n, 1) != 0) {
		return (CEP_ENOMEM);
	}
	memset(*marks + old, 0, *cap - old);
	return (CEP_OK);
}

/* read_keys restores the keys at their saved slots; `restored` marks the
 * slots read (the others below the highest must be listed as free next). */
static cep_err
read_keys(cep_rd *r, nfa_matcher *m, uint8_t **restored, size_t *cap,
    uint64_t *nlive)
{
	uint64_t n = cep_rd_varint(r);

	*nlive = n;
	if (n > cep_rd_left(r)) {
		return (CEP_ECORRUPT);
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t idx = cep_rd_varint(r);
		cep_val  v;
		nfa_key *key;
		cep_err  rv;

		/* The slots are the live keys and the free slots listed
		 * after them, a byte each at least. */
		if (cep_rd_status(r) != CEP_OK || idx >= n + cep_rd_left(r)) {
			return (CEP_ECORRUPT);
		}
		while (m->nkeys <= idx) {
			uint32_t k;
			if ((rv = nfa__key_slot(m, &k)) != CEP_OK) {
				return (rv);
			}
		}
		if ((rv = grow_marks(restored, cap, (size_t) m->nkeys)) !=
		    CEP_OK) {
			return (rv);
		}
		if ((*restored)[idx]) {
			return (CEP_ECORRUPT);
		}
		(*restored)[idx] = 1;
		key              = &m->keys[idx];
		if ((rv = cep_keytab_read_val(r, &v)) != CEP_OK ||
		    (rv = nfa__key_set_val(m, key, &v)) != CEP_OK) {
			return (rv);
		}
		key->last_ts = cep_rd_i64(r);
		if ((rv = read_runs(r, m, &key->runs, &key->nruns,
		         &key->runs_cap)) != CEP_OK ||
		    (rv = read_runs(r, m, &key->held, &key->nheld,
		         &key->held_cap)) != CEP_OK ||
		    (rv = nfa__key_index(m, (uint32_t) idx)) != CEP_OK) {
			return (rv);
		}
	}
	return (CEP_OK);
}

/* read_free_keys reads the free key slots: with the live ones they must
 * be every slot.  They are freed last first, so that the list comes out
 * in the saved order. */
static cep_err
read_free_keys(
    cep_rd *r, nfa_matcher *m, uint8_t **restored, size_t *cap, uint64_t nlive)
{
	uint64_t  n = cep_rd_varint(r);
	uint64_t  total;
	uint32_t *order;
	cep_err   rv = CEP_OK;

	if (n > cep_rd_left(r)) {
		return (CEP_ECORRUPT);
	}
	total = nlive + n;
	if ((order = cep_calloc((size_t) n + 1, sizeof(uint32_t))) == NULL) {
		return (CEP_ENOMEM);
	}
	for (uint64_t i = 0; rv == CEP_OK && i < n; i++) {
		uint64_t idx = cep_rd_varint(r);
		if (cep_rd_status(r) != CEP_OK || idx >= total) {
			rv = CEP_ECORRUPT;
			break;
		}
		while (rv == CEP_OK && m->nkeys <= idx) {
			uint32_t k;
			rv = nfa__key_slot(m, &k);
		}
		if (rv == CEP_OK) {
			rv = grow_marks(restored, cap, (size_t) m->nkeys);
		}
		if (rv == CEP_OK && (*restored)[idx]) {
			rv = CEP_ECORRUPT;
		}
		if (rv == CEP_OK) {
			(*restored)[idx] = 1;
			order[i]         = (uint32_t) idx;
		}
	}
	if (rv == CEP_OK && m->nkeys != total) {
		rv = CEP_ECORRUPT;
	}
	for (uint64_t i = n; rv == CEP_OK && i-- > 0;) {
		nfa__key_release(m, order[i]);
	}
	cep_free(order, ((size_t) n + 1) * sizeof(uint32_t));
	return (rv);
}

static cep_err
read_buffer(cep_rd *r, nfa_matcher *m)
{
	uint64_t n = cep_rd_varint(r);

	if (n > cep_rd_left(r)) {
		return (CEP_ECORRUPT);
	}
	for (uint64_t i = 0; i < n; i++) {
		struct buffered b;
		uint64_t        slot;
		b.ts  = cep_rd_i64(r);
		b.seq = cep_rd_u64(r);
		slot  = cep_rd_varint(r);
		if (cep_rd_status(r) != CEP_OK || slot == 0 ||
		    slot >= m->hist.nevs || m->hist.evs[slot].ev == NULL) {
			return (CEP_ECORRUPT);
		}
		b.slot = (uint32_t) slot;
		if (cep_heap_push(&m->buffer, &b) != CEP_OK) {
			return (CEP_ENOMEM);
		}
	}
	return (CEP_OK);
}

static void
count_runs(nfa_hist *h, const nfa_run *runs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		nfa__hist_ref(h, runs[i].node);
	}
}

/* recount derives every reference count from the structure and checks
 * that nothing stored is unreferenced and no chain of nodes loops. */
static cep_err
recount(nfa_matcher *m)
{
	nfa_hist              *h = &m->hist;
	const struct buffered *buf =
	    (const struct buffered *) (const void *) m->buffer.items;
	uint8_t *state;
	cep_err  rv = CEP_OK;

	for (uint32_t i = 1; i < h->nnodes; i++) {
		if (h->nodes[i].ev != 0) {
			uint32_t p = h->nodes[i].prev;
			h->evs[h->nodes[i].ev].refs++;
			if (p != 0 &&
			    (p >= h->nnodes || h->nodes[p].ev == 0)) {
				return (CEP_ECORRUPT);
			}
			nfa__hist_ref(h, p);
		}
	}
	for (size_t i = 0; i < m->buffer.n; i++) {
		h->evs[buf[i].slot].refs++;
	}
	for (uint32_t k = 0; k < m->nkeys; k++) {
		if (m->keys[k].used) {
			count_runs(h, m->keys[k].runs, m->keys[k].nruns);
			count_runs(h, m->keys[k].held, m->keys[k].nheld);
		}
	}
	for (uint32_t i = 1; i < h->nevs; i++) {
		if (h->evs[i].ev != NULL && h->evs[i].refs == 0) {
			return (CEP_ECORRUPT);
		}
	}
	/* Every node referenced; every chain ends (0: unseen, 1: on the
	 * current walk, 2: known to end). */
	if ((state = cep_zalloc(h->nnodes)) == NULL) {
		return (CEP_ENOMEM);
	}
	for (uint32_t i = 1; rv == CEP_OK && i < h->nnodes; i++) {
		uint32_t n;
		if (h->nodes[i].ev == 0) {
			continue;
		}
		if (h->nodes[i].refs == 0) {
			rv = CEP_ECORRUPT;
			break;
		}
		for (n = i; n != 0 && state[n] == 0; n = h->nodes[n].prev) {
			state[n] = 1;
		}
		if (n != 0 && state[n] == 1) {
			rv = CEP_ECORRUPT;
		}
		for (n = i; n != 0 && state[n] == 1; n = h->nodes[n].prev) {
			state[n] = 2;
		}
	}
	cep_free(state, h->nnodes);
	return (rv);
}

/* rebuild_free_lists links the gaps the restore left in the pools of
 * events and nodes (their order does not matter). */
static void
rebuild_free_lists(nfa_matcher *m)
{
	nfa_hist *h = &m->hist;

	h->ev_free = 0;
	for (uint32_t i = h->nevs; i-- > 1;) {
		if (h->evs[i].ev == NULL) {
			h->evs[i].next_free = h->ev_free;
			h->ev_free          = i;
		}
	}
	h->node_free = 0;
	for (uint32_t i = h->nnodes; i-- > 1;) {
		if (h->nodes[i].ev == 0) {
			h->nodes[i].prev = h->node_free;
			h->node_free     = i;
		}
	}
}

/* reset returns the matcher to its fresh state after a failed restore. */
static void
reset(nfa_matcher *m)
{
	for (uint32_t k = 0; k < m->nkeys; k++) {
		nfa_key *key = &m->keys[k];
		nfa__key_free_val(m, key);
		cep_free(key->runs, key->runs_cap * sizeof(nfa_run));
		cep_free(key->held, key->held_cap * sizeof(nfa_run));
	}
	cep_free(m->keys, m->keys_cap * sizeof(nfa_key));
	m->keys      = NULL;
	m->nkeys     = 0;
	m->keys_cap  = 0;
	m->keys_live = 0;
	m->key_free  = UINT32_MAX;
	cep_htab_clear(&m->key_index);
	m->buffer.n = 0;
	m->timers.n = 0;
	nfa__hist_fini(&m->hist);
	if (nfa__hist_init(&m->hist) != CEP_OK) {
		m->failed = CEP_ENOMEM;
	}
	memset(&m->st, 0, sizeof(m->st));
	m->wm = NFA_TIME_MIN;
}

cep_err
nfa_matcher_restore(nfa_matcher *m, const void *data, size_t len)
{
	struct symmap sm;
	cep_rd        r;
	uint8_t      *restored     = NULL;
	size_t        restored_cap = 0;
	uint64_t      nlive        = 0;
	cep_err       rv;

	if (m->failed != CEP_OK) {
		return (m->failed);
	}
	if (m->nkeys != 0 || m->hist.ev_live != 0 || m->wm != NFA_TIME_MIN) {
		return (CEP_EINVAL);
	}
	memset(&sm, 0, sizeof(sm));
	cep_htab_init(&sm.index);
	cep_rd_init(&r, data, len);
	if (cep_rd_u32(&r) != MAGIC || cep_rd_u32(&r) != VERSION ||
	    cep_rd_u64(&r) != m->prog->fingerprint) {
		rv = CEP_ECORRUPT;
		goto out;
	}
	m->wm          = cep_rd_i64(&r);
	m->st.events   = cep_rd_varint(&r);
	m->st.late     = cep_rd_varint(&r);
	m->st.bad_key  = cep_rd_varint(&r);
	m->st.matches  = cep_rd_varint(&r);
	m->st.timeouts = cep_rd_varint(&r);
	m->st.dropped  = cep_rd_varint(&r);
	m->st.expired  = cep_rd_varint(&r);
	if ((rv = cep_rd_status(&r)) != CEP_OK ||
	    (rv = read_symbols(&r, &sm)) != CEP_OK ||
	    (rv = read_events(&r, &m->hist, &sm)) != CEP_OK ||
	    (rv = read_nodes(&r, &m->hist, m->pat->nleaves)) != CEP_OK ||
	    (rv = read_keys(&r, m, &restored, &restored_cap, &nlive)) !=
	        CEP_OK ||
	    (rv = read_free_keys(&r, m, &restored, &restored_cap, nlive)) !=
	        CEP_OK ||
	    (rv = read_buffer(&r, m)) != CEP_OK) {
		goto out;
	}
	/* A read past the end yields zeros (a count of 0 reads nothing), so
	 * a truncated snapshot is caught here, not by the sections. */
	if (cep_rd_status(&r) != CEP_OK || cep_rd_left(&r) != 0) {
		rv = CEP_ECORRUPT;
		goto out;
	}
	if ((rv = recount(m)) != CEP_OK) {
		goto out;
	}
	rebuild_free_lists(m);
	for (uint32_t k = 0; rv == CEP_OK && k < m->nkeys; k++) {
		if (m->keys[k].used) {
			rv = nfa__schedule(m, k);
		}
	}
out:
	symmap_fini(&sm);
	cep_free(restored, restored_cap);
	if (rv != CEP_OK) {
		reset(m);
	}
	return (rv);
}
