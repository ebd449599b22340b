/* SPDX-License-Identifier: MIT */
/*
 * alloc.h: the project's allocation functions.
 *
 * All memory goes through cep_alloc/cep_free so that tests can make the Nth
 * allocation fail (the allocation-failure suite) and pools can be sized.
 * cep_free takes the size that was allocated; it accepts NULL.
 *
 * cep_slab is a single-owner allocator of variable-size blocks with free
 * lists per size class, used for event blocks on the hot path: after a
 * warm-up, allocating and freeing a block is a list pop and push.
 */
#ifndef CEP_ALLOC_H
#define CEP_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* Allocate size bytes; NULL when out of memory (or when a test injected a
 * failure).  Thread-safe. */
void *cep_alloc(size_t size);
/* Allocate size zeroed bytes. */
void *cep_zalloc(size_t size);
/* Allocate n * size zeroed bytes, NULL on overflow. */
void *cep_calloc(size_t n, size_t size);
/* Resize a block from old_size to new_size bytes.  On failure returns NULL
 * and the old block is untouched. */
void *cep_realloc(void *p, size_t old_size, size_t new_size);
/* Free a block of the given size; NULL is a no-op. */
void cep_free(void *p, size_t size);
/* Duplicate n bytes of s as a NUL-terminated string (n + 1 bytes, to be
 * freed with cep_free(p, n + 1) or cep_strfree). */
char *cep_strndup(const char *s, size_t n);
char *cep_strdup(const char *s);
void  cep_strfree(char *s);

/* Test hook: make the allocation `nth` allocations from now fail (1 = the
 * next one), and every one after it if `sticky`; 0 turns injection off.
 * Returns how many allocations were counted since the last call. */
uint64_t cep_alloc_fail_after(uint64_t nth, int sticky);

/* Grow a dynamic array: ensure room for `need` items of `item` bytes in
 * *arr whose capacity is *cap (doubling).  Returns 0 or CEP_ENOMEM (as an
 * int to keep this header free of errors.h). */
int cep_grow(void *arr, size_t *cap, size_t need, size_t item);

typedef struct cep_slab cep_slab;

/* Create a slab allocator.  Not thread-safe: one owner uses it. */
cep_slab *cep_slab_create(void);
/* Free the slab and every block it holds on its free lists; blocks still
 * handed out must have been returned first. */
void cep_slab_destroy(cep_slab *s);
/* A block of at least size bytes, 16-byte aligned; NULL when out of memory. */
void *cep_slab_alloc(cep_slab *s, size_t size);
/* Return a block obtained with cep_slab_alloc(s, size). */
void cep_slab_free(cep_slab *s, void *p, size_t size);
/* Bytes held by the slab: handed out and cached on free lists. */
size_t cep_slab_bytes(const cep_slab *s);

#endif
