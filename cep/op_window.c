/* SPDX-License-Identifier: MIT */
/*
 * op_window.c: keyed event-time windows with aggregates.
 *
 * Tumbling windows [k*size, (k+1)*size), sliding windows of `size` every
 * `every` (an event belongs to size/every of them), and session windows
 * that start at an event, last until `gap` after the last one, and merge
 * when they touch (events exactly gap apart share a session, as Flink's
 * intersecting windows do).  A window fires once the watermark has reached
 * its end, emitting one event per key and window:
 *
 *	{KEY: k, "window_start": s, "window_end": e, TIME: e - 1, AGG: ...}
 *
 * (KEY and TIME are paths; when they share parent maps, TIME is written
 * in those maps next to KEY.)
 *
 * Aggregates: count(); sum, avg, min, max over numeric values (others are
 * skipped); count_distinct over non-null scalars (by 64-bit hash).  An int
 * sum stays an int until it overflows.
 *
 * Order: fed by one channel, records are applied as they come.  Fed by
 * several (after an exchange between workers), they are held until the
 * watermark passes them and applied in (time, sequence) order, so that
 * results (double sums included) do not depend on the interleaving.
 */
#include <stdlib.h>
#include <string.h>

#include "cep/duration.h"
#include "cep/flow_impl.h"
#include "cep/heap.h"
#include "cep/keytab.h"
#include "cep/reorder.h"

struct agg_conf {
	char        *name;
	cep_agg_kind kind;
	cep_path     field;
};

struct window_conf {
	cep_window       w;
	struct agg_conf *aggs;
	size_t           naggs;
	cep_path         key;
	cep_path         time;
};

struct acc {
	int64_t   count; /* events (count), or values (others) */
	int64_t   isum;
	double    dsum;
	uint8_t   real;     /* a double or an overflow joined the sum */
	uint8_t   has;      /* min/max hold a value */
	cep_val   ext;      /* min or max (a number) */
	uint64_t *distinct; /* value hashes, deduplicated lazily */
	size_t    ndistinct;
	size_t    distinct_cap;
};

struct win {
	int64_t     start;
	int64_t     end;
	struct acc *acc; /* naggs */
};

struct kstate {
	struct win *w;
	uint32_t    n;
	uint32_t    cap;
	int64_t     timer; /* earliest end, or CEP_WM_MAX */
};

struct timer {
	int64_t  at;
	uint32_t slot;
	uint32_t gen;
};

struct window_inst {
	const struct window_conf *c;
	int                       ordered;
	cep_keytab                keys;
	struct kstate            *ks;
	size_t                    ks_cap;
	cep_heap                  timers;
	cep_reorder               held; /* unordered input, until released */
	int64_t                   wm;
};

/* ---- accumulators ------------------------------------------------------ */

static void
acc_fini(struct acc *a)
{
	cep_free(a->distinct, a->distinct_cap * sizeof(uint64_t));
	memset(a, 0, sizeof(*a));
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

	return (x < y ? -1 : x > y);
}

/* compact_distinct sorts and deduplicates the hashes. */
static void
compact_distinct(struct acc *a)
{
	size_t n = 0;

	if (a->ndistinct < 2) {
		return; /* nothing to sort (and qsort wants no NULL) */
	}
	qsort(a->distinct, a->ndistinct, sizeof(uint64_t), u64_cmp);
	for (size_t i = 0; i < a->ndistinct; i++) {
		if (n == 0 || a->distinct[n - 1] != a->distinct[i]) {
			a->distinct[n++] = a->distinct[i];
		}
	}
	a->ndistinct = n;
}

static cep_err
add_distinct(struct acc *a, uint64_t h)
{
	if (a->ndistinct == a->distinct_cap && a->ndistinct >= 64) {
		compact_distinct(a);
	}
	if (cep_grow(&a->distinct, &a->distinct_cap, a->ndistinct + 1,
	        sizeof(uint64_t)) != 0) {
		return (CEP_ENOMEM);
	}
	a->distinct[a->ndistinct++] = h;
	return (CEP_OK);
}

