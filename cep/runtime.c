/* SPDX-License-Identifier: MIT */
/*
 * runtime.c: running a dataflow graph on a source thread and N workers.
 *
 * Placement: sources, and every operator none of whose inputs is on the
 * workers, run on the calling ("source") thread; keyed operators and
 * everything downstream of one run as one instance per worker.  An edge
 * into the workers that starts on the source thread or at a key_by is an
 * exchange: its records are partitioned by key hash (or spread by sequence
 * when unkeyed) into batches posted to the workers' inboxes; any other
 * edge is a direct call on the same thread.
 *
 * Watermarks: an instance has one channel per upstream instance per input
 * port; its watermark is the minimum over them, written into every record
 * it is given.  After each call the runtime forwards a bare watermark
 * downstream when the instance's watermark rose past what it emitted.
 *
 * Flow control: the source thread waits while too many batches are in
 * flight; workers never wait on anything but their inbox, so exchanges
 * between workers cannot deadlock.  The same counter tells the source
 * thread when the whole graph is idle: a consistent point, where every
 * record read has gone through every operator, used to end the run, to
 * reload the graph and to save its state.
 *
 * Events emitted by an instance are copied into its thread's arena
 * (stateless operators pass their input's events through); a batch posted
 * to another thread points only into the sender's arena, copying there the
 * events that came from elsewhere, and holds a reference to it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cep/buf.h"
#include "cep/flow_impl.h"

#define DEFAULT_BATCH 512u

static cep_err deliver(struct thread *t, struct instance *inst, unsigned port,
    unsigned chan, const cep_record *recs, size_t n);

/* ---- errors and flow control ------------------------------------------- */

