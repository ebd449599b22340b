/* SPDX-License-Identifier: MIT */
/*
 * nfa_impl.h: declarations shared inside the nfa module.
 *
 * The compiled automaton (nfa_prog) follows FlinkCEP's state and edge
 * model: states with TAKE, IGNORE and PROCEED edges guarded by conditions.
 * Everything is laid out in flat arrays addressed by index: states, edges
 * (grouped per state), and condition nodes, whose leaves are the pattern's
 * expressions.
 */
#ifndef NFA_NFA_IMPL_H
#define NFA_NFA_IMPL_H

#include <stdatomic.h>

#include "nfa/nfa.h"

/* Edge actions, FlinkCEP's StateTransitionAction. */
#define NFA_ACTION_LIST(X)  \
	X(TAKE, "take")     \
	X(IGNORE, "ignore") \
	X(PROCEED, "proceed")

typedef enum nfa_action {
#define NFA__ACTION_ENUM(name, text) NFA_##name,
	NFA_ACTION_LIST(NFA__ACTION_ENUM)
#undef NFA__ACTION_ENUM
} nfa_action;

typedef enum nfa_state_type {
	NFA_ST_NORMAL,
	NFA_ST_START,
	NFA_ST_FINAL,
	NFA_ST_STOP,
	NFA_ST_PENDING, /* not_followed_by at the end: completes on timeout */
} nfa_state_type;

/* Condition nodes: a boolean formula over the pattern's expressions. */
typedef enum nfa_cond_op {
	NFA_COND_TRUE,
	NFA_COND_EXPR, /* a: expression index */
	NFA_COND_NOT,  /* a: condition */
	NFA_COND_AND,  /* a, b: conditions */
} nfa_cond_op;

typedef struct nfa_cond {
	uint8_t  op;
	uint32_t a;
	uint32_t b;
} nfa_cond;

typedef struct nfa_edge {
	uint8_t  action; /* nfa_action */
	uint16_t from;   /* the state the edge belongs to */
	uint16_t to;
	uint32_t cond;
} nfa_edge;

#define NFA_NO_STEP UINT16_MAX
#define NFA_MAX_STATES 4096u

typedef struct nfa_state {
	char    *name; /* unique internal name: "middle", "middle:2" */
	uint8_t  type; /* nfa_state_type */
	uint16_t step; /* leaf step whose events it takes, or NFA_NO_STEP */
	uint32_t edge0;
	uint32_t nedges;
	int64_t  gap; /* max_gap of its step (ms), 0: none */
} nfa_state;

struct nfa_prog {
	atomic_uint      refs;
	nfa_pattern     *pattern; /* owned */
	nfa_state       *states;
	uint32_t         nstates;
	uint16_t         start;
	nfa_edge        *edges;
	uint32_t         nedges;
	nfa_cond        *conds;
	uint32_t         nconds;
	const nfa_expr **exprs; /* condition leaves, owned by the pattern */
	uint8_t         *expr_uses_steps;
	uint32_t         nexprs;
	int64_t          within;      /* ms, 0: none */
	uint16_t         skip_step;   /* leaf for skip_to_first/last */
	uint64_t         fingerprint; /* identifies the automaton's shape */
};

#endif

/* ---- history: the events and paths of partial matches ---------------- */

/*
 * FlinkCEP keeps partial matches in a versioned shared buffer: one node per
 * (event, state) with edges labelled by Dewey numbers, and extracts a
 * match by following the edges whose version is compatible with the run's.
 * We keep each partial match as a persistent linked list instead: a run
 * points at the node of its last accepted event, each node at the node
 * before it.  Runs that branch share the nodes of their common prefix, so
 * an event accepted once is stored once and every node is shared by all
 * the runs that went through it, as in FlinkCEP; but a run's events are
 * simply its list, with no version arithmetic and no ambiguous paths.
 * Nodes and stored events are reference-counted entries of two pools
 * addressed by 32-bit indices (0 meaning "none"), so the whole structure
 * can be written out and read back as is.
 */
