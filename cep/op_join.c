/* SPDX-License-Identifier: MIT */
/*
 * op_join.c: the interval join of two keyed streams (Flink's
 * KeyedStream.intervalJoin).
 *
 * Left record l and right record r with equal keys join when
 * l.ts + lower <= r.ts <= l.ts + upper, bounds included.  Each side keeps
 * its records per key; a new record is joined with the other side's and
 * then kept.  A left record can be forgotten once the watermark passes
 * l.ts + upper (no right record early enough can come), a right one once
 * it passes r.ts - lower.  Records older than the watermark are late.
 * The result's time is the later of the two; its sequence is derived from
 * both, so it does not depend on which side arrived first.
 */
#include <string.h>

#include "cep/codec.h"
#include "cep/flow_impl.h"
#include "cep/heap.h"
#include "cep/keytab.h"

struct join_conf {
	int64_t     lower;
	int64_t     upper;
	cep_join_fn fn;
	void       *arg;
	cep_path    key[2];
};

struct jrec {
	cep_event *ev;
	int64_t    ts;
	uint64_t   seq;
};

struct jside {
	struct jrec *r;
	uint32_t     n;
	uint32_t     cap;
};

struct jkey {
	struct jside side[2];
	int64_t      timer;
};

struct timer {
	int64_t  at;
	uint32_t slot;
	uint32_t gen;
};

struct join_inst {
	const struct join_conf *c;
	cep_keytab              keys;
	struct jkey            *ks;
	size_t                  ks_cap;
	cep_heap                timers;
	cep_slab               *slab;
	int64_t                 wm;
};

static int
timer_less(const void *a, const void *b)
{
	const struct timer *x = a, *y = b;

	return (x->at != y->at ? x->at < y->at : x->slot < y->slot);
}

static cep_err
join_create(const void *conf, int ordered, void **out)
{
	struct join_inst *j = cep_zalloc(sizeof(*j));

	(void) ordered; /* pairs do not depend on arrival order */
	if (j == NULL) {
		return (CEP_ENOMEM);
	}
	j->c  = conf;
	j->wm = CEP_WM_MIN;
	cep_keytab_init(&j->keys);
	cep_heap_init(&j->timers, sizeof(struct timer), timer_less);
	if ((j->slab = cep_slab_create()) == NULL) {
		cep_free(j, sizeof(*j));
		return (CEP_ENOMEM);
	}
	*out = j;
	return (CEP_OK);
}

static void
side_clear(struct join_inst *j, struct jside *s)
{
	for (uint32_t i = 0; i < s->n; i++) {
		cep_event_unref(s->r[i].ev, j->slab);
	}
	s->n = 0;
}

static void
join_destroy(void *inst)
{
	struct join_inst *j = inst;

	for (uint32_t i = 0; i < j->keys.n; i++) {
		for (int s = 0; s < 2; s++) {
			side_clear(j, &j->ks[i].side[s]);
			cep_free(j->ks[i].side[s].r,
			    j->ks[i].side[s].cap * sizeof(struct jrec));
		}
	}
	cep_free(j->ks, j->ks_cap * sizeof(struct jkey));
	cep_heap_fini(&j->timers);
	cep_keytab_fini(&j->keys);
	cep_slab_destroy(j->slab);
	cep_free(j, sizeof(*j));
}

static cep_err
key_state(struct join_inst *j, const cep_val *key, uint32_t *slot)
{
	cep_err rv = cep_keytab_get(&j->keys, key, slot);

	if (rv == CEP_OK && *slot >= j->ks_cap) {
		size_t old = j->ks_cap;
		if (cep_grow(&j->ks, &j->ks_cap, (size_t) *slot + 1,
		        sizeof(struct jkey)) != 0) {
			return (CEP_ENOMEM);
		}
		memset(
		    &j->ks[old], 0, (j->ks_cap - old) * sizeof(struct jkey));
		for (size_t i = old; i < j->ks_cap; i++) {
			j->ks[i].timer = CEP_WM_MAX;
		}
	}
	return (rv);
}

