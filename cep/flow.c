/* SPDX-License-Identifier: MIT */
/*
 * flow.c: building a dataflow graph.
 *
 * Nodes are appended after their inputs, so the node array is always in a
 * topological order; the runtime relies on it.  Every builder checks its
 * inputs and records the first error in the flow; a NULL input gives a
 * NULL output without a new error, so chains of calls fail as a whole.
 */
#include <stdio.h>
#include <string.h>

#include "cep/flow_impl.h"

static cep_stream *
fail(cep_flow *f, cep_err err)
{
	if (f != NULL && f->err == CEP_OK) {
		f->err = err;
	}
	return (NULL);
}

cep_err
cep_flow_create(cep_flow **out)
{
	cep_flow *f = cep_zalloc(sizeof(*f));

	if (f == NULL) {
		return (CEP_ENOMEM);
	}
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	pthread_mutex_init(&f->sink_lock, NULL);
	atomic_init(&f->stop, 0);
	atomic_init(&f->failed, 0);
	*out = f;
	return (CEP_OK);
}

void
cep__node_fini(struct node *n)
{
	if (n->cls != NULL && n->cls->conf_free != NULL && n->conf != NULL) {
		n->cls->conf_free(n->conf);
	}
	n->conf = NULL;
	cep_strfree(n->uid);
	cep_strfree(n->path);
	cep_free(n->in, n->nin * sizeof(struct port_in));
	for (unsigned i = 0; i < n->nsides; i++) {
		cep_strfree(n->sides[i]);
	}
	cep_free(n->sides, n->sides_cap * sizeof(char *));
	if (n->ordered) {
		cep_reorder_fini(&n->held);
	}
	memset(n, 0, sizeof(*n));
}

void
cep_flow_destroy(cep_flow *f)
{
	if (f == NULL) {
		return;
	}
	cep__flow_unprepare(f);
	for (size_t i = 0; i < f->nnodes; i++) {
		cep__node_fini(&f->nodes[i]);
	}
	cep_free(f->nodes, f->nodes_cap * sizeof(struct node));
	for (size_t i = 0; i < f->nstreams; i++) {
		cep_free(f->streams[i], sizeof(cep_stream));
	}
	cep_free(f->streams, f->streams_cap * sizeof(cep_stream *));
	cep_strfree(f->next_uid);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->sink_lock);
	cep_free(f, sizeof(*f));
}

cep_err
cep_flow_error(const cep_flow *f)
{
	return (f->err);
}

void
cep_flow_set_error(cep_flow *f, cep_err err)
{
	fail(f, err);
}

cep_flow *
cep_stream_flow(const cep_stream *s)
{
	return (s->f);
}

void
cep_flow_name_next(cep_flow *f, const char *uid)
{
	cep_strfree(f->next_uid);
	f->next_uid = NULL;
	if (uid == NULL) {
		return;
	}
	/* Default names begin with '#'; a name may be given once. */
	if (uid[0] == '\0' || uid[0] == '#') {
		fail(f, CEP_EINVAL);
		return;
	}
	for (size_t i = 0; i < f->nnodes; i++) {
		if (strcmp(f->nodes[i].uid, uid) == 0) {
			fail(f, CEP_EEXIST);
			return;
		}
	}
	if ((f->next_uid = cep_strdup(uid)) == NULL) {
		fail(f, CEP_ENOMEM);
	}
}

void
cep_flow_on_bad_record(cep_flow *f, cep_bad_record_fn fn, void *arg)
{
	f->bad_fn  = fn;
	f->bad_arg = arg;
}

static cep_stream *
handle(cep_flow *f, uint32_t node, uint16_t side)
{
	cep_stream *s;

	for (size_t i = 0; i < f->nstreams; i++) {
		if (f->streams[i]->node == node &&
		    f->streams[i]->side == side) {
			return (f->streams[i]);
		}
	}
	if (cep_grow(&f->streams, &f->streams_cap, f->nstreams + 1,
	        sizeof(cep_stream *)) != 0 ||
	    (s = cep_zalloc(sizeof(*s))) == NULL) {
		return (fail(f, CEP_ENOMEM));
	}
	s->f                      = f;
	s->node                   = node;
	s->side                   = side;
	f->streams[f->nstreams++] = s;
	return (s);
}

/* add_node appends a node with n inputs, named by cep_flow_name_next or by
 * its position ("#3"). */
static struct node *
add_node(cep_flow *f, node_kind kind, cep_stream *const *in, size_t n)
{
	struct node *node;
	char         uid[32];

	if (f->prepared) {
		fail(f, CEP_ESTATE);
		return (NULL);
	}
	if (cep_grow(&f->nodes, &f->nodes_cap, f->nnodes + 1,
	        sizeof(struct node)) != 0) {
		fail(f, CEP_ENOMEM);
		return (NULL);
	}
	node = &f->nodes[f->nnodes];
	memset(node, 0, sizeof(*node));
	node->kind = kind;
	snprintf(uid, sizeof(uid), "#%zu", f->nnodes);
	node->uid       = f->next_uid != NULL ? f->next_uid : cep_strdup(uid);
	f->next_uid     = NULL;
	node->in        = cep_calloc(n + 1, sizeof(struct port_in));
	node->sides     = cep_calloc(1, sizeof(char *));
	node->nsides    = 1;
	node->sides_cap = 1;
	if (node->uid == NULL || node->in == NULL || node->sides == NULL) {
		cep__node_fini(node);
		fail(f, CEP_ENOMEM);
		return (NULL);
	}
	for (size_t i = 0; i < n; i++) {
		node->in[i].from = in[i]->node;
		node->in[i].side = in[i]->side;
	}
	node->nin = (unsigned) n;
	f->nnodes++;
	return (node);
}

