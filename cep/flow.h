/* SPDX-License-Identifier: MIT */
/*
 * flow.h: the dataflow core, a job graph of operators over event streams.
 *
 * As in Flink's DataStream API, a job is built from sources, stateless
 * transformations (map, filter, flat_map), event-time assignment, keyed
 * operators (reduce, windows, interval joins, and the CEP operator of
 * nfa/), unions and sinks, then run until its bounded inputs end:
 *
 *	cep_flow   *f = NULL;
 *	cep_stream *s;
 *
 *	cep_flow_create(&f);
 *	s = cep_flow_file(f, "events.jsonl", CEP_FORMAT_JSONL);
 *	s = cep_flow_filter(s, is_http, NULL);
 *	s = cep_flow_time(s, "ts", 5000);           (watermark: max - 5s)
 *	s = cep_flow_key_by(s, "src_ip");
 *	s = cep_flow_window(s, &tumble_1s, aggs, 1);
 *	cep_flow_sink(s, print, stdout);
 *	cep_flow_run(f, NULL);
 *	cep_flow_destroy(f);
 *
 * Builders return a stream handle owned by the flow; a NULL input makes a
 * NULL output, and the first error sticks (cep_flow_error), so a chain of
 * calls is checked once at the end.
 *
 * Records.  A record is an event with its event time, the watermark of
 * its channel after it, a sequence number that orders equal times
 * deterministically, and (on keyed streams) its key's hash.  A record
 * without an event is a watermark alone.  A watermark W promises that no
 * event older than W follows; events older than the watermark where their
 * time is assigned are late and leave through that operator's "late" side
 * output.  An operator's watermark is the minimum of its inputs'.  A
 * bounded input ends with a watermark of +infinity, which closes every
 * window and fires every timeout.
 *
 * Parallelism.  cep_flow_run with N workers runs the source and everything
 * before the first keyed operator on the calling thread, and N instances
 * of each keyed operator (and of what follows it) on N threads, records
 * partitioned by key hash through bounded queues.  Results do not depend
 * on N: a keyed operator fed by several channels applies its input in
 * (time, sequence) order, one fed by a single channel in that channel's
 * order (the same for every N), and lateness is decided where event time
 * is assigned.  User functions given
 * to map, filter, flat_map, reduce and join may run on several threads at
 * once; sink callbacks are called one at a time.
 *
 * Events handed to callbacks live until the callback returns; keep one
 * with cep_event_copy.
 */
#ifndef CEP_FLOW_H
#define CEP_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "cep/event.h"
#include "cep/reader.h"
#include "cep/state.h"

#define CEP_WM_MIN INT64_MIN
#define CEP_WM_MAX INT64_MAX

typedef struct cep_record {
	const cep_event *ev;  /* NULL: a watermark alone */
	int64_t          ts;  /* event time */
	int64_t          wm;  /* the watermark after this record */
	uint64_t         seq; /* orders equal times */
	uint64_t         khash;
} cep_record;

typedef struct cep_flow   cep_flow;
typedef struct cep_stream cep_stream;
typedef struct cep_op_ctx cep_op_ctx;

/* ---- operators ------------------------------------------------------------
 *
 * Every operator, built in or not, is a class of callbacks.  The runtime
 * makes one instance per worker for a keyed operator (or for anything
 * downstream of one), one overall otherwise, and calls it from one thread
 * at a time.
 */
typedef struct cep_op_class {
	const char *name;
	uint32_t    flags;  /* CEP_OP_* */
	unsigned    inputs; /* number of input ports */
	/* Make an instance's state.  ordered says its input arrives in
	 * sequence order (one channel), so no reordering is needed. */
	cep_err (*create)(const void *conf, int ordered, void **inst);
	/* Records (and bare watermarks) from input port `port`, in channel
	 * order; each record's wm is already the operator's watermark.  Emit
	 * with cep_op_emit. */
	cep_err (*push)(void *inst, unsigned port, const cep_record *recs,
	    size_t n, cep_op_ctx *ctx);
	/* Save / load the instance's keyed state under namespace ns; NULL
	 * when stateless. */
	cep_err (*save)(void *inst, const char *ns, cep_state_out *out);
	cep_err (*load)(void *inst, const char *ns, cep_state_in *in);
	void (*destroy)(void *inst);
	/* Release the configuration passed at graph building. */
	void (*conf_free)(void *conf);
	/* A digest of the configuration: on reload, an operator with the same
	 * name and fingerprint keeps its instances (its state). */
	uint64_t (*fingerprint)(const void *conf);
} cep_op_class;