static void
run_fail(cep_flow *f, cep_err err)
{
	pthread_mutex_lock(&f->lock);
	if (f->run_err == CEP_OK) {
		f->run_err = err;
	}
	atomic_store(&f->failed, 1);
	atomic_store(&f->stop, 1);
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

/* wait_in_flight waits until at most `most` batches are in flight. */
static void
wait_in_flight(cep_flow *f, size_t most)
{
	pthread_mutex_lock(&f->lock);
	while (f->in_flight > most) {
		pthread_cond_wait(&f->cond, &f->lock);
	}
	pthread_mutex_unlock(&f->lock);
}

/* ---- buffers ----------------------------------------------------------- */

static cep_err
out_append(struct outbuf *o, const cep_record *r)
{
	if (o->n == o->cap &&
	    cep_grow(&o->recs, &o->cap, o->n + 1, sizeof(cep_record)) != 0) {
		return (CEP_ENOMEM);
	}
	o->recs[o->n++] = *r;
	return (CEP_OK);
}

static struct msg *
msg_new(void)
{
	return (cep_zalloc(sizeof(struct msg)));
}

static void
msg_free(struct msg *m)
{
	if (m == NULL) {
		return;
	}
	cep_arena_unref(m->arena);
	cep_free(m->recs, m->cap * sizeof(cep_record));
	cep_free(m, sizeof(*m));
}

static void
inbox_post(struct inbox *box, struct msg *m)
{
	pthread_mutex_lock(&box->lock);
	m->next = NULL;
	if (box->tail != NULL) {
		box->tail->next = m;
	} else {
		box->head = m;
	}
	box->tail = m;
	pthread_cond_signal(&box->cond);
	pthread_mutex_unlock(&box->lock);
}

/* inbox_take returns the next batch, or NULL when told to quit. */
static struct msg *
inbox_take(struct inbox *box)
{
	struct msg *m;

	pthread_mutex_lock(&box->lock);
	while (box->head == NULL && !box->quit) {
		pthread_cond_wait(&box->cond, &box->lock);
	}
	if ((m = box->head) != NULL) {
		box->head = m->next;
		if (box->head == NULL) {
			box->tail = NULL;
		}
	}
	pthread_mutex_unlock(&box->lock);
	return (m);
}

/* ---- emitting ---------------------------------------------------------- */

static cep_err
emit_side(cep_op_ctx *ctx, unsigned side, const cep_record *r, int copy)
{
	struct instance *inst = ctx->inst;
	cep_record       rec  = *r;

	if (inst->node->ncons[side] == 0) {
		return (CEP_OK);
	}
	if (rec.ev != NULL && copy) {
		cep_event *ev =
		    cep_arena_alloc(ctx->t->out_arena, rec.ev->size);
		if (ev == NULL) {
			return (CEP_ENOMEM);
		}
		memcpy(ev, rec.ev, rec.ev->size);
		ev->refs  = 0;
		ev->flags = 0;
		rec.ev    = ev;
	}
	if (rec.wm < inst->wm_out) {
		rec.wm = inst->wm_out;
	}
	inst->wm_out = rec.wm;
	return (out_append(&inst->outs[side], &rec));
}

cep_err
cep_op_emit(cep_op_ctx *ctx, const cep_record *r)
{
	return (emit_side(ctx, 0, r, 1));
}

cep_err
cep_op_forward(cep_op_ctx *ctx, const cep_record *r)
{
	return (emit_side(ctx, 0, r, 0));
}

static int
side_index(const struct node *n, const char *side, unsigned *out)
{
	for (unsigned i = 1; i < n->nsides; i++) {
		if (strcmp(n->sides[i], side) == 0) {
			*out = i;
			return (1);
		}
	}
	return (0);
}

cep_err
cep_op_emit_side(cep_op_ctx *ctx, const char *side, const cep_record *r)
{
	unsigned i;

	if (!side_index(ctx->inst->node, side, &i)) {
		return (CEP_OK); /* nobody listens */
	}
	return (emit_side(ctx, i, r, 0));
}

cep_err
cep_op_emit_built(
    cep_op_ctx *ctx, cep_builder *b, int64_t ts, int64_t wm, uint64_t seq)
{
	cep_record r;
	cep_err    rv;

	if ((r.ev = cep_builder_peek(b)) == NULL) {
		rv = cep_builder_status(b);
		cep_builder_reset(b);
		return (rv != CEP_OK ? rv : CEP_EINVAL);
	}
	r.ts    = ts;
	r.wm    = wm;
	r.seq   = seq;
	r.khash = 0;
	rv      = cep_op_emit(ctx, &r);
	cep_builder_reset(b);
	return (rv);
}

void
cep_op_hold_watermark(cep_op_ctx *ctx, int64_t wm)
{
	ctx->inst->wm_hold = wm;
}

cep_builder *
cep_op_builder(cep_op_ctx *ctx)
{
	return (ctx->t->builder);
}

/* ---- delivery ---------------------------------------------------------- */

static void
chan_update(struct instance *inst, unsigned chan, int64_t wm)
{
	int64_t old = inst->chan_wm[chan];

	if (wm <= old) {
		return;
	}
	inst->chan_wm[chan] = wm;
	if (old == inst->wm_in) {
		int64_t min = CEP_WM_MAX;
		for (unsigned i = 0; i < inst->nchan; i++) {
			min = inst->chan_wm[i] < min ? inst->chan_wm[i] : min;
		}
		inst->wm_in = min;
	}
}

/* route partitions one output side's records among the workers' inboxes
 * for an exchange consumer. */
static cep_err
route(struct thread *t, struct instance *inst, const struct consumer *c,
    const cep_record *recs, size_t n)
{
	cep_flow          *f     = t->f;
	const struct node *cnode = &f->nodes[c->node];
	unsigned           chan  = cnode->chan_base[c->port] +
	    (inst->node->on_workers ? inst->worker : 0);
	cep_record wm = { NULL, 0, inst->wm_out, 0, 0 };
	cep_err    rv = CEP_OK;

	for (size_t i = 0; i < n && rv == CEP_OK; i++) {
		unsigned dest;
		if (recs[i].ev == NULL) {
			continue;
		}
		dest = (unsigned) ((c->by_key ? recs[i].khash : recs[i].seq) %
		    f->nworkers);
		if (t->route[dest] == NULL &&
		    (t->route[dest] = msg_new()) == NULL) {
			rv = CEP_ENOMEM;
			break;
		}
		if (cep_grow(&t->route[dest]->recs, &t->route[dest]->cap,
		        t->route[dest]->n + 2, sizeof(cep_record)) != 0) {
			rv = CEP_ENOMEM;
			break;
		}
		t->route[dest]->recs[t->route[dest]->n] = recs[i];
		/* A batch points into one arena: the sender's. */
		if (!cep_arena_contains(t->out_arena, recs[i].ev)) {
			cep_event *ev =
			    cep_arena_alloc(t->out_arena, recs[i].ev->size);
			if (ev == NULL) {
				rv = CEP_ENOMEM;
				break;
			}
			memcpy(ev, recs[i].ev, recs[i].ev->size);
			t->route[dest]->recs[t->route[dest]->n].ev = ev;
		}
		t->route[dest]->n++;
	}
	/* Every worker learns the watermark, with records or without. */
	for (unsigned w = 0; w < f->nworkers; w++) {
		struct msg *m = t->route[w];
		t->route[w]   = NULL;
		if (rv == CEP_OK && m == NULL && (m = msg_new()) == NULL) {
			rv = CEP_ENOMEM;
		}
		if (rv == CEP_OK &&
		    cep_grow(&m->recs, &m->cap, m->n + 1,
		        sizeof(cep_record)) != 0) {
			rv = CEP_ENOMEM;
		}
		if (rv != CEP_OK) {
			msg_free(m);
			continue;
		}
		m->recs[m->n++] = wm;
		m->node         = c->node;
		m->port         = c->port;
		m->chan         = (uint16_t) chan;
		m->arena        = t->out_arena;
		cep_arena_ref(t->out_arena);
		pthread_mutex_lock(&f->lock);
		f->in_flight++;
		pthread_mutex_unlock(&f->lock);
		inbox_post(&f->threads[w].inbox, m);
	}
	return (rv);
}

/* flush forwards what an instance emitted, and its watermark (held back
 * where the operator asked). */
static cep_err
flush(struct thread *t, struct instance *inst)
{
	cep_flow    *f    = t->f;
	struct node *node = inst->node;
	int64_t      next =
            inst->wm_in < inst->wm_hold ? inst->wm_in : inst->wm_hold;
	cep_err rv = CEP_OK;

	if (next > inst->wm_out) {
		cep_record wm = { NULL, 0, next, 0, 0 };
		inst->wm_out  = next;
		for (unsigned s = 0; s < node->nsides && rv == CEP_OK; s++) {
			if (node->ncons[s] > 0) {
				rv = out_append(&inst->outs[s], &wm);
			}
		}
	}
	for (unsigned s = 0; s < node->nsides && rv == CEP_OK; s++) {
		struct outbuf *o = &inst->outs[s];
		for (unsigned i = 0;
		     i < node->ncons[s] && rv == CEP_OK && o->n > 0; i++) {
			const struct consumer *c     = &node->cons[s][i];
			struct node           *cnode = &f->nodes[c->node];
			if (c->exchange) {
				rv = route(t, inst, c, o->recs, o->n);
			} else {
				rv = deliver(t,
				    &cnode->inst[cnode->on_workers ? t->index
				                                   : 0],
				    c->port, cnode->chan_base[c->port],
				    o->recs, o->n);
			}
		}
		o->n = 0;
	}
	return (rv);
}

static cep_err
call_sink(void *arg, const cep_record *r)
{
	struct node *node = arg;

	return (node->sink(node->sink_arg, r));
}

/* release_ordered gives an ordered sink the records that every instance's
 * watermark has passed (the flow's sink lock held). */
static cep_err
release_ordered(struct node *node)
{
	int64_t wm = CEP_WM_MAX;

	for (unsigned i = 0; i < node->ninst; i++) {
		wm = node->inst[i].wm_in < wm ? node->inst[i].wm_in : wm;
	}
	return (cep_reorder_release(&node->held, wm, call_sink, node));
}

/* sink_call hands records to a sink callback, one call at a time, or to
 * an ordered sink's buffer. */
static cep_err
sink_call(cep_flow *f, struct instance *inst, unsigned chan,
    const cep_record *recs, size_t n)
{
	struct node *node = inst->node;
	cep_err      rv   = CEP_OK;

	pthread_mutex_lock(&f->sink_lock);
	for (size_t i = 0; i < n && rv == CEP_OK; i++) {
		chan_update(inst, chan, recs[i].wm);
		if (recs[i].ev == NULL) {
			continue;
		}
		rv = node->ordered ? cep_reorder_hold(&node->held, &recs[i])
		                   : node->sink(node->sink_arg, &recs[i]);
	}
	if (rv == CEP_OK && node->ordered) {
		rv = release_ordered(node);
	}
	pthread_mutex_unlock(&f->sink_lock);
	return (rv);
}

/* drain_sinks gives ordered sinks what they still hold (a stopped run, a
 * graph replaced by a reload); the flow is quiescent. */
static cep_err
drain_sinks(cep_flow *f)
{
	cep_err rv = CEP_OK;

	for (size_t i = 0; i < f->nnodes && rv == CEP_OK; i++) {
		struct node *n = &f->nodes[i];
		if (n->ordered) {
			rv = cep_reorder_release(
			    &n->held, CEP_WM_MAX, call_sink, n);
		}
	}
	return (rv);
}

static cep_err
deliver(struct thread *t, struct instance *inst, unsigned port, unsigned chan,
    const cep_record *recs, size_t n)
{
	struct node *node = inst->node;
	cep_op_ctx   ctx  = { t, inst };
	cep_err      rv;

	if (node->kind == NODE_SINK) {
		return (sink_call(t->f, inst, chan, recs, n));
	}
	/* Give the operator its own watermark in every record. */
	if (cep_grow(&inst->in.recs, &inst->in.cap, n, sizeof(cep_record)) !=
	    0) {
		return (CEP_ENOMEM);
	}
	for (size_t i = 0; i < n; i++) {
		inst->in.recs[i] = recs[i];
		chan_update(inst, chan, recs[i].wm);
		inst->in.recs[i].wm = inst->wm_in;
	}
	rv = node->cls->push(inst->state, port, inst->in.recs, n, &ctx);
	if (rv == CEP_OK) {
		rv = flush(t, inst);
	}
	return (rv);
}

/* recycle_arena resets the thread's arena when nothing in flight points
 * into it, or starts a new one. */
static cep_err
recycle_arena(struct thread *t)
{
	if (cep_arena_alone(t->out_arena)) {
		cep_arena_reset(t->out_arena);
		return (CEP_OK);
	}
	cep_arena_unref(t->out_arena);
	t->out_arena = cep_arena_create();
	return (t->out_arena != NULL ? CEP_OK : CEP_ENOMEM);
}

static void *
worker_main(void *arg)
{
	struct thread *t = arg;
	cep_flow      *f = t->f;
	struct msg    *m;

	while ((m = inbox_take(&t->inbox)) != NULL) {
		/* After a stop, what is in flight still goes through, so that
		 * the run ends at a consistent point; after an error, not. */
		if (!atomic_load(&f->failed)) {
			struct node *node = &f->nodes[m->node];
			cep_err      rv;
			rv = deliver(t, &node->inst[t->index], m->port,
			    m->chan, m->recs, m->n);
			if (rv == CEP_OK) {
				rv = recycle_arena(t);
			}
			if (rv != CEP_OK) {
				run_fail(f, rv);
			}
		}
		msg_free(m);
		pthread_mutex_lock(&f->lock);
		f->in_flight--;
		pthread_cond_broadcast(&f->cond);
		pthread_mutex_unlock(&f->lock);
	}
	return (NULL);
}

/* ---- preparing --------------------------------------------------------- */

static unsigned
online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return (n < 1 ? 1 : n > 256 ? 256 : (unsigned) n);
}