/* expiry is when a record of a side can be forgotten: once the watermark
 * is past it, no record of the other side can still join it. */
static int64_t
expiry(const struct join_conf *c, int side, int64_t ts)
{
	int64_t bound = side == 0 ? c->upper : -c->lower;

	if (bound > 0 && ts > CEP_WM_MAX - bound) {
		return (CEP_WM_MAX);
	}
	if (bound < 0 && ts < CEP_WM_MIN - bound) {
		return (CEP_WM_MIN);
	}
	return (ts + bound);
}

static cep_err
schedule(struct join_inst *j, uint32_t slot)
{
	struct jkey *k    = &j->ks[slot];
	int64_t      next = CEP_WM_MAX;
	struct timer t;

	for (int s = 0; s < 2; s++) {
		for (uint32_t i = 0; i < k->side[s].n; i++) {
			int64_t e = expiry(j->c, s, k->side[s].r[i].ts);
			next      = e < next ? e : next;
		}
	}
	if (next >= k->timer) {
		return (CEP_OK);
	}
	k->timer = next;
	t.at     = next;
	t.slot   = slot;
	t.gen    = j->keys.ents[slot].gen;
	return (cep_heap_push(&j->timers, &t));
}

static cep_err
emit_pair(struct join_inst *j, const struct jrec *l, const struct jrec *r,
    cep_op_ctx *ctx)
{
	cep_builder *b       = cep_op_builder(ctx);
	uint64_t     seqs[2] = { l->seq, r->seq };
	cep_err      rv;

	cep_builder_reset(b);
	if (j->c->fn != NULL) {
		rv = j->c->fn(j->c->arg, l->ev, r->ev, b);
	} else {
		rv = cep_builder_map_begin(b);
		if (rv == CEP_OK) {
			rv = cep_builder_key(b, "left", 4);
		}
		if (rv == CEP_OK) {
			rv = cep_builder_event(b, l->ev);
		}
		if (rv == CEP_OK) {
			rv = cep_builder_key(b, "right", 5);
		}
		if (rv == CEP_OK) {
			rv = cep_builder_event(b, r->ev);
		}
		if (rv == CEP_OK) {
			rv = cep_builder_end(b);
		}
	}
	if (rv != CEP_OK) {
		cep_builder_reset(b);
		return (rv);
	}
	return (cep_op_emit_built(ctx, b, l->ts > r->ts ? l->ts : r->ts,
	    CEP_WM_MIN, cep_hash64(seqs, sizeof(seqs), 0x6a6f696e)));
}

/* add joins a record with the other side's records of its key, then keeps
 * it. */
static cep_err
add(struct join_inst *j, int side, const cep_record *rec, cep_op_ctx *ctx)
{
	const struct join_conf *c = j->c;
	cep_val                 key;
	uint64_t                h;
	uint32_t                slot;
	struct jrec             mine;
	struct jside           *own, *other;
	size_t                  cap;
	cep_err                 rv;

	if (!cep__key_of(&c->key[side], rec->ev, &key, &h)) {
		return (CEP_OK);
	}
	if ((rv = key_state(j, &key, &slot)) != CEP_OK) {
		return (rv);
	}
	own      = &j->ks[slot].side[side];
	other    = &j->ks[slot].side[1 - side];
	mine.ev  = (cep_event *) (uintptr_t) rec->ev;
	mine.ts  = rec->ts;
	mine.seq = rec->seq;
	for (uint32_t i = 0; i < other->n; i++) {
		const struct jrec *o = &other->r[i];
		const struct jrec *l = side == 0 ? &mine : o;
		const struct jrec *r = side == 0 ? o : &mine;
		if (r->ts - l->ts >= c->lower && r->ts - l->ts <= c->upper &&
		    (rv = emit_pair(j, l, r, ctx)) != CEP_OK) {
			return (rv);
		}
	}
	cap = own->cap;
	if (cep_grow(&own->r, &cap, (size_t) own->n + 1,
	        sizeof(struct jrec)) != 0 ||
	    (mine.ev = cep_event_copy(rec->ev, j->slab)) == NULL) {
		return (CEP_ENOMEM);
	}
	own->cap         = (uint32_t) cap;
	own->r[own->n++] = mine;
	return (schedule(j, slot));
}