/* inputs_ok checks that every input is a stream of f; for keyed classes,
 * that each comes straight from a key_by. */
static int
inputs_ok(cep_flow *f, cep_stream *const *in, size_t n, uint32_t flags)
{
	for (size_t i = 0; i < n; i++) {
		const struct node *src;
		if (in[i] == NULL) {
			return (0); /* the error is already recorded */
		}
		if (in[i]->f != f) {
			fail(f, CEP_EINVAL);
			return (0);
		}
		src = &f->nodes[in[i]->node];
		if ((flags & CEP_OP_KEYED) &&
		    (src->kind != NODE_OP ||
		        (src->cls->flags & CEP_OP_PARTITIONS) == 0 ||
		        in[i]->side != 0)) {
			fail(f, CEP_EINVAL);
			return (0);
		}
	}
	return (1);
}

cep_stream *
cep__flow_add_op(cep_flow *f, cep_stream *const *in, size_t n,
    const cep_op_class *cls, void *conf)
{
	struct node *node;

	if (f == NULL || n != cls->inputs ||
	    !inputs_ok(f, in, n, cls->flags) ||
	    (node = add_node(f, NODE_OP, in, n)) == NULL) {
		if (cls->conf_free != NULL && conf != NULL) {
			cls->conf_free(conf);
		}
		if (f != NULL && n != cls->inputs) {
			fail(f, CEP_EINVAL);
		}
		return (NULL);
	}
	node->cls  = cls;
	node->conf = conf;
	return (handle(f, (uint32_t) (node - f->nodes), 0));
}

cep_stream *
cep_flow_op(
    cep_stream *const *in, size_t n, const cep_op_class *cls, void *conf)
{
	cep_flow *f = n > 0 && in[0] != NULL ? in[0]->f : NULL;

	if (cls->flags & CEP_OP_PARTITIONS) {
		/* Reserved for key_by: partitioning is the runtime's. */
		if (cls->conf_free != NULL && conf != NULL) {
			cls->conf_free(conf);
		}
		return (fail(f, CEP_EINVAL));
	}
	return (cep__flow_add_op(f, in, n, cls, conf));
}

cep_stream *
cep_flow_file(cep_flow *f, const char *path, cep_format fmt)
{
	struct node *node = add_node(f, NODE_SOURCE, NULL, 0);

	if (node == NULL) {
		return (NULL);
	}
	node->fmt = fmt;
	if ((node->path = cep_strdup(path != NULL ? path : "-")) == NULL) {
		return (fail(f, CEP_ENOMEM));
	}
	return (handle(f, (uint32_t) (node - f->nodes), 0));
}

cep_stream *
cep_flow_side(cep_stream *s, const char *side)
{
	struct node *node;
	char        *name;

	if (s == NULL) {
		return (NULL);
	}
	node = &s->f->nodes[s->node];
	if (node->kind != NODE_OP) {
		return (fail(s->f, CEP_EINVAL));
	}
	for (unsigned i = 1; i < node->nsides; i++) {
		if (strcmp(node->sides[i], side) == 0) {
			return (handle(s->f, s->node, (uint16_t) i));
		}
	}
	if (s->f->prepared) {
		return (fail(s->f, CEP_ESTATE));
	}
	if ((name = cep_strdup(side)) == NULL ||
	    cep_grow(&node->sides, &node->sides_cap, (size_t) node->nsides + 1,
	        sizeof(char *)) != 0) {
		cep_strfree(name);
		return (fail(s->f, CEP_ENOMEM));
	}
	node->sides[node->nsides] = name;
	return (handle(s->f, s->node, (uint16_t) node->nsides++));
}

static struct node *
add_sink(cep_stream *in, cep_sink_fn fn, void *arg)
{
	struct node *node;

	if (in == NULL) {
		return (NULL);
	}
	if (fn == NULL) {
		fail(in->f, CEP_EINVAL);
		return (NULL);
	}
	if ((node = add_node(in->f, NODE_SINK, &in, 1)) == NULL) {
		return (NULL);
	}
	node->sink     = fn;
	node->sink_arg = arg;
	return (node);
}

void
cep_flow_sink(cep_stream *in, cep_sink_fn fn, void *arg)
{
	(void) add_sink(in, fn, arg);
}

void
cep_flow_sink_ordered(cep_stream *in, cep_sink_fn fn, void *arg)
{
	struct node *node = add_sink(in, fn, arg);

	if (node == NULL) {
		return;
	}
	if (cep_reorder_init(&node->held) != CEP_OK) {
		cep_reorder_fini(&node->held);
		fail(in->f, CEP_ENOMEM);
		return;
	}
	node->ordered = 1;
}

const cep_path *
cep__stream_key(const cep_stream *keyed)
{
	const struct node *n = &keyed->f->nodes[keyed->node];

	return (n->kind == NODE_OP && (n->cls->flags & CEP_OP_PARTITIONS)
	        ? (const cep_path *) n->conf
	        : NULL);
}