static void
free_instances(struct node *n)
{
	for (unsigned i = 0; n->inst != NULL && i < n->ninst; i++) {
		struct instance *inst = &n->inst[i];
		if (inst->state != NULL && n->cls != NULL) {
			n->cls->destroy(inst->state);
		}
		for (unsigned s = 0; inst->outs != NULL && s < n->nsides;
		     s++) {
			cep_free(inst->outs[s].recs,
			    inst->outs[s].cap * sizeof(cep_record));
		}
		cep_free(inst->outs, n->nsides * sizeof(struct outbuf));
		cep_free(inst->in.recs, inst->in.cap * sizeof(cep_record));
		cep_free(inst->chan_wm, (inst->nchan + 1) * sizeof(int64_t));
	}
	cep_free(n->inst, n->ninst * sizeof(struct instance));
	n->inst  = NULL;
	n->ninst = 0;
}

/* unplace forgets a node's placement, consumers and instances. */
static void
unplace(struct node *n)
{
	free_instances(n);
	for (unsigned s = 0; n->cons != NULL && s < n->nsides; s++) {
		cep_free(n->cons[s], n->ncons[s] * sizeof(struct consumer));
	}
	cep_free(n->cons, n->nsides * sizeof(struct consumer *));
	cep_free(n->ncons, n->nsides * sizeof(unsigned));
	cep_free(n->chan_base, (n->nin + 1) * sizeof(unsigned));
	n->cons      = NULL;
	n->ncons     = NULL;
	n->chan_base = NULL;
	cep_reader_close(n->reader);
	n->reader = NULL;
}

