/* SPDX-License-Identifier: MIT */
/*
 * state.h: the one interface through which operators save and load their
 * keyed state.
 *
 * State is a set of entries (namespace, key, value) of bytes: an operator
 * instance writes one namespace (its identity), usually one entry per key
 * of its keyed state plus one with an empty key for what is not per key.
 * Operators never see where entries go: the in-memory store below serves
 * snapshots and tests; a durable backend (LMDB, in state/) implements the
 * same two tables of functions.
 */
#ifndef CEP_STATE_H
#define CEP_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "cep/buf.h"
#include "cep/errors.h"
#include "cep/event.h"

typedef struct cep_state_out {
	/* Store an entry (replacing an equal key of the namespace). */
	cep_err (*put)(void *impl, const char *ns, const void *key,
	    size_t klen, const void *val, size_t vlen);
	void *impl;
} cep_state_out;

/* Called for each entry; a non-OK return stops the iteration with it. */
typedef cep_err (*cep_state_entry_fn)(
    void *arg, const void *key, size_t klen, const void *val, size_t vlen);

typedef struct cep_state_in {
	/* Visit the entries of a namespace in key order. */
	cep_err (*each)(
	    void *impl, const char *ns, cep_state_entry_fn fn, void *arg);
	void *impl;
} cep_state_in;

static inline cep_err
cep_state_put(cep_state_out *out, const char *ns, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	return (out->put(out->impl, ns, key, klen, val, vlen));
}

static inline cep_err
cep_state_each(
    cep_state_in *in, const char *ns, cep_state_entry_fn fn, void *arg)
{
	return (in->each(in->impl, ns, fn, arg));
}

/* Events in state are msgpack maps: decode the one at r's position into
 * slab (refs 1), advancing r; a damaged one is CEP_ECORRUPT. */
cep_err cep_state_read_event(cep_rd *r, cep_slab *slab, cep_event **out);

/* An in-memory store (not thread-safe). */
typedef struct cep_state_mem cep_state_mem;

cep_state_mem *cep_state_mem_create(void);
void           cep_state_mem_destroy(cep_state_mem *m);
/* The two faces of the store; valid as long as the store. */
cep_state_out cep_state_mem_out(cep_state_mem *m);
cep_state_in  cep_state_mem_in(cep_state_mem *m);
/* Number of entries. */
size_t cep_state_mem_count(const cep_state_mem *m);

#endif
