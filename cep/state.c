/* SPDX-License-Identifier: MIT */
/*
 * state.c: the in-memory state store, a sorted array of owned entries.
 *
 * Entries are kept sorted by (namespace, key) so that iteration follows key
 * order as a durable backend's would; insertion is a binary search and a
 * move, fine for the sizes snapshots in memory have.
 */
#include <string.h>

#include "cep/alloc.h"
#include "cep/codec.h"
#include "cep/state.h"

struct entry {
	char  *ns;
	void  *key;
	size_t klen;
	void  *val;
	size_t vlen;
};

struct cep_state_mem {
	struct entry *e;
	size_t        n;
	size_t        cap;
};

static int
compare(const char *ns, const void *key, size_t klen, const struct entry *e)
{
	int c = strcmp(ns, e->ns);

	if (c != 0) {
		return (c);
	}
	c = memcmp(key, e->key, klen < e->klen ? klen : e->klen);
	if (c != 0) {
		return (c);
	}
	return (klen < e->klen ? -1 : klen > e->klen);
}

/* find returns the index of the entry or of where it would go. */
static size_t
find(const cep_state_mem *m, const char *ns, const void *key, size_t klen,
    int *found)
{
	size_t lo = 0, hi = m->n;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int    c   = compare(ns, key, klen, &m->e[mid]);
		if (c == 0) {
			*found = 1;
			return (mid);
		}
		if (c < 0) {
			hi = mid;
		} else {
			lo = mid + 1;
		}
	}
	return (lo);
}

static void *
dup_bytes(const void *p, size_t n)
{
	void *d = cep_alloc(n + 1);

	if (d != NULL && n > 0) {
		memcpy(d, p, n);
	}
	return (d);
}

static cep_err
mem_put(void *impl, const char *ns, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	cep_state_mem *m = impl;
	int            found;
	size_t         i = find(m, ns, key, klen, &found);
	void          *v = dup_bytes(val, vlen);
	struct entry   e;

	if (v == NULL) {
		return (CEP_ENOMEM);
	}
	if (found) {
		cep_free(m->e[i].val, m->e[i].vlen + 1);
		m->e[i].val  = v;
		m->e[i].vlen = vlen;
		return (CEP_OK);
	}
	e.ns   = cep_strdup(ns);
	e.key  = dup_bytes(key, klen);
	e.klen = klen;
	e.val  = v;
	e.vlen = vlen;
	if (e.ns == NULL || e.key == NULL ||
	    cep_grow(&m->e, &m->cap, m->n + 1, sizeof(struct entry)) != 0) {
		cep_strfree(e.ns);
		cep_free(e.key, klen + 1);
		cep_free(v, vlen + 1);
		return (CEP_ENOMEM);
	}
	memmove(&m->e[i + 1], &m->e[i], (m->n - i) * sizeof(struct entry));
	m->e[i] = e;
	m->n++;
	return (CEP_OK);
}

static cep_err
mem_each(void *impl, const char *ns, cep_state_entry_fn fn, void *arg)
{
	cep_state_mem *m = impl;
	int            found;
	size_t         i = find(m, ns, "", 0, &found);
	cep_err        rv;

	for (; i < m->n && strcmp(m->e[i].ns, ns) == 0; i++) {
		if ((rv = fn(arg, m->e[i].key, m->e[i].klen, m->e[i].val,
		         m->e[i].vlen)) != CEP_OK) {
			return (rv);
		}
	}
	return (CEP_OK);
}

cep_state_mem *
cep_state_mem_create(void)
{
	return (cep_zalloc(sizeof(cep_state_mem)));
}

void
cep_state_mem_destroy(cep_state_mem *m)
{
	if (m == NULL) {
		return;
	}
	for (size_t i = 0; i < m->n; i++) {
		cep_strfree(m->e[i].ns);
		cep_free(m->e[i].key, m->e[i].klen + 1);
		cep_free(m->e[i].val, m->e[i].vlen + 1);
	}
	cep_free(m->e, m->cap * sizeof(struct entry));
	cep_free(m, sizeof(*m));
}

cep_state_out
cep_state_mem_out(cep_state_mem *m)
{
	cep_state_out out = { mem_put, m };

	return (out);
}

cep_state_in
cep_state_mem_in(cep_state_mem *m)
{
	cep_state_in in = { mem_each, m };

	return (in);
}

size_t
cep_state_mem_count(const cep_state_mem *m)
{
	return (m->n);
}

cep_err
cep_state_read_event(cep_rd *r, cep_slab *slab, cep_event **out)
{
	cep_msgpack_reader *mp = cep_msgpack_reader_create();
	cep_builder        *b  = cep_builder_create();
	size_t              used;
	cep_err             rv = mp == NULL || b == NULL ? CEP_ENOMEM : CEP_OK;

	if (rv == CEP_OK &&
	    (cep_rd_status(r) != CEP_OK ||
	        cep_msgpack_parse(mp, r->p, cep_rd_left(r), &used, b) !=
	            CEP_OK)) {
		rv = CEP_ECORRUPT;
	}
	if (rv == CEP_OK) {
		r->p += used;
		rv = cep_builder_finish(b, slab, out);
	}
	cep_msgpack_reader_destroy(mp);
	cep_builder_destroy(b);
	return (rv);
}
