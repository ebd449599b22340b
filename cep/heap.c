/* SPDX-License-Identifier: MIT */
/* heap.c: array binary min-heap with sift-up and sift-down. */
#include <string.h>

#include "cep/alloc.h"
#include "cep/heap.h"

static void *
item(const cep_heap *h, size_t i)
{
	return (h->items + i * h->size);
}

static void
swap(cep_heap *h, size_t i, size_t j)
{
	unsigned char  tmp[256];
	size_t         left = h->size;
	unsigned char *a = item(h, i), *b = item(h, j);

	/* Items are small; swap through a bounce buffer in chunks. */
	while (left > 0) {
		size_t n = left < sizeof(tmp) ? left : sizeof(tmp);
		memcpy(tmp, a, n);
		memcpy(a, b, n);
		memcpy(b, tmp, n);
		a += n;
		b += n;
		left -= n;
	}
}

/* Items up to this size move through a hole: the moving item waits in a
 * bounce buffer while the others shift one copy per level, instead of a
 * three-copy swap per level.  Larger items swap in chunks. */
#define HOLE_MAX 64

/* sift_up places *it (not inside the array) at or above the hole i. */
static void
sift_up(cep_heap *h, size_t i, const void *it)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!h->less(it, item(h, parent))) {
			break;
		}
		memcpy(item(h, i), item(h, parent), h->size);
		i = parent;
	}
	memcpy(item(h, i), it, h->size);
}

/* sift_up_swap: the same for big items, which stay in place at i. */
static void
sift_up_swap(cep_heap *h, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!h->less(item(h, i), item(h, parent))) {
			break;
		}
		swap(h, i, parent);
		i = parent;
	}
}

static void
sift_down(cep_heap *h, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && h->less(item(h, l), item(h, m))) {
			m = l;
		}
		if (r < h->n && h->less(item(h, r), item(h, m))) {
			m = r;
		}
		if (m == i) {
			return;
		}
		swap(h, i, m);
		i = m;
	}
}

/* refill_root fills the hole the popped root left with the last item,
 * bottom-up: the hole goes down to a leaf along the smaller children (one
 * comparison per level), then the last item, which belongs near the
 * bottom, rises from there.  Half the comparisons of sift_down; measured
 * on the fraud workload, the timer heap took 18% of impossible-travel's
 * matching time with swaps (sift_down and timer_less in perf). */
static void
refill_root(cep_heap *h)
{
	unsigned char last[HOLE_MAX];
	size_t        i = 0;

	memcpy(last, item(h, h->n), h->size);
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n) {
			break;
		}
		if (c + 1 < h->n && h->less(item(h, c + 1), item(h, c))) {
			c++;
		}
		memcpy(item(h, i), item(h, c), h->size);
		i = c;
	}
	sift_up(h, i, last);
}

void
cep_heap_init(cep_heap *h, size_t item_size, cep_heap_less less)
{
	memset(h, 0, sizeof(*h));
	h->size = item_size;
	h->less = less;
}

void
cep_heap_fini(cep_heap *h)
{
	cep_free(h->items, h->cap * h->size);
	h->items = NULL;
	h->n = h->cap = 0;
}

cep_err
cep_heap_push(cep_heap *h, const void *it)
{
	if (cep_grow(&h->items, &h->cap, h->n + 1, h->size) != 0) {
		return (CEP_ENOMEM);
	}
	if (h->size <= HOLE_MAX) {
		unsigned char copy[HOLE_MAX];
		memcpy(copy, it, h->size);
		sift_up(h, h->n++, copy);
	} else {
		memcpy(item(h, h->n), it, h->size);
		sift_up_swap(h, h->n++);
	}
	return (CEP_OK);
}

void
cep_heap_pop(cep_heap *h, void *out)
{
	if (h->n == 0) {
		return;
	}
	if (out != NULL) {
		memcpy(out, item(h, 0), h->size);
	}
	if (--h->n == 0) {
		return;
	}
	if (h->size <= HOLE_MAX) {
		refill_root(h);
	} else {
		memcpy(item(h, 0), item(h, h->n), h->size);
		sift_down(h, 0);
	}
}

void
cep_heap_filter(cep_heap *h, int (*keep)(void *ctx, const void *it), void *ctx)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n; i++) {
		if (keep(ctx, item(h, i))) {
			if (n != i) {
				memcpy(item(h, n), item(h, i), h->size);
			}
			n++;
		}
	}
	h->n = n;
	for (size_t i = n / 2; i-- > 0;) {
		sift_down(h, i);
	}
}
