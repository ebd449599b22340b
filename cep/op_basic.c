/* SPDX-License-Identifier: MIT */
/*
 * op_basic.c: the stateless operators: map, filter, flat_map, key_by and
 * union.
 *
 * They keep no state of their own (an instance is its configuration) and
 * pass events they do not change through without copying them.  key_by
 * marks records with the hash of their key value, which the runtime uses
 * to partition them among the workers; records without a usable key leave
 * through the "no_key" side output.
 */
#include <math.h>
#include <string.h>

#include "cep/flow_impl.h"
#include "cep/hash.h"

#define KEY_SEED 0x6b65795f6279ull

struct fn_conf {
	void *fn;
	void *arg;
};

static cep_err
conf_create(const void *conf, int ordered, void **inst)
{
	(void) ordered;
	*inst = (void *) (uintptr_t) conf;
	return (CEP_OK);
}

static void
inst_destroy(void *inst)
{
	(void) inst;
}

static void
fn_conf_free(void *conf)
{
	cep_free(conf, sizeof(struct fn_conf));
}

static uint64_t
fn_conf_fingerprint(const void *conf)
{
	const struct fn_conf *c = conf;

	return (cep_hash64(c, sizeof(*c), 0));
}

static cep_stream *
add_fn_op(cep_stream *in, const cep_op_class *cls, void *fn, void *arg)
{
	struct fn_conf *c;

	if (in == NULL) {
		return (NULL);
	}
	if ((c = cep_zalloc(sizeof(*c))) == NULL) {
		in->f->err = in->f->err != CEP_OK ? in->f->err : CEP_ENOMEM;
		return (NULL);
	}
	c->fn  = fn;
	c->arg = arg;
	return (cep__flow_add_op(in->f, &in, 1, cls, c));
}

/* ---- map --------------------------------------------------------------- */

static cep_err
map_push(void *inst, unsigned port, const cep_record *recs, size_t n,
    cep_op_ctx *ctx)
{
	const struct fn_conf *c  = inst;
	cep_map_fn            fn = (cep_map_fn) (uintptr_t) c->fn;
	cep_builder          *b  = cep_op_builder(ctx);

	(void) port;
	for (size_t i = 0; i < n; i++) {
		cep_record r = recs[i];
		cep_err    rv;
		if (r.ev == NULL) {
			continue;
		}
		cep_builder_reset(b);
		rv = fn(c->arg, r.ev, b);
		if (rv == CEP_ENOENT) {
			continue;
		}
		if (rv != CEP_OK) {
			return (rv);
		}
		if ((r.ev = cep_builder_peek(b)) == NULL) {
			/* CEP_OK without a finished event: a broken map
			 * function, never a reason to skip the batch. */
			rv = cep_builder_status(b);
			return (rv != CEP_OK ? rv : CEP_EINVAL);
		}
		if ((rv = cep_op_emit(ctx, &r)) != CEP_OK) {
			return (rv);
		}
	}
	return (CEP_OK);
}

const cep_op_class cep__op_map = {
	.name        = "map",
	.inputs      = 1,
	.create      = conf_create,
	.push        = map_push,
	.destroy     = inst_destroy,
	.conf_free   = fn_conf_free,
	.fingerprint = fn_conf_fingerprint,
};

cep_stream *
cep_flow_map(cep_stream *in, cep_map_fn fn, void *arg)
{
	return (add_fn_op(in, &cep__op_map, (void *) (uintptr_t) fn, arg));
}

/* ---- filter ------------------------------------------------------------ */

static cep_err
filter_push(void *inst, unsigned port, const cep_record *recs, size_t n,
    cep_op_ctx *ctx)
{
	const struct fn_conf *c  = inst;
	cep_filter_fn         fn = (cep_filter_fn) (uintptr_t) c->fn;

	(void) port;
	for (size_t i = 0; i < n; i++) {
		cep_err rv;
		if (recs[i].ev == NULL || !fn(c->arg, recs[i].ev)) {
			continue;
		}
		if ((rv = cep_op_forward(ctx, &recs[i])) != CEP_OK) {
			return (rv);
		}
	}
	return (CEP_OK);
}

const cep_op_class cep__op_filter = {
	.name        = "filter",
	.inputs      = 1,
	.create      = conf_create,
	.push        = filter_push,
	.destroy     = inst_destroy,
	.conf_free   = fn_conf_free,
	.fingerprint = fn_conf_fingerprint,
};

cep_stream *
cep_flow_filter(cep_stream *in, cep_filter_fn fn, void *arg)
{
	return (add_fn_op(in, &cep__op_filter, (void *) (uintptr_t) fn, arg));
}

/* ---- flat_map ---------------------------------------------------------- */

struct cep_flat_out {
	cep_op_ctx *ctx;
	cep_record  tmpl; /* time, watermark and sequence of the input */
};

cep_err
cep_flat_emit(cep_flat_out *out, const cep_event *ev)
{
	cep_record r = out->tmpl;

	r.ev = ev;
	return (cep_op_emit(out->ctx, &r));
}