#define CEP_OP_KEYED 1u /* its input must be keyed; state is per key */

/* Emit a record downstream (main output).  The event is copied; a NULL
 * event emits a bare watermark. */
cep_err cep_op_emit(cep_op_ctx *ctx, const cep_record *r);
/* Emit a record whose event is one of the records being pushed, without
 * copying it (for operators that pass events through unchanged). */
cep_err cep_op_forward(cep_op_ctx *ctx, const cep_record *r);
/* Emit to a side output ("late", "no_time", ...). */
cep_err cep_op_emit_side(
    cep_op_ctx *ctx, const char *side, const cep_record *r);
/* Emit the event finished in b (see cep_builder_peek). */
cep_err cep_op_emit_built(
    cep_op_ctx *ctx, cep_builder *b, int64_t ts, int64_t wm, uint64_t seq);
/* Keep the watermark the operator forwards at or below wm, until it says
 * otherwise (CEP_WM_MAX: no bound): for an operator that will emit records
 * older than its input's watermark, which must not be late downstream. */
void cep_op_hold_watermark(cep_op_ctx *ctx, int64_t wm);
/* A builder and a slab for the instance's use during push. */
cep_builder *cep_op_builder(cep_op_ctx *ctx);

/* ---- building ------------------------------------------------------------
 */

cep_err cep_flow_create(cep_flow **out);
void    cep_flow_destroy(cep_flow *f);
/* The first error met while building, or CEP_OK. */
cep_err cep_flow_error(const cep_flow *f);
/* Record an error met by code that builds on the flow (the first sticks). */
void cep_flow_set_error(cep_flow *f, cep_err err);
/* The flow a stream belongs to. */
cep_flow *cep_stream_flow(const cep_stream *s);
/* Give the next operator added a stable identity (for reload and saved
 * state); default: its position in the graph. */
void cep_flow_name_next(cep_flow *f, const char *uid);

/* Bad input records of file sources go to this callback (name, position,
 * message); default: ignored. */
typedef void (*cep_bad_record_fn)(
    void *arg, const char *name, uint64_t pos, const char *msg);
void cep_flow_on_bad_record(cep_flow *f, cep_bad_record_fn fn, void *arg);

/* Events from a file of JSON Lines or msgpack ("-": standard input).  The
 * sequence of a record is its position (line or object number). */
cep_stream *cep_flow_file(cep_flow *f, const char *path, cep_format fmt);

/* Event time from a field (integer milliseconds, or an integral double),
 * watermark = highest time seen - max_delay.  Events without a usable
 * time go to side output "no_time", late events to "late". */
cep_stream *cep_flow_time(
    cep_stream *in, const char *field, int64_t max_delay);

/* Return CEP_OK to emit the event built in b, CEP_ENOENT to drop. */
typedef cep_err (*cep_map_fn)(void *arg, const cep_event *in, cep_builder *b);
typedef int (*cep_filter_fn)(void *arg, const cep_event *ev);
/* Call cep_flat_emit any number of times. */
typedef struct cep_flat_out cep_flat_out;
typedef cep_err (*cep_flat_map_fn)(
    void *arg, const cep_event *in, cep_flat_out *out);
cep_err cep_flat_emit(cep_flat_out *out, const cep_event *ev);

cep_stream *cep_flow_map(cep_stream *in, cep_map_fn fn, void *arg);
cep_stream *cep_flow_filter(cep_stream *in, cep_filter_fn fn, void *arg);
cep_stream *cep_flow_flat_map(cep_stream *in, cep_flat_map_fn fn, void *arg);

/* Partition by a field (a path such as "src.ip").  Records whose key is
 * missing, null, a map or an array go to side output "no_key". */
cep_stream *cep_flow_key_by(cep_stream *in, const char *field);

/* A rolling reduce per key: fn gets the previous result (NULL at first)
 * and the new event, builds the new result in b; each result is emitted. */
typedef cep_err (*cep_reduce_fn)(
    void *arg, const cep_event *acc, const cep_event *in, cep_builder *b);
cep_stream *cep_flow_reduce(cep_stream *keyed, cep_reduce_fn fn, void *arg);

