/* SPDX-License-Identifier: MIT */
/*
 * alloc.c: allocation wrappers with failure injection, and the slab.
 *
 * The slab rounds requests up to a size class (16-byte steps to 256, then
 * four classes per power of two up to 64 KiB) and keeps freed blocks on a
 * per-class list; larger blocks go straight to cep_alloc.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cep/alloc.h"
#include "cep/errors.h"

static atomic_uint_fast64_t alloc_count;
static atomic_uint_fast64_t fail_at; /* 0: off, else absolute count */
static atomic_int           fail_sticky;

uint64_t
cep_alloc_fail_after(uint64_t nth, int sticky)
{
	uint64_t seen = atomic_exchange(&alloc_count, 0);

	atomic_store(&fail_sticky, sticky);
	atomic_store(&fail_at, nth);
	return (seen);
}

static int
should_fail(void)
{
	uint64_t n  = atomic_fetch_add(&alloc_count, 1) + 1;
	uint64_t at = atomic_load(&fail_at);

	if (at == 0) {
		return (0);
	}
	return (n == at || (n > at && atomic_load(&fail_sticky)));
}

void *
cep_alloc(size_t size)
{
	if (should_fail()) {
		return (NULL);
	}
	return (malloc(size == 0 ? 1 : size));
}

void *
cep_zalloc(size_t size)
{
	if (should_fail()) {
		return (NULL);
	}
	return (calloc(1, size == 0 ? 1 : size));
}

void *
cep_calloc(size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size) {
		return (NULL);
	}
	return (cep_zalloc(n * size));
}

void *
cep_realloc(void *p, size_t old_size, size_t new_size)
{
	(void) old_size;
	if (should_fail()) {
		return (NULL);
	}
	return (realloc(p, new_size == 0 ? 1 : new_size));
}

void
cep_free(void *p, size_t size)
{
	(void) size;
	free(p);
}

char *
cep_strndup(const char *s, size_t n)
{
	char *d = cep_alloc(n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return (d);
}

char *
cep_strdup(const char *s)
{
	return (s == NULL ? NULL : cep_strndup(s, strlen(s)));
}

void
cep_strfree(char *s)
{
	if (s != NULL) {
		cep_free(s, strlen(s) + 1);
	}
}

int
cep_grow(void *arr, size_t *cap, size_t need, size_t item)
{
	void **ap = arr;
	size_t ncap;
	void  *np;

	if (need <= *cap) {
		return (CEP_OK);
	}
	ncap = *cap < 8 ? 8 : *cap;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / item) {
			return (CEP_ENOMEM);
		}
		ncap *= 2;
	}
	if ((np = cep_realloc(*ap, *cap * item, ncap * item)) == NULL) {
		return (CEP_ENOMEM);
	}
	*ap  = np;
	*cap = ncap;
	return (CEP_OK);
}

/* ---- slab ------------------------------------------------------------ */

#define SLAB_SMALL_STEP 16
#define SLAB_SMALL_MAX 256
#define SLAB_MAX 65536
/* 16 classes of 16 bytes up to 256, then 4 per doubling to 64 KiB: 48. */
#define SLAB_CLASSES (SLAB_SMALL_MAX / SLAB_SMALL_STEP + 4 * 8)

struct free_block {
	struct free_block *next;
};

struct cep_slab {
	struct free_block *free[SLAB_CLASSES];
	size_t             bytes;
};

/* size_class maps a request to its class and the class's block size. */
static unsigned
size_class(size_t size, size_t *block)
{
	size_t   base;
	unsigned shift, cls;

	*block = size;
	if (size <= SLAB_SMALL_MAX) {
		size = size == 0 ? 1 : size;
		cls  = (unsigned) ((size + SLAB_SMALL_STEP - 1) /
                          SLAB_SMALL_STEP) -
		    1;
		*block = (size_t) (cls + 1) * SLAB_SMALL_STEP;
		return (cls);
	}
	/* Find the doubling [base, 2 * base) holding size, base >= 256. */
	base  = SLAB_SMALL_MAX;
	shift = 0;
	while (size > base * 2) {
		base *= 2;
		shift++;
	}
	/* Four classes in the doubling: base * 5/4, 6/4, 7/4, 8/4. */
	for (unsigned q = 5; q <= 8; q++) {
		if (size <= base * q / 4) {
			cls = SLAB_SMALL_MAX / SLAB_SMALL_STEP + shift * 4 +
			    (q - 5);
			*block = base * q / 4;
			return (cls);
		}
	}
	return (SLAB_CLASSES); /* not reached */
}

cep_slab *
cep_slab_create(void)
{
	return (cep_zalloc(sizeof(cep_slab)));
}

void
cep_slab_destroy(cep_slab *s)
{
	if (s == NULL) {
		return;
	}
	for (unsigned i = 0; i < SLAB_CLASSES; i++) {
		while (s->free[i] != NULL) {
			struct free_block *b = s->free[i];
			s->free[i]           = b->next;
			free(b);
		}
	}
	cep_free(s, sizeof(*s));
}

void *
cep_slab_alloc(cep_slab *s, size_t size)
{
	size_t             block;
	unsigned           cls;
	struct free_block *b;

	if (size > SLAB_MAX) {
		void *p = cep_alloc(size);
		if (p != NULL) {
			s->bytes += size;
		}
		return (p);
	}
	cls = size_class(size, &block);
	if ((b = s->free[cls]) != NULL) {
		s->free[cls] = b->next;
		return (b);
	}
	if ((b = cep_alloc(block)) != NULL) {
		s->bytes += block;
	}
	return (b);
}

void
cep_slab_free(cep_slab *s, void *p, size_t size)
{
	size_t             block;
	unsigned           cls;
	struct free_block *b = p;

	if (p == NULL) {
		return;
	}
	if (size > SLAB_MAX) {
		s->bytes -= size;
		cep_free(p, size);
		return;
	}
	cls          = size_class(size, &block);
	b->next      = s->free[cls];
	s->free[cls] = b;
}

size_t
cep_slab_bytes(const cep_slab *s)
{
	return (s->bytes);
}