/* expire forgets records the watermark made useless. */
static cep_err
expire(struct join_inst *j, int64_t wm)
{
	const struct timer *top;
	struct timer        t;
	cep_err             rv = CEP_OK;

	while (rv == CEP_OK && (top = cep_heap_top(&j->timers)) != NULL &&
	    top->at < wm) {
		struct jkey *k;
		cep_heap_pop(&j->timers, &t);
		if (!cep_keytab_used(&j->keys, t.slot) ||
		    j->keys.ents[t.slot].gen != t.gen ||
		    j->ks[t.slot].timer != t.at) {
			continue;
		}
		k        = &j->ks[t.slot];
		k->timer = CEP_WM_MAX;
		for (int s = 0; s < 2; s++) {
			uint32_t kept = 0;
			for (uint32_t i = 0; i < k->side[s].n; i++) {
				if (expiry(j->c, s, k->side[s].r[i].ts) < wm) {
					cep_event_unref(
					    k->side[s].r[i].ev, j->slab);
				} else {
					k->side[s].r[kept++] = k->side[s].r[i];
				}
			}
			k->side[s].n = kept;
		}
		if (k->side[0].n == 0 && k->side[1].n == 0) {
			cep_keytab_remove(&j->keys, t.slot);
		} else {
			rv = schedule(j, t.slot);
		}
	}
	return (rv);
}

static cep_err
join_push(void *inst, unsigned port, const cep_record *recs, size_t n,
    cep_op_ctx *ctx)
{
	struct join_inst *j = inst;
	cep_err           rv;

	for (size_t i = 0; i < n; i++) {
		const cep_record *r = &recs[i];
		if (r->ev != NULL) {
			rv = r->ts < j->wm ? cep_op_emit_side(ctx, "late", r)
			                   : add(j, (int) port, r, ctx);
			if (rv != CEP_OK) {
				return (rv);
			}
		}
		if (r->wm > j->wm) {
			j->wm = r->wm;
			if ((rv = expire(j, j->wm)) != CEP_OK) {
				return (rv);
			}
		}
	}
	return (CEP_OK);
}

/* One entry per key: its value as the key; both sides' records (events as
 * msgpack) as the value.  The empty key holds the watermark. */
static cep_err
save_key(void *arg, uint32_t slot, cep_buf *val)
{
	struct join_inst *j  = arg;
	cep_err           rv = CEP_OK;

	for (int side = 0; side < 2 && rv == CEP_OK; side++) {
		const struct jside *js = &j->ks[slot].side[side];
		cep_buf_put_varint(val, js->n);
		for (uint32_t i = 0; i < js->n && rv == CEP_OK; i++) {
			cep_buf_put_i64(val, js->r[i].ts);
			cep_buf_put_u64(val, js->r[i].seq);
			rv = cep_msgpack_write_event(val, js->r[i].ev);
		}
	}
	return (rv);
}

static cep_err
join_save(void *inst, const char *ns, cep_state_out *out)
{
	struct join_inst *j = inst;
	cep_buf           head;
	cep_err           rv;

	cep_buf_init(&head);
	cep_buf_put_i64(&head, j->wm);
	rv = cep_keytab_save(&j->keys, ns, out, &head, save_key, j);
	cep_buf_fini(&head);
	return (rv);
}

