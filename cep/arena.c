/* SPDX-License-Identifier: MIT */
/* arena.c: chunked bump allocation with an atomic reference count. */
#include <stdatomic.h>
#include <string.h>

#include "cep/alloc.h"
#include "cep/arena.h"

#define CHUNK (256u * 1024u)

struct chunk {
	struct chunk *next;
	size_t        size; /* usable bytes after the header */
	size_t        used;
	/* data follows, 16-byte aligned */
};

#define HEADER ((sizeof(struct chunk) + 15) & ~(size_t) 15)

struct cep_arena {
	atomic_uint   refs;
	struct chunk *head; /* current chunk (newest) */
	size_t        bytes;
};

static struct chunk *
new_chunk(size_t need)
{
	size_t        size = need > CHUNK ? need : CHUNK;
	struct chunk *c    = cep_alloc(HEADER + size);

	if (c != NULL) {
		c->next = NULL;
		c->size = size;
		c->used = 0;
	}
	return (c);
}

cep_arena *
cep_arena_create(void)
{
	cep_arena *a = cep_zalloc(sizeof(*a));

	if (a == NULL) {
		return (NULL);
	}
	if ((a->head = new_chunk(0)) == NULL) {
		cep_free(a, sizeof(*a));
		return (NULL);
	}
	atomic_init(&a->refs, 1);
	a->bytes = HEADER + a->head->size;
	return (a);
}

static void
free_chunks(struct chunk *c)
{
	while (c != NULL) {
		struct chunk *next = c->next;
		cep_free(c, HEADER + c->size);
		c = next;
	}
}

void
cep_arena_ref(cep_arena *a)
{
	atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
}

void
cep_arena_unref(cep_arena *a)
{
	if (a == NULL ||
	    atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) !=
	        1) {
		return;
	}
	free_chunks(a->head);
	cep_free(a, sizeof(*a));
}

int
cep_arena_alone(cep_arena *a)
{
	return (atomic_load_explicit(&a->refs, memory_order_acquire) == 1);
}

void *
cep_arena_alloc(cep_arena *a, size_t n)
{
	struct chunk *c = a->head;
	void         *p;

	n = (n + 15) & ~(size_t) 15;
	if (c->size - c->used < n) {
		if ((c = new_chunk(n)) == NULL) {
			return (NULL);
		}
		c->next = a->head;
		a->head = c;
		a->bytes += HEADER + c->size;
	}
	p = (char *) c + HEADER + c->used;
	c->used += n;
	return (p);
}

void
cep_arena_reset(cep_arena *a)
{
	struct chunk *last = a->head;

	/* Keep the oldest chunk (the end of the list), free the others. */
	while (last->next != NULL) {
		struct chunk *next = last->next;
		a->bytes -= HEADER + last->size;
		cep_free(last, HEADER + last->size);
		last = next;
	}
	last->used = 0;
	a->head    = last;
}

int
cep_arena_contains(const cep_arena *a, const void *p)
{
	const char *q = p;

	for (const struct chunk *c = a->head; c != NULL; c = c->next) {
		const char *data = (const char *) c + HEADER;
		if (q >= data && q < data + c->size) {
			return (1);
		}
	}
	return (0);
}

size_t
cep_arena_bytes(const cep_arena *a)
{
	return (a->bytes);
}