typedef struct nfa_evslot {
	cep_event *ev; /* NULL when the slot is free */
	int64_t    ts;
	uint64_t   seq;
	uint32_t   refs;
	uint32_t   next_free;
} nfa_evslot;

typedef struct nfa_node {
	uint32_t ev;   /* event slot */
	uint32_t prev; /* the node before, 0: first event */
	uint32_t refs; /* runs, held matches and later nodes; 0: free */
	uint16_t step; /* leaf step that accepted the event */
	uint16_t pad;
} nfa_node;

typedef struct nfa_hist {
	nfa_evslot *evs;
	uint32_t    nevs; /* slots in use or freed, slot 0 included */
	size_t      evs_cap;
	uint32_t    ev_free;
	uint32_t    ev_live;
	nfa_node   *nodes;
	uint32_t    nnodes;
	size_t      nodes_cap;
	uint32_t    node_free;
	uint32_t    node_live;
	cep_slab   *slab;
	uint64_t    ev_bytes;
} nfa_hist;

cep_err nfa__hist_init(nfa_hist *h);
void    nfa__hist_fini(nfa_hist *h);
/* Store a copy of ev in a new slot with refs = 1. */
cep_err nfa__hist_store(nfa_hist *h, const cep_event *ev, int64_t ts,
    uint64_t seq, uint32_t *slot);
/* Adopt an already copied block (restore); refs = 1. */
cep_err nfa__hist_adopt(
    nfa_hist *h, cep_event *ev, int64_t ts, uint64_t seq, uint32_t *slot);
void nfa__hist_ev_unref(nfa_hist *h, uint32_t slot);
/* A new node with refs = 1, holding a reference to its event and to prev. */
cep_err nfa__hist_node(
    nfa_hist *h, uint32_t ev, uint32_t prev, uint16_t step, uint32_t *out);
/* Drop a reference to a node (0 is ignored); freeing a node drops its
 * references to its event and to the node before it. */
void nfa__hist_unref(nfa_hist *h, uint32_t node);

static inline void
nfa__hist_ref(nfa_hist *h, uint32_t node)
{
	if (node != 0) {
		h->nodes[node].refs++;
	}
}

static inline void
nfa__hist_ev_ref(nfa_hist *h, uint32_t slot)
{
	h->evs[slot].refs++;
}

/* ---- the matcher ------------------------------------------------------- */

#define NFA_NO_SEQ UINT64_MAX

/* A partial match: FlinkCEP's ComputationState. */
typedef struct nfa_run {
	uint32_t node;  /* last accepted event's node, 0: none yet */
	uint16_t state; /* automaton state */
	uint16_t pad;
	int64_t  start_ts;  /* time of the first event, -1 for start runs */
	int64_t  prev_ts;   /* time of the last accepted event */
	uint64_t start_seq; /* ingress sequence of the first event */
} nfa_run;

typedef struct nfa_key {
	cep_val  val; /* the key; a string is owned (len + 1 bytes) */
	uint64_t hash;
	nfa_run *runs; /* by start (time, sequence), the start run last */
	uint32_t nruns;
	uint32_t runs_cap;
	nfa_run *held; /* completed matches waiting for earlier partial ones */
	uint32_t nheld;
	uint32_t held_cap;
	int64_t  last_ts;
	int64_t  timer; /* registered wake-up, NFA_TIME_MAX: none */
	uint32_t gen;   /* bumped when the slot is reused */
	uint32_t next_free;
	uint8_t  used;
} nfa_key;

struct buffered {
	int64_t  ts;
	uint64_t seq;
	uint32_t slot;
};

struct timer {
	int64_t  at;
	uint32_t key;
	uint32_t gen;
};

struct seqref {
	size_t off;
	size_t len;
};

/* Merge-sort workspace: a run's sequence list, and the merge targets. */
struct order_item {
	struct seqref ref;
	struct seqref tmp_ref;
	nfa_run       tmp_run;
};

struct cache_entry {
	uint32_t epoch;
	uint8_t  val;
};