static void
add_number(struct acc *a, const cep_val *v)
{
	if (v->type == CEP_T_INT && !a->real) {
		int64_t s;
		if (!__builtin_add_overflow(a->isum, v->u.i, &s)) {
			a->isum = s;
			return;
		}
	}
	if (!a->real) {
		a->dsum = (double) a->isum;
		a->real = 1;
	}
	a->dsum += cep_val_as_double(v);
}

static cep_err
acc_add(struct acc *a, const struct agg_conf *g, const cep_event *ev)
{
	cep_val v;
	int     cmp;

	if (g->kind == CEP_AGG_COUNT) {
		a->count++;
		return (CEP_OK);
	}
	cep_slot_val(
	    ev, cep_event_find_path(ev, g->field.syms, g->field.n), &v);
	if (g->kind == CEP_AGG_COUNT_DISTINCT) {
		if (v.type == CEP_T_NULL || v.type == CEP_T_MAP ||
		    v.type == CEP_T_ARRAY) {
			return (CEP_OK);
		}
		return (add_distinct(a, cep_val_hash(&v, 0x64697374)));
	}
	if (!cep_val_is_number(&v)) {
		return (CEP_OK);
	}
	a->count++;
	switch (g->kind) {
	case CEP_AGG_SUM:
	case CEP_AGG_AVG:
		add_number(a, &v);
		break;
	case CEP_AGG_MIN:
	case CEP_AGG_MAX:
		if (!a->has ||
		    (cep_val_compare(&v, &a->ext, &cmp) == CEP_OK &&
		        (g->kind == CEP_AGG_MIN ? cmp < 0 : cmp > 0))) {
			a->ext = v;
			a->has = 1;
		}
		break;
	case CEP_AGG_COUNT:
	case CEP_AGG_COUNT_DISTINCT:
		break;
	}
	return (CEP_OK);
}

/* acc_merge folds b into a (session windows merging). */
static cep_err
acc_merge(struct acc *a, const struct acc *b, const struct agg_conf *g)
{
	int cmp;

	a->count += b->count;
	if (b->real || a->real) {
		double bd = b->real ? b->dsum : (double) b->isum;
		if (!a->real) {
			a->dsum = (double) a->isum;
			a->real = 1;
		}
		a->dsum += bd;
	} else {
		int64_t s;
		if (__builtin_add_overflow(a->isum, b->isum, &s)) {
			a->dsum = (double) a->isum + (double) b->isum;
			a->real = 1;
		} else {
			a->isum = s;
		}
	}
	if (b->has &&
	    (!a->has ||
	        (cep_val_compare(&b->ext, &a->ext, &cmp) == CEP_OK &&
	            (g->kind == CEP_AGG_MIN ? cmp < 0 : cmp > 0)))) {
		a->ext = b->ext;
		a->has = 1;
	}
	for (size_t i = 0; i < b->ndistinct; i++) {
		if (add_distinct(a, b->distinct[i]) != CEP_OK) {
			return (CEP_ENOMEM);
		}
	}
	return (CEP_OK);
}

static cep_err
acc_value(struct acc *a, const struct agg_conf *g, cep_builder *b)
{
	switch (g->kind) {
	case CEP_AGG_COUNT:
		return (cep_builder_int(b, a->count));
	case CEP_AGG_SUM:
		return (a->real ? cep_builder_double(b, a->dsum)
		                : cep_builder_int(b, a->isum));
	case CEP_AGG_AVG:
		if (a->count == 0) {
			return (cep_builder_null(b));
		}
		return (cep_builder_double(b,
		    (a->real ? a->dsum : (double) a->isum) /
		        (double) a->count));
	case CEP_AGG_MIN:
	case CEP_AGG_MAX:
		return (a->has ? cep_builder_val(b, &a->ext)
		               : cep_builder_null(b));
	case CEP_AGG_COUNT_DISTINCT:
		compact_distinct(a);
		return (cep_builder_int(b, (int64_t) a->ndistinct));
	}
	return (CEP_EINVAL);
}

/* ---- windows of a key -------------------------------------------------- */