static cep_err
add_consumer(struct node *from, unsigned side, struct consumer c)
{
	unsigned         n   = from->ncons[side];
	struct consumer *arr = cep_realloc(from->cons[side],
	    n * sizeof(struct consumer), (n + 1) * sizeof(struct consumer));

	if (arr == NULL) {
		return (CEP_ENOMEM);
	}
	arr[n]            = c;
	from->cons[side]  = arr;
	from->ncons[side] = n + 1;
	return (CEP_OK);
}

/* place computes placements, consumers and channels (node order is
 * topological). */
static cep_err
place(cep_flow *f)
{
	for (size_t i = 0; i < f->nnodes; i++) {
		struct node *n = &f->nodes[i];
		n->on_workers =
		    n->kind == NODE_OP && (n->cls->flags & CEP_OP_KEYED) != 0;
		for (unsigned p = 0; p < n->nin; p++) {
			n->on_workers |= f->nodes[n->in[p].from].on_workers;
		}
		n->cons  = cep_calloc(n->nsides, sizeof(struct consumer *));
		n->ncons = cep_calloc(n->nsides, sizeof(unsigned));
		n->chan_base = cep_calloc(n->nin + 1, sizeof(unsigned));
		if (n->cons == NULL || n->ncons == NULL ||
		    n->chan_base == NULL) {
			return (CEP_ENOMEM);
		}
	}
	for (size_t i = 0; i < f->nnodes; i++) {
		struct node *n = &f->nodes[i];
		n->nchan       = 0;
		for (unsigned p = 0; p < n->nin; p++) {
			struct node *from = &f->nodes[n->in[p].from];
			int          part = from->kind == NODE_OP &&
			    (from->cls->flags & CEP_OP_PARTITIONS);
			struct consumer c;
			c.node          = (uint32_t) i;
			c.port          = (uint16_t) p;
			c.exchange      = (uint8_t) (n->on_workers &&
                            (!from->on_workers || part));
			c.by_key        = (uint8_t) part;
			n->chan_base[p] = n->nchan;
			n->nchan +=
			    c.exchange && from->on_workers ? f->nworkers : 1;
			if (add_consumer(from, n->in[p].side, c) != CEP_OK) {
				return (CEP_ENOMEM);
			}
		}
	}
	return (CEP_OK);
}

