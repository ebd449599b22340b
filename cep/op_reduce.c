/* SPDX-License-Identifier: MIT */
/*
 * op_reduce.c: a rolling reduce per key.
 *
 * For each event the user function folds it into the key's previous
 * result (none at first) and the new result is kept and emitted, with the
 * event's time and sequence.  The result depends on input order, so with
 * several input channels records are applied in (time, sequence) order
 * once the watermark passes them.
 */
#include <string.h>

#include "cep/codec.h"
#include "cep/flow_impl.h"
#include "cep/keytab.h"
#include "cep/reorder.h"

struct reduce_conf {
	cep_reduce_fn fn;
	void         *arg;
	cep_path      key;
};

struct reduce_inst {
	const struct reduce_conf *c;
	int                       ordered;
	cep_keytab                keys;
	cep_event               **acc; /* per key slot */
	size_t                    acc_cap;
	cep_slab                 *slab;
	cep_reorder               held;
	cep_op_ctx               *ctx; /* during push */
	int64_t                   wm;
};

static cep_err
reduce_create(const void *conf, int ordered, void **out)
{
	struct reduce_inst *r = cep_zalloc(sizeof(*r));

	if (r == NULL) {
		return (CEP_ENOMEM);
	}
	r->c       = conf;
	r->ordered = ordered;
	r->wm      = CEP_WM_MIN;
	cep_keytab_init(&r->keys);
	if ((r->slab = cep_slab_create()) == NULL ||
	    cep_reorder_init(&r->held) != CEP_OK) {
		cep_slab_destroy(r->slab);
		cep_free(r, sizeof(*r));
		return (CEP_ENOMEM);
	}
	*out = r;
	return (CEP_OK);
}

static void
reduce_destroy(void *inst)
{
	struct reduce_inst *r = inst;

	for (uint32_t i = 0; i < r->keys.n; i++) {
		if (r->acc[i] != NULL) {
			cep_event_unref(r->acc[i], r->slab);
		}
	}
	cep_free(r->acc, r->acc_cap * sizeof(cep_event *));
	cep_reorder_fini(&r->held);
	cep_keytab_fini(&r->keys);
	cep_slab_destroy(r->slab);
	cep_free(r, sizeof(*r));
}

static cep_err
acc_slot(struct reduce_inst *r, const cep_val *key, uint32_t *slot)
{
	size_t  old = r->acc_cap;
	cep_err rv  = cep_keytab_get(&r->keys, key, slot);

	if (rv == CEP_OK && *slot >= r->acc_cap) {
		if (cep_grow(&r->acc, &r->acc_cap, (size_t) *slot + 1,
		        sizeof(cep_event *)) != 0) {
			return (CEP_ENOMEM);
		}
		memset(
		    &r->acc[old], 0, (r->acc_cap - old) * sizeof(cep_event *));
	}
	return (rv);
}

/* fold applies one record: the new result replaces the old and goes out. */
static cep_err
fold(void *arg, const cep_record *rec)
{
	struct reduce_inst *r = arg;
	cep_builder        *b = cep_op_builder(r->ctx);
	cep_val             key;
	uint64_t            h;
	uint32_t            slot;
	cep_event          *next;
	cep_err             rv;

	if (!cep__key_of(&r->c->key, rec->ev, &key, &h)) {
		return (CEP_OK);
	}
	if ((rv = acc_slot(r, &key, &slot)) != CEP_OK) {
		return (rv);
	}
	cep_builder_reset(b);
	if ((rv = r->c->fn(r->c->arg, r->acc[slot], rec->ev, b)) != CEP_OK) {
		cep_builder_reset(b);
		return (rv);
	}
	if ((rv = cep_builder_finish(b, r->slab, &next)) != CEP_OK) {
		return (rv);
	}
	if (r->acc[slot] != NULL) {
		cep_event_unref(r->acc[slot], r->slab);
	}
	r->acc[slot] = next;
	{
		cep_record out = *rec;
		out.ev         = next;
		out.wm         = CEP_WM_MIN;
		return (cep_op_emit(r->ctx, &out));
	}
}