static void
win_fini(const struct window_conf *c, struct win *w)
{
	for (size_t i = 0; w->acc != NULL && i < c->naggs; i++) {
		acc_fini(&w->acc[i]);
	}
	cep_free(w->acc, (c->naggs + 1) * sizeof(struct acc));
	w->acc = NULL;
}

static void
key_clear(const struct window_conf *c, struct kstate *k)
{
	for (uint32_t i = 0; i < k->n; i++) {
		win_fini(c, &k->w[i]);
	}
	k->n     = 0;
	k->timer = CEP_WM_MAX;
}

/* find_win returns the window [start, end) of a key, adding it. */
static cep_err
find_win(const struct window_conf *c, struct kstate *k, int64_t start,
    int64_t end, struct win **out)
{
	struct win *w;
	size_t      cap = k->cap;

	for (uint32_t i = 0; i < k->n; i++) {
		if (k->w[i].start == start && k->w[i].end == end) {
			*out = &k->w[i];
			return (CEP_OK);
		}
	}
	if (cep_grow(&k->w, &cap, (size_t) k->n + 1, sizeof(struct win)) !=
	    0) {
		return (CEP_ENOMEM);
	}
	k->cap   = (uint32_t) cap;
	w        = &k->w[k->n];
	w->start = start;
	w->end   = end;
	if ((w->acc = cep_calloc(c->naggs + 1, sizeof(struct acc))) == NULL) {
		return (CEP_ENOMEM);
	}
	k->n++;
	*out = w;
	return (CEP_OK);
}

static cep_err
win_add(const struct window_conf *c, struct win *w, const cep_event *ev)
{
	cep_err rv = CEP_OK;

	for (size_t i = 0; i < c->naggs && rv == CEP_OK; i++) {
		rv = acc_add(&w->acc[i], &c->aggs[i], ev);
	}
	return (rv);
}

static int64_t
floor_to(int64_t t, int64_t unit)
{
	int64_t q = t / unit;

	if (t % unit != 0 && t < 0) {
		q--;
	}
	return (q * unit);
}

static int64_t
sat_add(int64_t a, int64_t b)
{
	return (a > CEP_WM_MAX - b ? CEP_WM_MAX : a + b);
}

/* session_add puts an event in its session: [ts, ts + gap) widened over
 * every session it touches, which merge into one. */
static cep_err
session_add(const struct window_conf *c, struct kstate *k, int64_t ts,
    const cep_event *ev)
{
	int64_t     start = ts, end = sat_add(ts, c->w.size);
	uint32_t    keep = UINT32_MAX;
	struct win *w;
	int         changed = 1;
	cep_err     rv;

	while (changed) {
		changed = 0;
		for (uint32_t i = 0; i < k->n && !changed; i++) {
			struct win *o = &k->w[i];
			uint32_t    last;
			if (i == keep ||
			    !(o->start <= end && o->end >= start)) {
				continue;
			}
			start   = o->start < start ? o->start : start;
			end     = o->end > end ? o->end : end;
			changed = 1;
			if (keep == UINT32_MAX) {
				keep = i;
				continue;
			}
			for (size_t a = 0; a < c->naggs; a++) {
				if ((rv = acc_merge(&k->w[keep].acc[a],
				         &o->acc[a], &c->aggs[a])) != CEP_OK) {
					return (rv);
				}
			}
			win_fini(c, o);
			last = --k->n;
			if (i != last) {
				k->w[i] = k->w[last];
				keep    = keep == last ? i : keep;
			}
		}
	}
	if (keep == UINT32_MAX) {
		if ((rv = find_win(c, k, start, end, &w)) != CEP_OK) {
			return (rv);
		}
	} else {
		w = &k->w[keep];
	}
	w->start = start;
	w->end   = end;
	return (win_add(c, w, ev));
}