/* in_order says whether a node's input comes in sequence order: one
 * channel, from the source thread.  A single channel from a worker (one
 * worker in all) carries what an operator there emitted in its own order,
 * not the (time, sequence) order in which several channels would be
 * merged: treating it as ordered made results differ between one worker
 * and several. */
static int
in_order(const cep_flow *f, const struct node *n)
{
	if (n->nchan != 1) {
		return (0);
	}
	for (unsigned p = 0; p < n->nin; p++) {
		if (f->nodes[n->in[p].from].on_workers) {
			return (0);
		}
	}
	return (1);
}

static cep_err
make_instances(cep_flow *f, struct node *n)
{
	int ordered = in_order(f, n);

	n->ninst = n->on_workers ? f->nworkers : 1;
	if ((n->inst = cep_calloc(n->ninst, sizeof(struct instance))) ==
	    NULL) {
		return (CEP_ENOMEM);
	}
	for (unsigned i = 0; i < n->ninst; i++) {
		struct instance *inst = &n->inst[i];
		cep_err          rv;
		inst->node    = n;
		inst->worker  = n->on_workers ? i : f->nworkers;
		inst->nchan   = n->nchan;
		inst->wm_in   = CEP_WM_MIN;
		inst->wm_out  = CEP_WM_MIN;
		inst->wm_hold = CEP_WM_MAX;
		inst->chan_wm = cep_calloc(n->nchan + 1, sizeof(int64_t));
		inst->outs    = cep_calloc(n->nsides, sizeof(struct outbuf));
		if (inst->chan_wm == NULL || inst->outs == NULL) {
			return (CEP_ENOMEM);
		}
		for (unsigned c = 0; c < n->nchan; c++) {
			inst->chan_wm[c] = CEP_WM_MIN;
		}
		if (n->kind == NODE_OP &&
		    (rv = n->cls->create(n->conf, ordered, &inst->state)) !=
		        CEP_OK) {
			return (rv);
		}
	}
	return (CEP_OK);
}

static cep_err
thread_init(cep_flow *f, struct thread *t, unsigned index)
{
	t->f     = f;
	t->index = index;
	pthread_mutex_init(&t->inbox.lock, NULL);
	pthread_cond_init(&t->inbox.cond, NULL);
	t->out_arena = cep_arena_create();
	t->builder   = cep_builder_create();
	t->route     = cep_calloc(f->nworkers, sizeof(struct msg *));
	return (t->out_arena == NULL || t->builder == NULL || t->route == NULL
	        ? CEP_ENOMEM
	        : CEP_OK);
}

static void
thread_fini(cep_flow *f, struct thread *t)
{
	struct msg *m;

	while ((m = t->inbox.head) != NULL) {
		t->inbox.head = m->next;
		msg_free(m);
	}
	pthread_mutex_destroy(&t->inbox.lock);
	pthread_cond_destroy(&t->inbox.cond);
	cep_arena_unref(t->out_arena);
	cep_builder_destroy(t->builder);
	for (unsigned w = 0; t->route != NULL && w < f->nworkers; w++) {
		msg_free(t->route[w]);
	}
	cep_free(t->route, f->nworkers * sizeof(struct msg *));
}

void
cep__flow_unprepare(cep_flow *f)
{
	if (!f->prepared) {
		return;
	}
	for (size_t i = 0; i < f->nnodes; i++) {
		unplace(&f->nodes[i]);
	}
	for (unsigned i = 0; f->threads != NULL && i <= f->nworkers; i++) {
		thread_fini(f, &f->threads[i]);
	}
	cep_free(f->threads, (f->nworkers + 1) * sizeof(struct thread));
	f->threads  = NULL;
	f->prepared = 0;
}

