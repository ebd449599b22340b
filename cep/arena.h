/* SPDX-License-Identifier: MIT */
/*
 * arena.h: reference-counted bump allocators for events in flight.
 *
 * A thread of the dataflow runtime places the events it emits in its
 * current arena; a batch sent to another thread holds a reference to the
 * arena its records point into, and the arena is freed (or recycled by its
 * owner) when the last reference goes.  Allocation is a pointer bump in
 * the current chunk; a full chunk chains a new one.  References are atomic;
 * allocation is for the owning thread only.
 */
#ifndef CEP_ARENA_H
#define CEP_ARENA_H

#include <stddef.h>

#include "cep/errors.h"

typedef struct cep_arena cep_arena;

/* A new arena with one reference (the creator's). */
cep_arena *cep_arena_create(void);
void       cep_arena_ref(cep_arena *a);
/* Drop a reference; the last one frees the arena. */
void cep_arena_unref(cep_arena *a);
/* Whether the caller holds the only reference. */
int cep_arena_alone(cep_arena *a);
/* n bytes, 16-byte aligned, valid until the arena is reset or freed. */
void *cep_arena_alloc(cep_arena *a, size_t n);
/* Forget every allocation, keeping the first chunk (owner only, and only
 * while it holds the sole reference). */
void cep_arena_reset(cep_arena *a);
/* Whether p points into one of the arena's chunks. */
int cep_arena_contains(const cep_arena *a, const void *p);
/* Bytes held in chunks. */
size_t cep_arena_bytes(const cep_arena *a);

#endif