static cep_err
assign(const struct window_conf *c, struct kstate *k, int64_t ts,
    const cep_event *ev)
{
	struct win *w;
	cep_err     rv;

	switch (c->w.kind) {
	case CEP_WINDOW_TUMBLE: {
		int64_t start = floor_to(ts, c->w.size);
		if ((rv = find_win(c, k, start, sat_add(start, c->w.size),
		         &w)) != CEP_OK) {
			return (rv);
		}
		return (win_add(c, w, ev));
	}
	case CEP_WINDOW_SLIDE:
		/* The windows that start in (ts - size, ts], latest first. */
		for (int64_t start = floor_to(ts, c->w.every);
		     start > ts - c->w.size; start -= c->w.every) {
			if ((rv = find_win(c, k, start,
			         sat_add(start, c->w.size), &w)) != CEP_OK ||
			    (rv = win_add(c, w, ev)) != CEP_OK) {
				return (rv);
			}
		}
		return (CEP_OK);
	case CEP_WINDOW_SESSION:
		return (session_add(c, k, ts, ev));
	}
	return (CEP_EINVAL);
}

/* ---- the operator ------------------------------------------------------ */

static int
timer_less(const void *a, const void *b)
{
	const struct timer *x = a, *y = b;

	return (x->at != y->at ? x->at < y->at : x->slot < y->slot);
}

static cep_err
window_create(const void *conf, int ordered, void **out)
{
	struct window_inst *w = cep_zalloc(sizeof(*w));

	if (w == NULL) {
		return (CEP_ENOMEM);
	}
	w->c       = conf;
	w->ordered = ordered;
	w->wm      = CEP_WM_MIN;
	cep_keytab_init(&w->keys);
	cep_heap_init(&w->timers, sizeof(struct timer), timer_less);
	if (cep_reorder_init(&w->held) != CEP_OK) {
		cep_heap_fini(&w->timers);
		cep_free(w, sizeof(*w));
		return (CEP_ENOMEM);
	}
	*out = w;
	return (CEP_OK);
}

static void
window_destroy(void *inst)
{
	struct window_inst *w = inst;

	for (uint32_t i = 0; i < w->keys.n; i++) {
		key_clear(w->c, &w->ks[i]);
		cep_free(w->ks[i].w, w->ks[i].cap * sizeof(struct win));
	}
	cep_free(w->ks, w->ks_cap * sizeof(struct kstate));
	cep_reorder_fini(&w->held);
	cep_heap_fini(&w->timers);
	cep_keytab_fini(&w->keys);
	cep_free(w, sizeof(*w));
}

static cep_err
key_state(struct window_inst *w, const cep_val *key, uint32_t *slot)
{
	cep_err rv = cep_keytab_get(&w->keys, key, slot);

	if (rv != CEP_OK) {
		return (rv);
	}
	if (*slot >= w->ks_cap) {
		size_t old = w->ks_cap;
		if (cep_grow(&w->ks, &w->ks_cap, (size_t) *slot + 1,
		        sizeof(struct kstate)) != 0) {
			return (CEP_ENOMEM);
		}
		memset(
		    &w->ks[old], 0, (w->ks_cap - old) * sizeof(struct kstate));
	}
	if (w->ks[*slot].n == 0) {
		w->ks[*slot].timer = CEP_WM_MAX;
	}
	return (CEP_OK);
}

/* closes_at is the watermark that closes a window: its end for tumbling
 * and sliding windows, one past it for sessions, which an event at their
 * end still extends. */
static int64_t
closes_at(const struct window_conf *c, const struct win *x)
{
	return (c->w.kind == CEP_WINDOW_SESSION ? sat_add(x->end, 1) : x->end);
}

static cep_err
schedule(struct window_inst *w, uint32_t slot)
{
	struct kstate *k    = &w->ks[slot];
	int64_t        next = CEP_WM_MAX;
	struct timer   t;

	for (uint32_t i = 0; i < k->n; i++) {
		int64_t at = closes_at(w->c, &k->w[i]);
		next       = at < next ? at : next;
	}
	if (next >= k->timer) {
		return (CEP_OK);
	}
	t.at     = next;
	t.slot   = slot;
	t.gen    = w->keys.ents[slot].gen;
	k->timer = next;
	return (cep_heap_push(&w->timers, &t));
}

/* apply puts an event into the windows of its key. */
static cep_err
apply(struct window_inst *w, const cep_event *ev, int64_t ts)
{
	cep_val  key;
	uint64_t h;
	uint32_t slot;
	cep_err  rv;

	if (!cep__key_of(&w->c->key, ev, &key, &h)) {
		return (CEP_OK);
	}
	if ((rv = key_state(w, &key, &slot)) != CEP_OK ||
	    (rv = assign(w->c, &w->ks[slot], ts, ev)) != CEP_OK) {
		return (rv);
	}
	return (schedule(w, slot));
}

