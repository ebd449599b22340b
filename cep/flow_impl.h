/* SPDX-License-Identifier: MIT */
/*
 * flow_impl.h: the dataflow graph and its runtime, shared by flow.c
 * (building), runtime.c (running) and the built-in operators (op_*.c).
 *
 * A graph is an array of nodes (sources, operators, sinks); each input
 * port of a node names the node and side output feeding it.  Running it
 * places every node on the source thread or on the workers, gives each
 * placed node its instances (one, or one per worker), and links outputs to
 * consumers either directly (same thread: a call) or through an exchange
 * (batches partitioned by key hash, sent to the workers' inboxes).
 */
#ifndef CEP_FLOW_IMPL_H
#define CEP_FLOW_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "cep/arena.h"
#include "cep/flow.h"
#include "cep/reorder.h"

/* Internal class flag: the operator partitions its output (key_by). */
#define CEP_OP_PARTITIONS 0x100u

typedef enum node_kind {
	NODE_SOURCE,
	NODE_OP,
	NODE_SINK,
} node_kind;

struct port_in {
	uint32_t from; /* producing node */
	uint16_t side; /* 0: main output */
};

/* Where one output side of a node goes (computed when preparing). */
struct consumer {
	uint32_t node;
	uint16_t port;
	uint8_t  exchange; /* crosses to the workers */
	uint8_t  by_key;   /* partition by key hash, else by sequence */
};

struct outbuf {
	cep_record *recs;
	size_t      n;
	size_t      cap;
};

struct instance {
	struct node   *node;
	void          *state;   /* the class's instance */
	unsigned       worker;  /* or the source thread's index */
	int64_t       *chan_wm; /* per input channel */
	unsigned       nchan;
	int64_t        wm_in;   /* min over channels */
	int64_t        wm_out;  /* last watermark emitted */
	int64_t        wm_hold; /* the operator's bound on wm_out */
	struct outbuf *outs;    /* per side */
	struct outbuf  in;      /* the batch being given to the operator */
};

struct node {
	node_kind           kind;
	char               *uid;
	const cep_op_class *cls; /* NODE_OP */
	void               *conf;
	char               *path; /* NODE_SOURCE */
	cep_format          fmt;
	cep_sink_fn         sink; /* NODE_SINK */
	void               *sink_arg;
	int                 ordered; /* a sink that reorders: held */
	cep_reorder         held;
	struct port_in     *in;
	unsigned            nin;
	char              **sides; /* side output names; [0] is the main */
	unsigned            nsides;
	size_t              sides_cap;

	/* Prepared for a run. */
	int               on_workers;
	struct consumer **cons; /* per side */
	unsigned         *ncons;
	unsigned         *chan_base; /* per port: first channel index */
	unsigned          nchan;
	struct instance  *inst; /* 1, or one per worker */
	unsigned          ninst;
	cep_reader       *reader; /* NODE_SOURCE */
	int               eof;
};

struct cep_stream {
	cep_flow *f;
	uint32_t  node;
	uint16_t  side;
};

/* A batch of records for one consumer instance. */
struct msg {
	struct msg *next;
	uint32_t    node;
	uint16_t    port;
	uint16_t    chan;
	cep_record *recs;
	size_t      n;
	size_t      cap;
	cep_arena  *arena; /* what its records point into */
};

struct inbox {
	pthread_mutex_t lock;
	pthread_cond_t  cond;
	struct msg     *head;
	struct msg     *tail;
	int             quit;
};

/* A thread of the run: a worker, or the source thread (index nworkers). */
struct thread {
	cep_flow    *f;
	unsigned     index;
	pthread_t    tid;
	struct inbox inbox;
	cep_arena   *out_arena; /* events emitted or sent from here */
	cep_builder *builder;
	struct msg **route; /* per worker, while routing one side */
};

struct cep_op_ctx {
	struct thread   *t;
	struct instance *inst;
};

struct cep_flow {
	struct node      *nodes;
	size_t            nnodes;
	size_t            nodes_cap;
	cep_stream      **streams;
	size_t            nstreams;
	size_t            streams_cap;
	cep_err           err;
	char             *next_uid;
	cep_bad_record_fn bad_fn;
	void             *bad_arg;

	/* Run state. */
	int             prepared;
	int             running;
	unsigned        nworkers;
	unsigned        batch;
	unsigned        in_flight_max;
	struct thread  *threads; /* workers, then the source thread */
	pthread_mutex_t lock;
	pthread_cond_t  cond;
	pthread_mutex_t sink_lock; /* sinks are called one at a time */
	size_t          in_flight; /* messages queued or being processed */
	atomic_int      stop;      /* read no more input */
	atomic_int      failed;    /* drop what is in flight: run_err is set */
	cep_err         run_err;
	cep_flow       *reload_next;
	cep_err         reload_err;
	int             reload_done;
};

/* runtime.c */
cep_err cep__flow_prepare(cep_flow *f, const cep_flow_opts *opts);
void    cep__flow_unprepare(cep_flow *f);
/* op_basic.c: a record's key value and hash for a key path (the global
 * key for an empty path); 0 when the key is missing, null or a container. */
int cep__key_of(
    const cep_path *path, const cep_event *ev, cep_val *v, uint64_t *hash);
/* op_time.c: an event's time from a field (int, or integral double). */
int cep__event_time(const cep_path *field, const cep_event *ev, int64_t *ts);
/* The key path of the key_by feeding a keyed stream. */
const cep_path *cep__stream_key(const cep_stream *keyed);
/* flow.c */
cep_stream *cep__flow_add_op(cep_flow *f, cep_stream *const *in, size_t n,
    const cep_op_class *cls, void *conf);
void        cep__node_fini(struct node *n);

/* Built-in operator classes (op_*.c). */
extern const cep_op_class cep__op_map;
extern const cep_op_class cep__op_filter;
extern const cep_op_class cep__op_flat_map;
extern const cep_op_class cep__op_key_by;
extern const cep_op_class cep__op_time;
extern const cep_op_class cep__op_union;
extern const cep_op_class cep__op_reduce;
extern const cep_op_class cep__op_window;
extern const cep_op_class cep__op_join;

#endif