cep_err
cep__flow_prepare(cep_flow *f, const cep_flow_opts *opts)
{
	cep_err rv;

	if (f->prepared) {
		return (CEP_OK);
	}
	if (f->err != CEP_OK) {
		return (f->err);
	}
	f->nworkers =
	    opts != NULL && opts->workers > 0 ? opts->workers : online_cpus();
	f->batch =
	    opts != NULL && opts->batch > 0 ? opts->batch : DEFAULT_BATCH;
	f->in_flight_max = opts != NULL && opts->in_flight > 0
	    ? opts->in_flight
	    : 16 * f->nworkers;
	f->prepared      = 1;
	f->threads       = cep_calloc(f->nworkers + 1, sizeof(struct thread));
	rv               = f->threads == NULL ? CEP_ENOMEM : place(f);
	for (unsigned i = 0; rv == CEP_OK && i <= f->nworkers; i++) {
		rv = thread_init(f, &f->threads[i], i);
	}
	for (size_t i = 0; rv == CEP_OK && i < f->nnodes; i++) {
		rv = make_instances(f, &f->nodes[i]);
	}
	if (rv != CEP_OK) {
		cep__flow_unprepare(f);
	}
	return (rv);
}

/* ---- running ----------------------------------------------------------- */

static cep_err
open_sources(cep_flow *f)
{
	for (size_t i = 0; i < f->nnodes; i++) {
		struct node *n = &f->nodes[i];
		if (n->kind == NODE_SOURCE && n->reader == NULL && !n->eof &&
		    cep_reader_open(n->path, n->fmt, &n->reader) != CEP_OK) {
			return (CEP_EIO);
		}
	}
	return (CEP_OK);
}

/* read_batch reads up to one batch from a source and pushes it through
 * the source thread's part of the graph. */
static cep_err
read_batch(cep_flow *f, struct thread *t, struct node *n)
{
	struct instance *inst = &n->inst[0];
	cep_err          rv   = CEP_OK;

	for (unsigned i = 0; i < f->batch; i++) {
		const cep_event *ev;
		uint64_t         pos;
		cep_event       *copy;
		cep_record       r;

		rv = cep_reader_next(n->reader, &ev, &pos);
		if (rv == CEP_ECLOSED) {
			/* A bounded input ends with the last watermark. */
			n->eof      = 1;
			inst->wm_in = CEP_WM_MAX;
			rv          = CEP_OK;
			break;
		}
		if (rv == CEP_EPARSE) {
			if (f->bad_fn != NULL) {
				f->bad_fn(f->bad_arg,
				    cep_reader_name(n->reader), pos,
				    cep_reader_error(n->reader));
			}
			continue;
		}
		if (rv != CEP_OK) {
			break;
		}
		if ((copy = cep_arena_alloc(t->out_arena, ev->size)) == NULL) {
			rv = CEP_ENOMEM;
			break;
		}
		memcpy(copy, ev, ev->size);
		r.ev    = copy;
		r.ts    = 0;
		r.wm    = inst->wm_out;
		r.seq   = pos;
		r.khash = 0;
		if ((rv = out_append(&inst->outs[0], &r)) != CEP_OK) {
			break;
		}
	}
	if (rv == CEP_OK) {
		rv = flush(t, inst);
	}
	if (rv == CEP_OK) {
		rv = recycle_arena(t);
	}
	return (rv);
}

/* quiesce waits until no batch is in flight: every record read so far has
 * been through every operator. */
static void
quiesce(cep_flow *f)
{
	wait_in_flight(f, 0);
}

static cep_err apply_reload(cep_flow *f, cep_flow *next);