/* put_path writes value v under the names syms[0..n), as nested maps. */
static cep_err
put_path(cep_builder *b, const cep_sym *syms, size_t n, const cep_val *v)
{
	cep_err rv = CEP_OK;

	for (size_t i = 0; i < n && rv == CEP_OK; i++) {
		rv = cep_builder_key_sym(b, syms[i]);
		if (rv == CEP_OK && i + 1 < n) {
			rv = cep_builder_map_begin(b);
		}
	}
	if (rv == CEP_OK) {
		rv = cep_builder_val(b, v);
	}
	for (size_t i = 1; i < n && rv == CEP_OK; i++) {
		rv = cep_builder_end(b);
	}
	return (rv);
}

/* shared_maps is how many parent maps the key and time paths share
 * ("src.ip" and "src.ts" share "src"); 0 without a key. */
static size_t
shared_maps(const struct window_conf *c)
{
	size_t n = 0;

	while (n + 1 < c->key.n && n + 1 < c->time.n &&
	    c->key.syms[n] == c->time.syms[n]) {
		n++;
	}
	return (n);
}

/* put_key writes the key and, when their paths share parent maps, the
 * time under the same maps: a map written twice would hide the first. */
static cep_err
put_key(cep_builder *b, const struct window_conf *c, const cep_val *key,
    const cep_val *time, size_t share)
{
	cep_err rv = CEP_OK;

	for (size_t i = 0; i < share && rv == CEP_OK; i++) {
		rv = cep_builder_key_sym(b, c->key.syms[i]);
		if (rv == CEP_OK) {
			rv = cep_builder_map_begin(b);
		}
	}
	if (rv == CEP_OK) {
		rv = put_path(b, c->key.syms + share, c->key.n - share, key);
	}
	if (rv == CEP_OK && share > 0) {
		rv =
		    put_path(b, c->time.syms + share, c->time.n - share, time);
	}
	for (size_t i = 0; i < share && rv == CEP_OK; i++) {
		rv = cep_builder_end(b);
	}
	return (rv);
}

static cep_err
emit_window(
    struct window_inst *w, uint32_t slot, struct win *win, cep_op_ctx *ctx)
{
	const struct window_conf *c     = w->c;
	cep_builder              *b     = cep_op_builder(ctx);
	const cep_val            *key   = cep_keytab_key(&w->keys, slot);
	cep_val                   v     = cep_val_int(win->end - 1);
	size_t                    share = shared_maps(c);
	uint64_t                  seq;
	cep_err                   rv;

	cep_builder_reset(b);
	rv = cep_builder_map_begin(b);
	if (rv == CEP_OK && c->key.n > 0) {
		rv = put_key(b, c, key, &v, share);
	}
	if (rv == CEP_OK) {
		rv = cep_builder_key(b, "window_start", 12);
	}
	if (rv == CEP_OK) {
		rv = cep_builder_int(b, win->start);
	}
	if (rv == CEP_OK) {
		rv = cep_builder_key(b, "window_end", 10);
	}
	if (rv == CEP_OK) {
		rv = cep_builder_int(b, win->end);
	}
	if (rv == CEP_OK && share == 0) {
		rv = put_path(b, c->time.syms, c->time.n, &v);
	}
	for (size_t i = 0; i < c->naggs && rv == CEP_OK; i++) {
		rv = cep_builder_key(
		    b, c->aggs[i].name, strlen(c->aggs[i].name));
		if (rv == CEP_OK) {
			rv = acc_value(&win->acc[i], &c->aggs[i], b);
		}
	}
	if (rv == CEP_OK) {
		rv = cep_builder_end(b);
	}
	if (rv != CEP_OK) {
		cep_builder_reset(b);
		return (rv);
	}
	/* A deterministic sequence: the key and the window. */
	seq = cep_keytab_hash(key) ^
	    (uint64_t) win->start * 0x9e3779b97f4a7c15ull;
	return (cep_op_emit_built(ctx, b, win->end - 1, CEP_WM_MIN, seq));
}