static cep_err
load_side(struct join_inst *j, struct jside *js, cep_rd *r)
{
	uint64_t n = cep_rd_varint(r);
	size_t   cap;

	if (n > cep_rd_left(r)) {
		return (CEP_ECORRUPT);
	}
	for (uint64_t i = 0; i < n; i++) {
		struct jrec rec;
		cep_err     rv;
		rec.ts  = cep_rd_i64(r);
		rec.seq = cep_rd_u64(r);
		if ((rv = cep_state_read_event(r, j->slab, &rec.ev)) !=
		    CEP_OK) {
			return (rv);
		}
		cap = js->cap;
		if (cep_grow(&js->r, &cap, (size_t) js->n + 1,
		        sizeof(struct jrec)) != 0) {
			cep_event_unref(rec.ev, j->slab);
			return (CEP_ENOMEM);
		}
		js->cap        = (uint32_t) cap;
		js->r[js->n++] = rec;
	}
	return (CEP_OK);
}

static cep_err
load_head(void *arg, cep_rd *val)
{
	struct join_inst *j = arg;

	j->wm = cep_rd_i64(val);
	return (cep_rd_status(val));
}

static cep_err
load_key(void *arg, const cep_val *key, cep_rd *val)
{
	struct join_inst *j = arg;
	uint32_t          slot;
	cep_err           rv;

	if ((rv = key_state(j, key, &slot)) != CEP_OK) {
		return (rv);
	}
	for (int side = 0; side < 2 && rv == CEP_OK; side++) {
		rv = load_side(j, &j->ks[slot].side[side], val);
	}
	return (rv != CEP_OK ? rv : schedule(j, slot));
}

static cep_err
join_load(void *inst, const char *ns, cep_state_in *in)
{
	return (cep_keytab_load(in, ns, load_head, load_key, inst));
}

static void
join_conf_free(void *conf)
{
	struct join_conf *c = conf;

	cep_path_fini(&c->key[0]);
	cep_path_fini(&c->key[1]);
	cep_free(c, sizeof(*c));
}

static uint64_t
join_fingerprint(const void *conf)
{
	const struct join_conf *c = conf;
	cep_buf                 b;
	uint64_t                h;

	cep_buf_init(&b);
	cep_buf_put_i64(&b, c->lower);
	cep_buf_put_i64(&b, c->upper);
	cep_buf_printf(&b, "%p|%p|%s|%s", (void *) (uintptr_t) c->fn, c->arg,
	    c->key[0].text != NULL ? c->key[0].text : "",
	    c->key[1].text != NULL ? c->key[1].text : "");
	h = cep_hash64(b.data, b.len, 0x6a6f696e);
	cep_buf_fini(&b);
	return (h);
}

const cep_op_class cep__op_join = {
	.name        = "join",
	.flags       = CEP_OP_KEYED,
	.inputs      = 2,
	.create      = join_create,
	.push        = join_push,
	.save        = join_save,
	.load        = join_load,
	.destroy     = join_destroy,
	.conf_free   = join_conf_free,
	.fingerprint = join_fingerprint,
};

cep_stream *
cep_flow_join(cep_stream *left, cep_stream *right, int64_t lower,
    int64_t upper, cep_join_fn fn, void *arg)
{
	cep_stream       *in[2] = { left, right };
	struct join_conf *c;
	cep_err           rv = CEP_OK;

	if (left == NULL || right == NULL) {
		return (NULL);
	}
	if (lower > upper || cep__stream_key(left) == NULL ||
	    cep__stream_key(right) == NULL ||
	    (c = cep_zalloc(sizeof(*c))) == NULL) {
		left->f->err =
		    left->f->err != CEP_OK ? left->f->err : CEP_EINVAL;
		return (NULL);
	}
	c->lower = lower;
	c->upper = upper;
	c->fn    = fn;
	c->arg   = arg;
	for (int s = 0; s < 2 && rv == CEP_OK; s++) {
		const cep_path *k = cep__stream_key(in[s]);
		if (k->n > 0) {
			rv = cep_path_parse(
			    &c->key[s], k->text, strlen(k->text));
		}
	}
	if (rv != CEP_OK) {
		join_conf_free(c);
		left->f->err = left->f->err != CEP_OK ? left->f->err : rv;
		return (NULL);
	}
	return (cep__flow_add_op(left->f, in, 2, &cep__op_join, c));
}