static cep_err
reduce_push(void *inst, unsigned port, const cep_record *recs, size_t n,
    cep_op_ctx *ctx)
{
	struct reduce_inst *r  = inst;
	cep_err             rv = CEP_OK;

	(void) port;
	r->ctx = ctx;
	for (size_t i = 0; i < n && rv == CEP_OK; i++) {
		if (recs[i].ev != NULL) {
			rv = r->ordered ? fold(r, &recs[i])
			                : cep_reorder_hold(&r->held, &recs[i]);
		}
		if (rv == CEP_OK && recs[i].wm > r->wm) {
			r->wm = recs[i].wm;
			rv    = cep_reorder_release(&r->held, r->wm, fold, r);
		}
	}
	r->ctx = NULL;
	return (rv);
}

/* One entry per key (its value as the key, its result as msgpack), and
 * one with an empty key for the watermark and the held records. */
static cep_err
save_key(void *arg, uint32_t slot, cep_buf *val)
{
	struct reduce_inst *r = arg;

	if (r->acc[slot] == NULL) {
		return (CEP_ENOENT);
	}
	return (cep_msgpack_write_event(val, r->acc[slot]));
}

static cep_err
reduce_save(void *inst, const char *ns, cep_state_out *out)
{
	struct reduce_inst *r = inst;
	cep_buf             head;
	cep_err             rv;

	cep_buf_init(&head);
	cep_buf_put_i64(&head, r->wm);
	if ((rv = cep_reorder_save(&r->held, &head)) == CEP_OK) {
		rv = cep_keytab_save(&r->keys, ns, out, &head, save_key, r);
	}
	cep_buf_fini(&head);
	return (rv);
}

static cep_err
load_head(void *arg, cep_rd *val)
{
	struct reduce_inst *r = arg;

	r->wm = cep_rd_i64(val);
	return (cep_reorder_load(&r->held, val));
}

static cep_err
load_key(void *arg, const cep_val *key, cep_rd *val)
{
	struct reduce_inst *r = arg;
	cep_event          *ev;
	uint32_t            slot;
	cep_err             rv;

	if ((rv = acc_slot(r, key, &slot)) != CEP_OK ||
	    (rv = cep_state_read_event(val, r->slab, &ev)) != CEP_OK) {
		return (rv);
	}
	if (cep_rd_left(val) != 0) {
		cep_event_unref(ev, r->slab);
		return (CEP_ECORRUPT);
	}
	if (r->acc[slot] != NULL) {
		cep_event_unref(r->acc[slot], r->slab);
	}
	r->acc[slot] = ev;
	return (CEP_OK);
}

static cep_err
reduce_load(void *inst, const char *ns, cep_state_in *in)
{
	return (cep_keytab_load(in, ns, load_head, load_key, inst));
}

static void
reduce_conf_free(void *conf)
{
	struct reduce_conf *c = conf;

	cep_path_fini(&c->key);
	cep_free(c, sizeof(*c));
}

static uint64_t
reduce_fingerprint(const void *conf)
{
	const struct reduce_conf *c = conf;
	uintptr_t p[2] = { (uintptr_t) c->fn, (uintptr_t) c->arg };

	return (cep_hash64(p, sizeof(p), 0x726564));
}

const cep_op_class cep__op_reduce = {
	.name        = "reduce",
	.flags       = CEP_OP_KEYED,
	.inputs      = 1,
	.create      = reduce_create,
	.push        = reduce_push,
	.save        = reduce_save,
	.load        = reduce_load,
	.destroy     = reduce_destroy,
	.conf_free   = reduce_conf_free,
	.fingerprint = reduce_fingerprint,
};

cep_stream *
cep_flow_reduce(cep_stream *keyed, cep_reduce_fn fn, void *arg)
{
	struct reduce_conf *c;
	const cep_path     *key;

	if (keyed == NULL) {
		return (NULL);
	}
	key = cep__stream_key(keyed);
	if (key == NULL || fn == NULL ||
	    (c = cep_zalloc(sizeof(*c))) == NULL) {
		keyed->f->err =
		    keyed->f->err != CEP_OK ? keyed->f->err : CEP_EINVAL;
		return (NULL);
	}
	c->fn  = fn;
	c->arg = arg;
	if (key->n > 0 &&
	    cep_path_parse(&c->key, key->text, strlen(key->text)) != CEP_OK) {
		reduce_conf_free(c);
		keyed->f->err =
		    keyed->f->err != CEP_OK ? keyed->f->err : CEP_ENOMEM;
		return (NULL);
	}
	return (cep__flow_add_op(keyed->f, &keyed, 1, &cep__op_reduce, c));
}