/* fire emits every window the watermark closed. */
static cep_err
fire(struct window_inst *w, int64_t wm, cep_op_ctx *ctx)
{
	const struct timer *top;
	struct timer        t;
	cep_err             rv = CEP_OK;

	while (rv == CEP_OK && (top = cep_heap_top(&w->timers)) != NULL &&
	    top->at <= wm) {
		struct kstate *k;
		cep_heap_pop(&w->timers, &t);
		if (!cep_keytab_used(&w->keys, t.slot) ||
		    w->keys.ents[t.slot].gen != t.gen ||
		    w->ks[t.slot].timer != t.at) {
			continue;
		}
		k        = &w->ks[t.slot];
		k->timer = CEP_WM_MAX;
		/* Emit in order of end, then start. */
		for (;;) {
			struct win *first = NULL;
			for (uint32_t i = 0; i < k->n; i++) {
				struct win *x = &k->w[i];
				if (closes_at(w->c, x) <= wm &&
				    (first == NULL || x->end < first->end ||
				        (x->end == first->end &&
				            x->start < first->start))) {
					first = x;
				}
			}
			if (first == NULL || rv != CEP_OK) {
				break;
			}
			rv = emit_window(w, t.slot, first, ctx);
			win_fini(w->c, first);
			*first = k->w[--k->n];
		}
		if (k->n == 0) {
			cep_keytab_remove(&w->keys, t.slot);
		} else if (rv == CEP_OK) {
			rv = schedule(w, t.slot);
		}
	}
	return (rv);
}

/* hold_output keeps the watermark forwarded below the output time (end -
 * 1) of the first session still open: a session stays open while the
 * watermark stands at its end, and what it emits must not be late
 * downstream.  (Tumbling and sliding windows close as soon as the
 * watermark reaches their end, so theirs never are.) */
static void
hold_output(struct window_inst *w, cep_op_ctx *ctx)
{
	const struct timer *top  = cep_heap_top(&w->timers);
	int64_t             hold = CEP_WM_MAX;

	if (top != NULL && w->c->w.kind == CEP_WINDOW_SESSION) {
		hold = top->at - 2; /* at: the end + 1 */
	}
	cep_op_hold_watermark(ctx, hold);
}

static cep_err
apply_record(void *arg, const cep_record *r)
{
	struct window_inst *w = arg;

	return (apply(w, r->ev, r->ts));
}

static cep_err
window_push(void *inst, unsigned port, const cep_record *recs, size_t n,
    cep_op_ctx *ctx)
{
	struct window_inst *w = inst;
	cep_err             rv;

	(void) port;
	for (size_t i = 0; i < n; i++) {
		const cep_record *r = &recs[i];
		if (r->ev != NULL) {
			if (r->ts < w->wm) {
				rv = cep_op_emit_side(ctx, "late", r);
			} else if (w->ordered) {
				rv = apply(w, r->ev, r->ts);
			} else {
				rv = cep_reorder_hold(&w->held, r);
			}
			if (rv != CEP_OK) {
				return (rv);
			}
		}
		if (r->wm > w->wm) {
			w->wm = r->wm;
			if ((rv = cep_reorder_release(&w->held, w->wm,
			         apply_record, w)) != CEP_OK ||
			    (rv = fire(w, w->wm, ctx)) != CEP_OK) {
				return (rv);
			}
		}
	}
	hold_output(w, ctx);
	return (CEP_OK);
}

/* ---- saving ------------------------------------------------------------ */

static void
put_acc(cep_buf *b, struct acc *a)
{
	compact_distinct(a);
	cep_buf_put_i64(b, a->count);
	cep_buf_put_i64(b, a->isum);
	cep_buf_put_f64(b, a->dsum);
	cep_buf_put_u8(b, a->real);
	cep_buf_put_u8(b, a->has);
	cep_keytab_put_val(b, &a->ext);
	cep_buf_put_varint(b, a->ndistinct);
	for (size_t i = 0; i < a->ndistinct; i++) {
		cep_buf_put_u64(b, a->distinct[i]);
	}
}