struct nfa_matcher {
	nfa_prog          *prog;
	const nfa_pattern *pat;
	nfa_match_fn       fn;
	void              *arg;
	cep_err            failed;
	int                ordered; /* events come in sequence order */
	int64_t            wm;
	nfa_stats          st;
	nfa_hist           hist;

	nfa_key *keys;
	uint32_t nkeys; /* slots in use or freed */
	uint32_t keys_cap;
	uint32_t key_free; /* free slot list, UINT32_MAX: empty */
	uint32_t keys_live;
	cep_htab key_index;
	/* A key's first event runs here (the value borrowed from the event);
	 * only a key left with state gets a slot (matcher.c, step_new_key). */
	nfa_key spare;

	cep_heap buffer; /* struct buffered, by (ts, seq) */
	cep_heap timers; /* struct timer, by (at, key) */

	/* The event being processed. */
	const cep_event *cur_ev;
	int64_t          cur_ts;
	int64_t          now; /* the time matches come out at (nfa_match.at) */
	uint64_t         cur_seq;
	uint32_t         cur_slot; /* 0 until stored */

	/* Scratch of the step loop, reused for every event. */
	uint32_t            epoch;
	struct cache_entry *cache; /* per expression, for event-only ones */
	nfa_run            *next;
	uint32_t            nnext;
	uint32_t            next_cap;
	nfa_run            *done;
	uint32_t            ndone;
	uint32_t            done_cap;
	uint32_t           *found; /* edges of the decision graph */
	uint32_t            nfound;
	uint32_t            found_cap;
	uint16_t           *stack;
	uint32_t            stack_cap;
	nfa_scratch        *scratch;

	/* A run's events by step, for aggregates. */
	const cep_event **mat_events;
	size_t            mat_cap;
	uint32_t         *mat_count; /* per leaf step */
	uint32_t         *mat_off;
	uint32_t         *mat_pos;
	/* A match's events, for the callback. */
	nfa_match_event *out;
	size_t           out_cap;
	/* Sorting matches by their event sequences. */
	uint64_t          *order_seqs;
	size_t             order_cap;
	struct order_item *order;
	size_t             order_n_cap;
};

/* exec.c: one key's step over the current event, time advance, skips.
 * Conditions of the current event are cached until m->epoch changes. */
cep_err nfa__process(nfa_matcher *m, nfa_key *k);
cep_err nfa__start_takes(nfa_matcher *m, int *takes);
/* nfa__catch_up brings key k to time t: its deadlines up to t pass one at
 * a time, in order, so that nothing depends on how far time jumped.  Runs
 * time out at their max_gap or within deadline; at its key_ttl deadline
 * (first among equal deadlines) the key expires: its partial matches time
 * out, its held matches go out, *expired is set and the caller releases
 * it. */
cep_err nfa__catch_up(nfa_matcher *m, nfa_key *k, int64_t t, int *expired);
cep_err nfa__flush_held(nfa_matcher *m, nfa_key *k);
/* The earliest time at which something of k's may expire. */
int64_t nfa__next_deadline(const nfa_matcher *m, const nfa_key *k);
/* Saturating a + b for a window b >= 0. */
static inline int64_t
nfa__deadline(int64_t a, int64_t b)
{
	return (a > NFA_TIME_MAX - b ? NFA_TIME_MAX : a + b);
}

/* matcher.c: key table helpers used by snapshot.c. */
#define NFA_KEY_SEED 0x6b6579u
/* Store a key's value (a private copy of a string, from the history's
 * slab) and its hash; nfa__key_free_val gives the copy back. */
cep_err nfa__key_set_val(nfa_matcher *m, nfa_key *k, const cep_val *v);
void    nfa__key_free_val(nfa_matcher *m, nfa_key *k);
cep_err nfa__key_slot(nfa_matcher *m, uint32_t *out);
cep_err nfa__key_index(nfa_matcher *m, uint32_t k);
void    nfa__key_release(nfa_matcher *m, uint32_t k);
cep_err nfa__schedule(nfa_matcher *m, uint32_t k);
