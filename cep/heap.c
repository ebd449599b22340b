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
	unsigned char tmp[256];
	size_t        left = h->size;
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

static void
sift_up(cep_heap *h, size_t i)
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
	memcpy(item(h, h->n), it, h->size);
	sift_up(h, h->n++);
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
	if (--h->n > 0) {
		memcpy(item(h, 0), item(h, h->n), h->size);
		sift_down(h, 0);
	}
}

void
cep_heap_filter(cep_heap *h, int (*keep)(void *ctx, const void *it),
    void *ctx)
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