/* Windows: tumbling (size), sliding (size every `every`), session (gap).
 * Windows are half-open [start, end), aligned to multiples of their size
 * (tumble) or of every (slide) from time 0; a session spans from its first
 * event to its last + gap and events exactly gap apart share one. */
typedef enum cep_window_kind {
	CEP_WINDOW_TUMBLE,
	CEP_WINDOW_SLIDE,
	CEP_WINDOW_SESSION,
} cep_window_kind;

typedef struct cep_window {
	cep_window_kind kind;
	int64_t         size; /* tumble and slide size; session gap */
	int64_t         every;
} cep_window;

typedef enum cep_agg_kind {
	CEP_AGG_COUNT,
	CEP_AGG_SUM,
	CEP_AGG_AVG,
	CEP_AGG_MIN,
	CEP_AGG_MAX,
	CEP_AGG_COUNT_DISTINCT,
} cep_agg_kind;

typedef struct cep_agg {
	const char  *name; /* output field */
	cep_agg_kind kind;
	const char  *field; /* input field path; NULL for count */
} cep_agg;

/* One event per key and window when the watermark passes its end: the
 * key field, window_start, window_end, time_field (= end - 1) and the
 * aggregates.  Late events go to side output "late". */
cep_stream *cep_flow_window(cep_stream *keyed, const cep_window *w,
    const cep_agg *aggs, size_t naggs, const char *time_field);

/* Interval join of two keyed streams: pairs (l, r) with equal keys and
 * l.ts + lower <= r.ts <= l.ts + upper; the result's time is the later of
 * the two.  fn builds it (NULL: {"left": l, "right": r}). */
typedef cep_err (*cep_join_fn)(
    void *arg, const cep_event *left, const cep_event *right, cep_builder *b);
cep_stream *cep_flow_join(cep_stream *left, cep_stream *right, int64_t lower,
    int64_t upper, cep_join_fn fn, void *arg);

/* All records of both inputs; the watermark is the smaller one. */
cep_stream *cep_flow_union(cep_stream *a, cep_stream *b);

/* An operator of a custom class with n inputs (for keyed classes, keyed
 * inputs).  The flow owns conf from here on (conf_free). */
cep_stream *cep_flow_op(
    cep_stream *const *in, size_t n, const cep_op_class *cls, void *conf);

/* A side output of the operator that produced s. */
cep_stream *cep_flow_side(cep_stream *s, const char *side);

/* Records reaching a sink: callbacks one at a time, on any thread. */
typedef cep_err (*cep_sink_fn)(void *arg, const cep_record *r);
void cep_flow_sink(cep_stream *in, cep_sink_fn fn, void *arg);
/* A sink that gets its records in (time, sequence, arrival) order, each
 * once the watermark has passed it (at the latest when the run ends), so
 * that the order does not depend on the number of workers: for replays.
 * Records wait for the watermark: not for live output. */
void cep_flow_sink_ordered(cep_stream *in, cep_sink_fn fn, void *arg);

/* ---- running -------------------------------------------------------------
 */

typedef struct cep_flow_opts {
	unsigned workers;   /* 0: the number of online processors */
	unsigned batch;     /* records per batch (default 512) */
	unsigned in_flight; /* batches in flight before the source waits */
} cep_flow_opts;

/* Run until every source ends (bounded inputs) or cep_flow_stop.  The
 * first error of any operator or sink stops the run and is returned. */
cep_err cep_flow_run(cep_flow *f, const cep_flow_opts *opts);
/* Ask a running flow to stop at the next batch (thread-safe). */
void cep_flow_stop(cep_flow *f);

/* Replace a running flow's graph by next's at a consistent point: every
 * record read so far has gone through every operator, none after.
 * Operators of next whose uid, class and fingerprint match one of the
 * running graph keep its instances and state; the others start empty.
 * Sources carry on reading.  Thread-safe; returns when applied.  next is
 * consumed (destroyed by the running flow) on success. */
cep_err cep_flow_reload(cep_flow *running, cep_flow *next);

/* Save every operator's state after a run ended (or was stopped: at a
 * consistent point), each instance under "UID/INDEX"; load it into a flow
 * of the same graph not yet run, with the same number of workers (else
 * CEP_EINVAL: keyed state is split among workers by key hash). */
cep_err cep_flow_save(cep_flow *f, cep_state_out *out);
cep_err cep_flow_load(
    cep_flow *f, const cep_flow_opts *opts, cep_state_in *in);

#endif
