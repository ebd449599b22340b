/* SPDX-License-Identifier: MIT */
/*
 * reorder.h: holding records until the watermark passes them.
 *
 * A keyed operator fed by several channels sees its records in an order
 * that depends on thread timing.  Operators whose results depend on input
 * order (windows summing doubles, reduce) hold records here and apply them
 * once the watermark has passed them, in (time, sequence, arrival) order,
 * which is the same whatever the interleaving.  Held events are copied.
 */
#ifndef CEP_REORDER_H
#define CEP_REORDER_H

#include "cep/buf.h"
#include "cep/flow.h"
#include "cep/heap.h"

typedef struct cep_reorder {
	cep_heap  heap;
	cep_slab *slab;
	uint64_t  arrivals;
} cep_reorder;

cep_err cep_reorder_init(cep_reorder *r);
void    cep_reorder_fini(cep_reorder *r);
/* Hold a copy of a record. */
cep_err cep_reorder_hold(cep_reorder *r, const cep_record *rec);
/* Apply, in order, the held records older than wm (all of them at the
 * last watermark), then forget them. */
cep_err cep_reorder_release(cep_reorder *r, int64_t           wm,
    cep_err (*apply)(void *arg, const cep_record *rec), void *arg);
/* Write the held records / read them back (events as msgpack). */
cep_err cep_reorder_save(const cep_reorder *r, cep_buf *out);
cep_err cep_reorder_load(cep_reorder *r, cep_rd *in);

#endif
