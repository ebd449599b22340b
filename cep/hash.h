/* SPDX-License-Identifier: MIT */
/*
 * hash.h: hashing (XXH3 from libxxhash) and an open-addressing index.
 *
 * cep_htab maps 64-bit hashes to 32-bit values (usually indices into the
 * owner's array).  It stores no keys: lookups pass an equality callback
 * that compares the candidate value's key with the one sought.  Linear
 * probing with backward-shift deletion; no tombstones.  Not thread-safe.
 */
#ifndef CEP_HASH_H
#define CEP_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "cep/errors.h"

/* 64-bit XXH3 of n bytes with a seed. */
uint64_t cep_hash64(const void *p, size_t n, uint64_t seed);
/* 128-bit XXH3, written as two halves. */
void cep_hash128(const void *p, size_t n, uint64_t *hi, uint64_t *lo);

/* The same hash fed in pieces, without allocating: the digest of the
 * pieces equals cep_hash128 of their concatenation. */
typedef struct cep_hash128_state {
	_Alignas(64) unsigned char opaque[640];
} cep_hash128_state;

void cep_hash128_init(cep_hash128_state *s);
void cep_hash128_add(cep_hash128_state *s, const void *p, size_t n);
void cep_hash128_digest(
    const cep_hash128_state *s, uint64_t *hi, uint64_t *lo);

typedef struct cep_hslot {
	uint64_t hash; /* 0 marks an empty slot (real hashes are made odd) */
	uint32_t val;
} cep_hslot;

typedef struct cep_htab {
	cep_hslot *slots;
	size_t     mask; /* capacity - 1, or 0 when unallocated */
	size_t     n;
} cep_htab;

/* Return nonzero when the key stored under `val` equals the sought key. */
typedef int (*cep_htab_eq)(const void *ctx, uint32_t val);

void cep_htab_init(cep_htab *t);
void cep_htab_fini(cep_htab *t);
/* Empty the table, keeping its storage. */
void cep_htab_clear(cep_htab *t);
/* Pointer to the value stored for a key with hash h, or NULL. */
uint32_t *cep_htab_find(
    const cep_htab *t, uint64_t h, cep_htab_eq eq, const void *ctx);
/* Insert (h, val); the caller made sure the key is absent. */
cep_err cep_htab_insert(cep_htab *t, uint64_t h, uint32_t val);
/* Remove the entry for a key; returns 1 if it was there. */
int cep_htab_remove(cep_htab *t, uint64_t h, cep_htab_eq eq, const void *ctx);
/* Remove the entry holding exactly (h, val); returns 1 if found. */
int cep_htab_remove_val(cep_htab *t, uint64_t h, uint32_t val);

#endif