static void
serve_reload(cep_flow *f)
{
	cep_flow *next;
	cep_err   rv;

	pthread_mutex_lock(&f->lock);
	next = f->reload_next;
	pthread_mutex_unlock(&f->lock);
	if (next == NULL) {
		return;
	}
	quiesce(f);
	rv = apply_reload(f, next);
	pthread_mutex_lock(&f->lock);
	f->reload_next = NULL;
	f->reload_err  = rv;
	f->reload_done = 1;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

cep_err
cep_flow_run(cep_flow *f, const cep_flow_opts *opts)
{
	struct thread *src;
	unsigned       started = 0;
	int            active  = 1;
	cep_err        rv;

	if ((rv = cep__flow_prepare(f, opts)) != CEP_OK ||
	    (rv = open_sources(f)) != CEP_OK) {
		return (rv);
	}
	src        = &f->threads[f->nworkers];
	f->run_err = CEP_OK;
	atomic_store(&f->failed, 0);
	atomic_store(&f->stop, 0);
	for (; started < f->nworkers; started++) {
		if (pthread_create(&f->threads[started].tid, NULL, worker_main,
		        &f->threads[started]) != 0) {
			run_fail(f, CEP_ENOMEM);
			break;
		}
	}
	pthread_mutex_lock(&f->lock);
	f->running = 1;
	pthread_mutex_unlock(&f->lock);
	while (active && !atomic_load(&f->stop)) {
		serve_reload(f);
		active = 0;
		for (size_t i = 0; i < f->nnodes && !atomic_load(&f->stop);
		     i++) {
			struct node *n = &f->nodes[i];
			if (n->kind != NODE_SOURCE || n->eof) {
				continue;
			}
			active = 1;
			if ((rv = read_batch(f, src, n)) != CEP_OK) {
				run_fail(f, rv);
			}
			wait_in_flight(f, f->in_flight_max);
		}
	}
	quiesce(f);
	if ((rv = drain_sinks(f)) != CEP_OK) {
		run_fail(f, rv);
	}
	pthread_mutex_lock(&f->lock);
	f->running = 0;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	serve_reload(f); /* a reload that raced with the end fails below */
	for (unsigned w = 0; w < started; w++) {
		pthread_mutex_lock(&f->threads[w].inbox.lock);
		f->threads[w].inbox.quit = 1;
		pthread_cond_signal(&f->threads[w].inbox.cond);
		pthread_mutex_unlock(&f->threads[w].inbox.lock);
		pthread_join(f->threads[w].tid, NULL);
		f->threads[w].inbox.quit = 0;
	}
	return (f->run_err);
}

void
cep_flow_stop(cep_flow *f)
{
	atomic_store(&f->stop, 1);
}

/* ---- reload ------------------------------------------------------------ */

static struct node *
find_node(cep_flow *f, const struct node *like)
{
	for (size_t i = 0; i < f->nnodes; i++) {
		struct node *n = &f->nodes[i];
		if (n->kind == like->kind && strcmp(n->uid, like->uid) == 0) {
			return (n);
		}
	}
	return (NULL);
}

/* carries says whether an operator of the new graph can take over the
 * instances of one of the running graph. */
static int
carries(const struct node *old, const struct node *next)
{
	return (old != NULL && old->cls == next->cls &&
	    old->on_workers == next->on_workers &&
	    next->cls->fingerprint != NULL &&
	    next->cls->fingerprint(next->conf) ==
	        old->cls->fingerprint(old->conf));
}

/* same_source says whether a source of the new graph goes on reading the
 * running graph's reader. */
static int
same_source(const struct node *old, const struct node *next)
{
	return (old != NULL && strcmp(old->path, next->path) == 0);
}

/* take_over moves an old node's instance states (or its reader) into the
 * new node, whose channels start at the old watermark.  The states point
 * into their configuration, so the old configuration goes with them and
 * the new one (equal by fingerprint) is freed with the old node. */
static void
take_over(struct node *old, struct node *next)
{
	if (next->kind == NODE_SOURCE) {
		next->reader = old->reader;
		next->eof    = old->eof;
		old->reader  = NULL;
	}
	if (next->kind == NODE_OP) {
		void *conf = next->conf;
		next->conf = old->conf;
		old->conf  = conf;
	}
	for (unsigned i = 0; i < next->ninst && i < old->ninst; i++) {
		struct instance *a = &old->inst[i], *b = &next->inst[i];
		if (next->kind == NODE_OP) {
			next->cls->destroy(b->state);
			b->state = a->state;
			a->state = NULL;
		}
		b->wm_in   = a->wm_in;
		b->wm_out  = a->wm_out;
		b->wm_hold = a->wm_hold;
		for (unsigned c = 0; c < b->nchan; c++) {
			b->chan_wm[c] = a->wm_in;
		}
	}
}

static cep_err
apply_reload(cep_flow *f, cep_flow *next)
{
	cep_flow_opts opts = { f->nworkers, f->batch, f->in_flight_max };
	cep_err       rv;

	if (next->err != CEP_OK) {
		return (next->err);
	}
	/* What ordered sinks hold goes out before their graph is replaced. */
	if ((rv = drain_sinks(f)) != CEP_OK ||
	    (rv = cep__flow_prepare(next, &opts)) != CEP_OK) {
		return (rv);
	}
	/* Open the new sources first: once states have moved, nothing may
	 * fail, or the running graph would be left without them. */
	for (size_t i = 0; i < next->nnodes; i++) {
		struct node *n = &next->nodes[i];
		if (n->kind == NODE_SOURCE &&
		    !same_source(find_node(f, n), n) &&
		    cep_reader_open(n->path, n->fmt, &n->reader) != CEP_OK) {
			cep__flow_unprepare(next);
			return (CEP_EIO);
		}
	}
	for (size_t i = 0; i < next->nnodes; i++) {
		struct node *n   = &next->nodes[i];
		struct node *old = find_node(f, n);
		if ((n->kind == NODE_SOURCE && same_source(old, n)) ||
		    (n->kind == NODE_OP && carries(old, n))) {
			take_over(old, n);
		}
	}
	/* Swap the graphs; the threads (and their inboxes, now empty) stay. */
	for (size_t i = 0; i < f->nnodes; i++) {
		unplace(&f->nodes[i]);
		cep__node_fini(&f->nodes[i]);
	}
	cep_free(f->nodes, f->nodes_cap * sizeof(struct node));
	for (size_t i = 0; i < f->nstreams; i++) {
		cep_free(f->streams[i], sizeof(cep_stream));
	}
	cep_free(f->streams, f->streams_cap * sizeof(cep_stream *));
	f->nodes       = next->nodes;
	f->nnodes      = next->nnodes;
	f->nodes_cap   = next->nodes_cap;
	f->streams     = next->streams;
	f->nstreams    = next->nstreams;
	f->streams_cap = next->streams_cap;
	for (size_t i = 0; i < f->nstreams; i++) {
		f->streams[i]->f = f;
	}
	next->nodes     = NULL;
	next->nnodes    = 0;
	next->nodes_cap = 0;
	next->streams   = NULL;
	next->nstreams  = 0;
	/* next's own threads were never started. */
	cep_flow_destroy(next);
	return (CEP_OK);
}

cep_err
cep_flow_reload(cep_flow *running, cep_flow *next)
{
	cep_err rv;

	pthread_mutex_lock(&running->lock);
	if (!running->running || running->reload_next != NULL) {
		pthread_mutex_unlock(&running->lock);
		return (CEP_ESTATE);
	}
	running->reload_next = next;
	running->reload_done = 0;
	while (!running->reload_done) {
		pthread_cond_wait(&running->cond, &running->lock);
	}
	rv = running->reload_err;
	pthread_mutex_unlock(&running->lock);
	return (rv);
}

/* ---- saving and loading ------------------------------------------------ */

static void
instance_ns(const struct node *n, unsigned i, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%u", n->uid, i);
}

/* The flow's own entry ("#flow", key "workers"): keyed state is split
 * among the workers by key hash, so a flow that has some loads only into
 * as many workers. */
#define FLOW_NS "#flow"

static cep_err
check_workers(
    void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	const cep_flow *f     = arg;
	int             keyed = 0;
	cep_rd          r;
	uint64_t        n;

	if (klen != 7 || memcmp(key, "workers", 7) != 0) {
		return (CEP_ECORRUPT);
	}
	cep_rd_init(&r, val, vlen);
	n = cep_rd_varint(&r);
	if (cep_rd_status(&r) != CEP_OK) {
		return (CEP_ECORRUPT);
	}
	for (size_t i = 0; i < f->nnodes; i++) {
		const struct node *nd = &f->nodes[i];
		keyed |= nd->kind == NODE_OP && nd->on_workers &&
		    nd->cls->save != NULL;
	}
	return (n == f->nworkers || !keyed ? CEP_OK : CEP_EINVAL);
}

cep_err
cep_flow_save(cep_flow *f, cep_state_out *out)
{
	char    ns[512];
	cep_buf b;
	cep_err rv;

	if (!f->prepared || f->running) {
		return (CEP_ESTATE);
	}
	cep_buf_init(&b);
	cep_buf_put_varint(&b, f->nworkers);
	if ((rv = cep_buf_status(&b)) == CEP_OK) {
		rv = cep_state_put(out, FLOW_NS, "workers", 7, b.data, b.len);
	}
	cep_buf_fini(&b);
	for (size_t i = 0; i < f->nnodes && rv == CEP_OK; i++) {
		struct node *n = &f->nodes[i];
		for (unsigned k = 0; n->kind == NODE_OP &&
		     n->cls->save != NULL && k < n->ninst && rv == CEP_OK;
		     k++) {
			instance_ns(n, k, ns, sizeof(ns));
			rv = n->cls->save(n->inst[k].state, ns, out);
		}
	}
	return (rv);
}

cep_err
cep_flow_load(cep_flow *f, const cep_flow_opts *opts, cep_state_in *in)
{
	char    ns[512];
	cep_err rv;

	if (f->running) {
		return (CEP_ESTATE);
	}
	if ((rv = cep__flow_prepare(f, opts)) != CEP_OK ||
	    (rv = cep_state_each(in, FLOW_NS, check_workers, f)) != CEP_OK) {
		return (rv);
	}
	for (size_t i = 0; i < f->nnodes && rv == CEP_OK; i++) {
		struct node *n = &f->nodes[i];
		for (unsigned k = 0; n->kind == NODE_OP &&
		     n->cls->load != NULL && k < n->ninst && rv == CEP_OK;
		     k++) {
			instance_ns(n, k, ns, sizeof(ns));
			rv = n->cls->load(n->inst[k].state, ns, in);
		}
	}
	return (rv);
}