static cep_err
read_acc(cep_rd *r, struct acc *a)
{
	uint64_t n;
	cep_err  rv;

	a->count = cep_rd_i64(r);
	a->isum  = cep_rd_i64(r);
	a->dsum  = cep_rd_f64(r);
	a->real  = cep_rd_u8(r);
	a->has   = cep_rd_u8(r);
	if ((rv = cep_keytab_read_val(r, &a->ext)) != CEP_OK ||
	    (a->ext.type != CEP_T_NULL && !cep_val_is_number(&a->ext))) {
		return (CEP_ECORRUPT);
	}
	n = cep_rd_varint(r);
	if (n > cep_rd_left(r) / 8) {
		return (CEP_ECORRUPT);
	}
	for (uint64_t i = 0; i < n; i++) {
		if ((rv = add_distinct(a, cep_rd_u64(r))) != CEP_OK) {
			return (rv);
		}
	}
	return (cep_rd_status(r));
}

/* Per key: its value as the entry's key; its windows as the value.  The
 * entry with an empty key holds the watermark and the held records. */
static cep_err
save_key(void *arg, uint32_t slot, cep_buf *val)
{
	struct window_inst *w  = arg;
	struct kstate      *ks = &w->ks[slot];

	cep_buf_put_varint(val, ks->n);
	for (uint32_t i = 0; i < ks->n; i++) {
		cep_buf_put_i64(val, ks->w[i].start);
		cep_buf_put_i64(val, ks->w[i].end);
		for (size_t a = 0; a < w->c->naggs; a++) {
			put_acc(val, &ks->w[i].acc[a]);
		}
	}
	return (CEP_OK);
}

static cep_err
window_save(void *inst, const char *ns, cep_state_out *out)
{
	struct window_inst *w = inst;
	cep_buf             head;
	cep_err             rv;

	cep_buf_init(&head);
	cep_buf_put_i64(&head, w->wm);
	if ((rv = cep_reorder_save(&w->held, &head)) == CEP_OK) {
		rv = cep_keytab_save(&w->keys, ns, out, &head, save_key, w);
	}
	cep_buf_fini(&head);
	return (rv);
}

static cep_err
load_head(void *arg, cep_rd *val)
{
	struct window_inst *w = arg;

	w->wm = cep_rd_i64(val);
	return (cep_reorder_load(&w->held, val));
}

static cep_err
load_key(void *arg, const cep_val *key, cep_rd *val)
{
	struct window_inst *w = arg;
	uint32_t            slot;
	uint64_t            n;
	cep_err             rv;

	if ((rv = key_state(w, key, &slot)) != CEP_OK) {
		return (rv);
	}
	n = cep_rd_varint(val);
	if (n > cep_rd_left(val)) {
		return (CEP_ECORRUPT);
	}
	for (uint64_t i = 0; i < n; i++) {
		int64_t     start = cep_rd_i64(val), end = cep_rd_i64(val);
		struct win *win;
		if ((rv = cep_rd_status(val)) != CEP_OK || end <= start ||
		    (rv = find_win(w->c, &w->ks[slot], start, end, &win)) !=
		        CEP_OK) {
			return (rv != CEP_OK ? rv : CEP_ECORRUPT);
		}
		for (size_t a = 0; a < w->c->naggs; a++) {
			if ((rv = read_acc(val, &win->acc[a])) != CEP_OK) {
				return (rv);
			}
		}
	}
	if (cep_rd_left(val) != 0) {
		return (CEP_ECORRUPT);
	}
	return (schedule(w, slot));
}

static cep_err
window_load(void *inst, const char *ns, cep_state_in *in)
{
	return (cep_keytab_load(in, ns, load_head, load_key, inst));
}

/* ---- the class and its builder ----------------------------------------- */

static void
window_conf_free(void *conf)
{
	struct window_conf *c = conf;

	for (size_t i = 0; i < c->naggs; i++) {
		cep_strfree(c->aggs[i].name);
		cep_path_fini(&c->aggs[i].field);
	}
	cep_free(c->aggs, (c->naggs + 1) * sizeof(struct agg_conf));
	cep_path_fini(&c->key);
	cep_path_fini(&c->time);
	cep_free(c, sizeof(*c));
}