static cep_err
flat_map_push(void *inst, unsigned port, const cep_record *recs, size_t n,
    cep_op_ctx *ctx)
{
	const struct fn_conf *c  = inst;
	cep_flat_map_fn       fn = (cep_flat_map_fn) (uintptr_t) c->fn;

	(void) port;
	for (size_t i = 0; i < n; i++) {
		cep_flat_out out = { ctx, recs[i] };
		cep_err      rv;
		if (recs[i].ev != NULL &&
		    (rv = fn(c->arg, recs[i].ev, &out)) != CEP_OK) {
			return (rv);
		}
	}
	return (CEP_OK);
}

const cep_op_class cep__op_flat_map = {
	.name        = "flat_map",
	.inputs      = 1,
	.create      = conf_create,
	.push        = flat_map_push,
	.destroy     = inst_destroy,
	.conf_free   = fn_conf_free,
	.fingerprint = fn_conf_fingerprint,
};

cep_stream *
cep_flow_flat_map(cep_stream *in, cep_flat_map_fn fn, void *arg)
{
	return (
	    add_fn_op(in, &cep__op_flat_map, (void *) (uintptr_t) fn, arg));
}

/* ---- key_by ------------------------------------------------------------ */

static void
path_free(void *conf)
{
	cep_path_fini(conf);
	cep_free(conf, sizeof(cep_path));
}

static uint64_t
path_fingerprint(const void *conf)
{
	const cep_path *p = conf;

	return (p->text != NULL ? cep_hash64(p->text, strlen(p->text), 1) : 1);
}

/* cep__key_of reads a record's key for partitioning: a string, an integer,
 * a boolean or a number; 0 when there is none.  Equal values (1 and 1.0
 * included) hash alike. */
int
cep__key_of(
    const cep_path *path, const cep_event *ev, cep_val *v, uint64_t *hash)
{
	if (path->n == 0) {
		*v    = cep_val_null();
		*hash = 0;
		return (1);
	}
	cep_slot_val(ev, cep_event_find_path(ev, path->syms, path->n), v);
	switch ((cep_type) v->type) {
	case CEP_T_STR:
	case CEP_T_INT:
	case CEP_T_BOOL:
		break;
	case CEP_T_DOUBLE:
		if (isnan(v->u.d)) {
			return (0);
		}
		break;
	case CEP_T_NULL:
	case CEP_T_MAP:
	case CEP_T_ARRAY:
		return (0);
	}
	*hash = cep_val_hash(v, KEY_SEED);
	return (1);
}

static cep_err
key_by_push(void *inst, unsigned port, const cep_record *recs, size_t n,
    cep_op_ctx *ctx)
{
	const cep_path *path = inst;

	(void) port;
	for (size_t i = 0; i < n; i++) {
		cep_record r = recs[i];
		cep_val    v;
		cep_err    rv;
		if (r.ev == NULL) {
			continue;
		}
		rv = cep__key_of(path, r.ev, &v, &r.khash)
		    ? cep_op_forward(ctx, &r)
		    : cep_op_emit_side(ctx, "no_key", &r);
		if (rv != CEP_OK) {
			return (rv);
		}
	}
	return (CEP_OK);
}

const cep_op_class cep__op_key_by = {
	.name        = "key_by",
	.flags       = CEP_OP_PARTITIONS,
	.inputs      = 1,
	.create      = conf_create,
	.push        = key_by_push,
	.destroy     = inst_destroy,
	.conf_free   = path_free,
	.fingerprint = path_fingerprint,
};

cep_stream *
cep_flow_key_by(cep_stream *in, const char *field)
{
	cep_path *p;

	if (in == NULL) {
		return (NULL);
	}
	if ((p = cep_zalloc(sizeof(*p))) == NULL ||
	    (field != NULL &&
	        cep_path_parse(p, field, strlen(field)) != CEP_OK)) {
		cep_free(p, sizeof(*p));
		in->f->err = in->f->err != CEP_OK ? in->f->err : CEP_EINVAL;
		return (NULL);
	}
	return (cep__flow_add_op(in->f, &in, 1, &cep__op_key_by, p));
}

/* ---- union ------------------------------------------------------------- */

static cep_err
union_push(void *inst, unsigned port, const cep_record *recs, size_t n,
    cep_op_ctx *ctx)
{
	(void) inst;
	(void) port;
	for (size_t i = 0; i < n; i++) {
		cep_err rv;
		if (recs[i].ev != NULL &&
		    (rv = cep_op_forward(ctx, &recs[i])) != CEP_OK) {
			return (rv);
		}
	}
	return (CEP_OK);
}

static uint64_t
union_fingerprint(const void *conf)
{
	(void) conf;
	return (2);
}

const cep_op_class cep__op_union = {
	.name        = "union",
	.inputs      = 2,
	.create      = conf_create,
	.push        = union_push,
	.destroy     = inst_destroy,
	.fingerprint = union_fingerprint,
};

cep_stream *
cep_flow_union(cep_stream *a, cep_stream *b)
{
	cep_stream *in[2] = { a, b };

	if (a == NULL || b == NULL) {
		return (NULL);
	}
	return (cep__flow_add_op(a->f, in, 2, &cep__op_union, NULL));
}
