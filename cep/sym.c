/* SPDX-License-Identifier: MIT */
/*
 * sym.c: the process-wide symbol table.
 *
 * Entries live in fixed chunks that never move, so cep_sym_name can read an
 * entry without the lock once the count published with release order says
 * it exists.  The hash index is only touched under the mutex.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "cep/alloc.h"
#include "cep/hash.h"
#include "cep/sym.h"

#define CHUNK_BITS 10
#define CHUNK_SIZE (1u << CHUNK_BITS)
#define NCHUNKS (CEP_SYM_MAX / CHUNK_SIZE)
#define NAME_ARENA (64u * 1024u)

struct entry {
	const char *name;
	uint32_t    len;
};

static struct {
	pthread_mutex_t lock;
	struct entry   *chunks[NCHUNKS];
	atomic_uint     count; /* symbols 1..count exist */
	cep_htab        index;
	char           *arena; /* current name arena and its free space */
	size_t          arena_left;
} table = { .lock = PTHREAD_MUTEX_INITIALIZER };

static const uint64_t SYM_SEED = 0x73796d62u;

struct probe {
	const char *s;
	size_t      n;
};

static struct entry *
entry_of(cep_sym sym)
{
	return (&table.chunks[sym >> CHUNK_BITS][sym & (CHUNK_SIZE - 1)]);
}

static int
entry_eq(const void *ctx, uint32_t sym)
{
	const struct probe *p = ctx;
	const struct entry *e = entry_of(sym);

	return (e->len == p->n && memcmp(e->name, p->s, p->n) == 0);
}

/* copy_name stores a name in the arena; arenas are never freed. */
static const char *
copy_name(const char *s, size_t n)
{
	char *d;

	if (n + 1 > table.arena_left) {
		if ((table.arena = cep_alloc(NAME_ARENA)) == NULL) {
			table.arena_left = 0;
			return (NULL);
		}
		table.arena_left = NAME_ARENA;
	}
	d = table.arena;
	memcpy(d, s, n);
	d[n] = '\0';
	table.arena += n + 1;
	table.arena_left -= n + 1;
	return (d);
}

static cep_sym
find_locked(const char *s, size_t n, uint64_t h)
{
	struct probe p   = { s, n };
	uint32_t    *sym = cep_htab_find(&table.index, h, entry_eq, &p);

	return (sym == NULL ? CEP_SYM_NONE : *sym);
}

cep_sym
cep_sym_intern(const char *s, size_t n)
{
	uint64_t      h;
	cep_sym       sym;
	struct entry *e;
	const char   *name;

	if (n == 0 || n > CEP_SYM_MAX_LEN) {
		return (CEP_SYM_NONE);
	}
	h = cep_hash64(s, n, SYM_SEED);
	pthread_mutex_lock(&table.lock);
	if ((sym = find_locked(s, n, h)) != CEP_SYM_NONE) {
		goto out;
	}
	sym = atomic_load_explicit(&table.count, memory_order_relaxed) + 1;
	if (sym >= CEP_SYM_MAX) {
		sym = CEP_SYM_NONE;
		goto out;
	}
	if (table.chunks[sym >> CHUNK_BITS] == NULL &&
	    (table.chunks[sym >> CHUNK_BITS] =
	            cep_calloc(CHUNK_SIZE, sizeof(struct entry))) == NULL) {
		sym = CEP_SYM_NONE;
		goto out;
	}
	if ((name = copy_name(s, n)) == NULL ||
	    cep_htab_insert(&table.index, h, sym) != CEP_OK) {
		sym = CEP_SYM_NONE;
		goto out;
	}
	e       = entry_of(sym);
	e->name = name;
	e->len  = (uint32_t) n;
	atomic_store_explicit(&table.count, sym, memory_order_release);
out:
	pthread_mutex_unlock(&table.lock);
	return (sym);
}

cep_sym
cep_sym_intern_str(const char *s)
{
	return (cep_sym_intern(s, strlen(s)));
}

cep_sym
cep_sym_lookup(const char *s, size_t n)
{
	cep_sym sym;

	if (n == 0 || n > CEP_SYM_MAX_LEN) {
		return (CEP_SYM_NONE);
	}
	pthread_mutex_lock(&table.lock);
	sym = find_locked(s, n, cep_hash64(s, n, SYM_SEED));
	pthread_mutex_unlock(&table.lock);
	return (sym);
}

const char *
cep_sym_name(cep_sym sym, size_t *len)
{
	const struct entry *e;

	if (sym == CEP_SYM_NONE ||
	    sym > atomic_load_explicit(&table.count, memory_order_acquire)) {
		return (NULL);
	}
	e = entry_of(sym);
	if (len != NULL) {
		*len = e->len;
	}
	return (e->name);
}

size_t
cep_sym_count(void)
{
	return (atomic_load_explicit(&table.count, memory_order_acquire));
}

/* ---- paths ------------------------------------------------------------ */

cep_err
cep_path_parse(cep_path *p, const char *text, size_t len)
{
	cep_path path = { 0 };
	size_t   start, i, k;

	if (len == 0 || memchr(text, '\0', len) != NULL) {
		return (CEP_EINVAL);
	}
	path.n = 1;
	for (i = 0; i < len; i++) {
		path.n += text[i] == '.';
	}
	/* Check every segment before allocating anything. */
	for (start = 0, i = 0; i <= len; i++) {
		if (i == len || text[i] == '.') {
			if (i == start) {
				return (CEP_EINVAL);
			}
			if (i - start > CEP_SYM_MAX_LEN) {
				return (CEP_ELIMIT);
			}
			start = i + 1;
		}
	}
	if ((path.syms = cep_calloc(path.n, sizeof(cep_sym))) == NULL) {
		return (CEP_ENOMEM);
	}
	if ((path.text = cep_strndup(text, len)) == NULL) {
		cep_path_fini(&path);
		return (CEP_ENOMEM);
	}
	for (start = 0, k = 0, i = 0; i <= len; i++) {
		if (i == len || text[i] == '.') {
			path.syms[k] = cep_sym_intern(text + start, i - start);
			if (path.syms[k] == CEP_SYM_NONE) {
				cep_path_fini(&path);
				return (CEP_ELIMIT);
			}
			k++;
			start = i + 1;
		}
	}
	*p = path;
	return (CEP_OK);
}

void
cep_path_fini(cep_path *p)
{
	if (p == NULL) {
		return;
	}
	cep_free(p->syms, p->n * sizeof(cep_sym));
	cep_strfree(p->text);
	p->syms = NULL;
	p->n    = 0;
	p->text = NULL;
}