static uint64_t
window_fingerprint(const void *conf)
{
	const struct window_conf *c = conf;
	cep_buf                   b;
	uint64_t                  h;

	cep_buf_init(&b);
	cep_buf_put_u8(&b, (uint8_t) c->w.kind);
	cep_buf_put_i64(&b, c->w.size);
	cep_buf_put_i64(&b, c->w.every);
	cep_buf_printf(&b, "%s|%s|", c->key.text != NULL ? c->key.text : "",
	    c->time.text);
	for (size_t i = 0; i < c->naggs; i++) {
		cep_buf_printf(&b, "%s=%d(%s);", c->aggs[i].name,
		    (int) c->aggs[i].kind,
		    c->aggs[i].field.text != NULL ? c->aggs[i].field.text
		                                  : "");
	}
	h = cep_hash64(b.data, b.len, 0x77696e);
	cep_buf_fini(&b);
	return (h);
}

const cep_op_class cep__op_window = {
	.name        = "window",
	.flags       = CEP_OP_KEYED,
	.inputs      = 1,
	.create      = window_create,
	.push        = window_push,
	.save        = window_save,
	.load        = window_load,
	.destroy     = window_destroy,
	.conf_free   = window_conf_free,
	.fingerprint = window_fingerprint,
};

static int
window_ok(const cep_window *w)
{
	switch (w->kind) {
	case CEP_WINDOW_TUMBLE:
	case CEP_WINDOW_SESSION:
		return (w->size > 0 && w->size <= CEP_TIME_LIMIT);
	case CEP_WINDOW_SLIDE:
		/* Each event lands in size / every windows: keep it sane. */
		return (w->size > 0 && w->size <= CEP_TIME_LIMIT &&
		    w->every > 0 && w->every <= w->size &&
		    w->size / w->every <= 10000);
	}
	return (0);
}

static cep_err
copy_path(cep_path *dst, const char *text)
{
	return (cep_path_parse(dst, text, strlen(text)));
}

cep_stream *
cep_flow_window(cep_stream *keyed, const cep_window *w, const cep_agg *aggs,
    size_t naggs, const char *time_field)
{
	struct window_conf *c;
	const cep_path     *key;
	cep_err             rv = CEP_OK;

	if (keyed == NULL) {
		return (NULL);
	}
	key = cep__stream_key(keyed);
	if (!window_ok(w) || key == NULL ||
	    (c = cep_zalloc(sizeof(*c))) == NULL) {
		keyed->f->err =
		    keyed->f->err != CEP_OK ? keyed->f->err : CEP_EINVAL;
		return (NULL);
	}
	c->w     = *w;
	c->naggs = naggs;
	if ((c->aggs = cep_calloc(naggs + 1, sizeof(struct agg_conf))) ==
	    NULL) {
		rv = CEP_ENOMEM;
	}
	for (size_t i = 0; rv == CEP_OK && i < naggs; i++) {
		c->aggs[i].kind = aggs[i].kind;
		if (aggs[i].name == NULL) {
			rv = CEP_EINVAL;
		} else if ((c->aggs[i].name = cep_strdup(aggs[i].name)) ==
		    NULL) {
			rv = CEP_ENOMEM;
		} else if (aggs[i].kind != CEP_AGG_COUNT &&
		    (aggs[i].field == NULL ||
		        copy_path(&c->aggs[i].field, aggs[i].field) !=
		            CEP_OK)) {
			rv = CEP_EINVAL;
		}
	}
	if (rv == CEP_OK && key->n > 0) {
		rv = copy_path(&c->key, key->text);
	}
	if (rv == CEP_OK) {
		rv = copy_path(
		    &c->time, time_field != NULL ? time_field : "ts");
	}
	if (rv != CEP_OK) {
		window_conf_free(c);
		keyed->f->err = keyed->f->err != CEP_OK ? keyed->f->err : rv;
		return (NULL);
	}
	return (cep__flow_add_op(keyed->f, &keyed, 1, &cep__op_window, c));
}
