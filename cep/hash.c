/* SPDX-License-Identifier: MIT */
/* hash.c: XXH3 wrappers and the open-addressing index. */
#include <string.h>
/* Inlined XXH3: short keys hash without a call; XXH3_state_t's layout
 * is visible, so a state can live on the stack. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "cep/alloc.h"
#include "cep/hash.h"

uint64_t
cep_hash64(const void *p, size_t n, uint64_t seed)
{
	return (XXH3_64bits_withSeed(p, n, seed));
}

void
cep_hash128(const void *p, size_t n, uint64_t *hi, uint64_t *lo)
{
	XXH128_hash_t h = XXH3_128bits(p, n);

	*hi = h.high64;
	*lo = h.low64;
}

_Static_assert(
    sizeof(XXH3_state_t) <= sizeof(((cep_hash128_state *) 0)->opaque),
    "cep_hash128_state too small for XXH3_state_t");
_Static_assert(_Alignof(XXH3_state_t) <= 64,
    "cep_hash128_state under-aligned for XXH3_state_t");

void
cep_hash128_init(cep_hash128_state *s)
{
	memset(s, 0, sizeof(*s));
	(void) XXH3_128bits_reset((XXH3_state_t *) (void *) s->opaque);
}

void
cep_hash128_add(cep_hash128_state *s, const void *p, size_t n)
{
	(void) XXH3_128bits_update((XXH3_state_t *) (void *) s->opaque, p, n);
}

void
cep_hash128_digest(const cep_hash128_state *s, uint64_t *hi, uint64_t *lo)
{
	XXH128_hash_t h = XXH3_128bits_digest(
	    (const XXH3_state_t *) (const void *) s->opaque);

	*hi = h.high64;
	*lo = h.low64;
}

/* stored_hash keeps 0 free to mark empty slots. */
static inline uint64_t
stored_hash(uint64_t h)
{
	return (h | 1);
}

void
cep_htab_init(cep_htab *t)
{
	memset(t, 0, sizeof(*t));
}

void
cep_htab_fini(cep_htab *t)
{
	if (t->slots != NULL) {
		cep_free(t->slots, (t->mask + 1) * sizeof(cep_hslot));
	}
	memset(t, 0, sizeof(*t));
}

void
cep_htab_clear(cep_htab *t)
{
	if (t->slots != NULL) {
		memset(t->slots, 0, (t->mask + 1) * sizeof(cep_hslot));
	}
	t->n = 0;
}

/* find_index returns the slot holding the key, or SIZE_MAX. */
static size_t
find_index(const cep_htab *t, uint64_t h, cep_htab_eq eq, const void *ctx)
{
	if (t->slots == NULL) {
		return (SIZE_MAX);
	}
	h = stored_hash(h);
	for (size_t i = (size_t) h & t->mask; t->slots[i].hash != 0;
	     i        = (i + 1) & t->mask) {
		if (t->slots[i].hash == h && eq(ctx, t->slots[i].val)) {
			return (i);
		}
	}
	return (SIZE_MAX);
}

uint32_t *
cep_htab_find(const cep_htab *t, uint64_t h, cep_htab_eq eq, const void *ctx)
{
	size_t i = find_index(t, h, eq, ctx);

	return (i == SIZE_MAX ? NULL : &t->slots[i].val);
}

static void
place(cep_hslot *slots, size_t mask, uint64_t h, uint32_t val)
{
	size_t i = (size_t) h & mask;

	while (slots[i].hash != 0) {
		i = (i + 1) & mask;
	}
	slots[i].hash = h;
	slots[i].val  = val;
}

static cep_err
rehash(cep_htab *t, size_t cap)
{
	cep_hslot *slots = cep_calloc(cap, sizeof(cep_hslot));

	if (slots == NULL) {
		return (CEP_ENOMEM);
	}
	for (size_t i = 0; t->slots != NULL && i <= t->mask; i++) {
		if (t->slots[i].hash != 0) {
			place(
			    slots, cap - 1, t->slots[i].hash, t->slots[i].val);
		}
	}
	if (t->slots != NULL) {
		cep_free(t->slots, (t->mask + 1) * sizeof(cep_hslot));
	}
	t->slots = slots;
	t->mask  = cap - 1;
	return (CEP_OK);
}

cep_err
cep_htab_insert(cep_htab *t, uint64_t h, uint32_t val)
{
	size_t cap = t->slots == NULL ? 0 : t->mask + 1;

	/* Keep the load factor at or below 1/2. */
	if ((t->n + 1) * 2 > cap) {
		cep_err rv = rehash(t, cap == 0 ? 16 : cap * 2);
		if (rv != CEP_OK) {
			return (rv);
		}
	}
	place(t->slots, t->mask, stored_hash(h), val);
	t->n++;
	return (CEP_OK);
}

/* delete_at removes slot i and shifts later members of its cluster back so
 * that every entry stays reachable from its home slot. */
static void
delete_at(cep_htab *t, size_t i)
{
	size_t j = i;

	for (;;) {
		size_t home;

		t->slots[i].hash = 0;
		for (;;) {
			j = (j + 1) & t->mask;
			if (t->slots[j].hash == 0) {
				t->n--;
				return;
			}
			home = (size_t) t->slots[j].hash & t->mask;
			/* Move j back to i unless its home lies in (i, j]. */
			if (i <= j ? (home <= i || home > j)
			           : (home <= i && home > j)) {
				break;
			}
		}
		t->slots[i] = t->slots[j];
		i           = j;
	}
}

int
cep_htab_remove(cep_htab *t, uint64_t h, cep_htab_eq eq, const void *ctx)
{
	size_t i = find_index(t, h, eq, ctx);

	if (i == SIZE_MAX) {
		return (0);
	}
	delete_at(t, i);
	return (1);
}

int
cep_htab_remove_val(cep_htab *t, uint64_t h, uint32_t val)
{
	size_t i;

	if (t->slots == NULL) {
		return (0);
	}
	h = stored_hash(h);
	for (i = (size_t) h & t->mask; t->slots[i].hash != 0;
	     i = (i + 1) & t->mask) {
		if (t->slots[i].hash == h && t->slots[i].val == val) {
			delete_at(t, i);
			return (1);
		}
	}
	return (0);
}
