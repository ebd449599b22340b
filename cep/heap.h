/* SPDX-License-Identifier: MIT */
/*
 * heap.h: a binary min-heap of fixed-size items kept in one array.
 *
 * Used for the event-time reorder buffer (ordered by time, then ingress
 * sequence) and for timers.  The order must be total and deterministic;
 * the caller's `less` supplies the tie-break.  Not thread-safe.
 */
#ifndef CEP_HEAP_H
#define CEP_HEAP_H

#include <stddef.h>

#include "cep/errors.h"

typedef int (*cep_heap_less)(const void *a, const void *b);

typedef struct cep_heap {
	unsigned char *items;
	size_t         n;
	size_t         cap;
	size_t         size; /* bytes per item */
	cep_heap_less  less;
} cep_heap;

void cep_heap_init(cep_heap *h, size_t item_size, cep_heap_less less);
void cep_heap_fini(cep_heap *h);
/* Add a copy of *item.  CEP_ENOMEM leaves the heap unchanged. */
cep_err cep_heap_push(cep_heap *h, const void *item);
/* The smallest item, or NULL when empty; valid until the next change. */
static inline const void *
cep_heap_top(const cep_heap *h)
{
	return (h->n == 0 ? NULL : h->items);
}
/* Remove the smallest item, copying it to *out when out is not NULL. */
void cep_heap_pop(cep_heap *h, void *out);
/* Keep only the items for which keep() returns nonzero, then re-heapify. */
void cep_heap_filter(
    cep_heap *h, int (*keep)(void *ctx, const void *item), void *ctx);

#endif
