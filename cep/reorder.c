/* SPDX-License-Identifier: MIT */
/* reorder.c: a heap of record copies released by the watermark. */
#include "cep/reorder.h"
#include "cep/codec.h"

struct held {
	int64_t    ts;
	uint64_t   seq;
	uint64_t   arrival;
	uint64_t   khash;
	cep_event *ev;
};

static int
held_less(const void *a, const void *b)
{
	const struct held *x = a, *y = b;

	if (x->ts != y->ts) {
		return (x->ts < y->ts);
	}
	if (x->seq != y->seq) {
		return (x->seq < y->seq);
	}
	return (x->arrival < y->arrival);
}

cep_err
cep_reorder_init(cep_reorder *r)
{
	cep_heap_init(&r->heap, sizeof(struct held), held_less);
	r->arrivals = 0;
	return ((r->slab = cep_slab_create()) == NULL ? CEP_ENOMEM : CEP_OK);
}

void
cep_reorder_fini(cep_reorder *r)
{
	struct held h;

	while (r->heap.n > 0) {
		cep_heap_pop(&r->heap, &h);
		cep_event_unref(h.ev, r->slab);
	}
	cep_heap_fini(&r->heap);
	cep_slab_destroy(r->slab);
	r->slab = NULL;
}

cep_err
cep_reorder_hold(cep_reorder *r, const cep_record *rec)
{
	struct held h;

	h.ts      = rec->ts;
	h.seq     = rec->seq;
	h.arrival = r->arrivals++;
	h.khash   = rec->khash;
	if ((h.ev = cep_event_copy(rec->ev, r->slab)) == NULL) {
		return (CEP_ENOMEM);
	}
	if (cep_heap_push(&r->heap, &h) != CEP_OK) {
		cep_event_unref(h.ev, r->slab);
		return (CEP_ENOMEM);
	}
	return (CEP_OK);
}

cep_err
cep_reorder_release(cep_reorder *r, int64_t                   wm,
    cep_err (*apply)(void *arg, const cep_record *rec), void *arg)
{
	const struct held *top;
	struct held        h;
	cep_err            rv = CEP_OK;

	while (rv == CEP_OK && (top = cep_heap_top(&r->heap)) != NULL &&
	    (top->ts < wm || wm == CEP_WM_MAX)) {
		cep_record rec;
		cep_heap_pop(&r->heap, &h);
		rec.ev    = h.ev;
		rec.ts    = h.ts;
		rec.wm    = wm;
		rec.seq   = h.seq;
		rec.khash = h.khash;
		rv        = apply(arg, &rec);
		cep_event_unref(h.ev, r->slab);
	}
	return (rv);
}

cep_err
cep_reorder_save(const cep_reorder *r, cep_buf *out)
{
	const struct held *items =
	    (const struct held *) (const void *) r->heap.items;
	cep_err rv = CEP_OK;

	cep_buf_put_varint(out, r->heap.n);
	for (size_t i = 0; i < r->heap.n && rv == CEP_OK; i++) {
		cep_buf_put_i64(out, items[i].ts);
		cep_buf_put_u64(out, items[i].seq);
		cep_buf_put_u64(out, items[i].arrival);
		cep_buf_put_u64(out, items[i].khash);
		rv = cep_msgpack_write_event(out, items[i].ev);
	}
	return (rv != CEP_OK ? rv : cep_buf_status(out));
}

cep_err
cep_reorder_load(cep_reorder *r, cep_rd *in)
{
	uint64_t n  = cep_rd_varint(in);
	cep_err  rv = CEP_OK;

	if (cep_rd_status(in) != CEP_OK || n > cep_rd_left(in)) {
		return (CEP_ECORRUPT);
	}
	for (uint64_t i = 0; rv == CEP_OK && i < n; i++) {
		struct held h;
		h.ts      = cep_rd_i64(in);
		h.seq     = cep_rd_u64(in);
		h.arrival = cep_rd_u64(in);
		h.khash   = cep_rd_u64(in);
		if ((rv = cep_state_read_event(in, r->slab, &h.ev)) !=
		    CEP_OK) {
			break;
		}
		if ((rv = cep_heap_push(&r->heap, &h)) != CEP_OK) {
			cep_event_unref(h.ev, r->slab);
		}
		if (h.arrival >= r->arrivals) {
			r->arrivals = h.arrival + 1;
		}
	}
	return (rv);
}
