/* SPDX-License-Identifier: MIT */
/*
 * keytab.h: a table of partition keys for keyed operators.
 *
 * Maps key values (strings, integers, booleans, numbers; 1 and 1.0 are one
 * key) to small slot numbers the operator uses to index its own per-key
 * state.  The table owns copies of string keys.  Freed slots are reused;
 * a slot's generation changes on reuse, so stale references (timers) can be
 * told apart.  Not thread-safe.
 */
#ifndef CEP_KEYTAB_H
#define CEP_KEYTAB_H

#include <stdint.h>

#include "cep/buf.h"
#include "cep/hash.h"
#include "cep/state.h"
#include "cep/value.h"

#define CEP_KEYTAB_NONE UINT32_MAX

typedef struct cep_keyent {
	cep_val  key;
	uint64_t hash;
	uint32_t gen;
	uint32_t next_free;
	uint8_t  used;
} cep_keyent;

typedef struct cep_keytab {
	cep_keyent *ents;
	uint32_t    n; /* slots ever used */
	size_t      cap;
	uint32_t    free;
	uint32_t    live;
	cep_htab    index;
} cep_keytab;

void cep_keytab_init(cep_keytab *t);
void cep_keytab_fini(cep_keytab *t);
/* The hash keyed operators use for a key value. */
uint64_t cep_keytab_hash(const cep_val *key);
/* The slot of a key, or CEP_KEYTAB_NONE. */
uint32_t cep_keytab_find(
    const cep_keytab *t, const cep_val *key, uint64_t hash);
/* Add a key that is not there yet; *slot gets its slot. */
cep_err cep_keytab_add(
    cep_keytab *t, const cep_val *key, uint64_t hash, uint32_t *slot);
/* Find or add. */
cep_err cep_keytab_get(cep_keytab *t, const cep_val *key, uint32_t *slot);
/* Forget a key; its slot may be reused. */
void cep_keytab_remove(cep_keytab *t, uint32_t slot);

static inline const cep_val *
cep_keytab_key(const cep_keytab *t, uint32_t slot)
{
	return (&t->ents[slot].key);
}

static inline int
cep_keytab_used(const cep_keytab *t, uint32_t slot)
{
	return (slot < t->n && t->ents[slot].used);
}

/* Append a key value as bytes (type tag and payload) / read one back
 * (strings then point into the input). */
void    cep_keytab_put_val(cep_buf *b, const cep_val *v);
cep_err cep_keytab_read_val(cep_rd *r, cep_val *v);

/* Keyed state as entries of one namespace (state.h): what is not per key
 * under the empty key, then an entry per key, whose key is 1 and the key
 * value.  cep_keytab_save writes head, then for each used slot the value
 * that put_key appends (CEP_ENOENT from it: nothing to save for that
 * slot).  cep_keytab_load hands the empty key's value to head and the
 * others, with their key value, to key; a damaged key is CEP_ECORRUPT. */
cep_err cep_keytab_save(const cep_keytab *t, const char *ns,
    cep_state_out *out, const cep_buf                                *head,
    cep_err (*put_key)(void *arg, uint32_t slot, cep_buf *val), void *arg);
cep_err cep_keytab_load(cep_state_in *in, const char *ns,
    cep_err (*head)(void *arg, cep_rd *val),
    cep_err (*key)(void *arg, const cep_val *key, cep_rd *val), void *arg);

#endif
