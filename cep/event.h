/* SPDX-License-Identifier: MIT */
/*
 * event.h: the compact event.
 *
 * An event is decoded once at ingress into one flat, position-independent
 * block: a header, then containers and strings addressed by byte offsets
 * from the block's start.  A block can be copied with memcpy, written to
 * disk as is, and handed to another thread.
 *
 *	cep_event  { refs, size, root, flags }           16 bytes
 *	cep_cont   { n, flags } + n cep_field (map)      8 + 24n bytes
 *	cep_cont   { n, flags } + n cep_slot  (array)    8 + 16n bytes
 *	string     bytes + NUL, addressed by (off, len)
 *	name       { u32 len } + bytes + NUL             for uninterned names
 *
 * Field names are interned cep_syms (see sym.h) so a rule's field lookup
 * compares integers; a name the symbol table refused is kept inline and
 * the field's sym is CEP_SYM_NONE.  Map fields keep their input order; when
 * a name repeats, the last occurrence wins (lookups scan backwards and the
 * encoders skip the earlier ones; CEP_CONT_DUPS marks such maps).
 *
 * Ownership: an event is immutable once built.  `refs` counts owners of a
 * block allocated by cep_builder_finish or cep_event_copy; one thread owns
 * a block at a time (the count is not atomic).  Whoever holds a reference
 * releases it with cep_event_unref, passing the slab it was allocated from
 * (NULL for the general allocator).
 */
#ifndef CEP_EVENT_H
#define CEP_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "cep/alloc.h"
#include "cep/errors.h"
#include "cep/sym.h"
#include "cep/value.h"

typedef struct cep_event {
	uint32_t refs;
	uint32_t size;  /* bytes in the block, header included */
	uint32_t root;  /* offset of the root map's cep_cont */
	uint32_t flags; /* CEP_EVF_* */
} cep_event;

#define CEP_EVF_SLAB 1u /* allocated from a cep_slab */

typedef struct cep_slot {
	uint8_t  type; /* cep_type */
	uint8_t  pad[3];
	uint32_t len; /* string bytes or container entries */
	union {
		int64_t  i;
		double   d;
		uint64_t off; /* STR, MAP, ARRAY: offset in the block */
	} u;
} cep_slot;

typedef struct cep_field {
	cep_sym  sym;  /* or CEP_SYM_NONE with the name inline */
	uint32_t name; /* offset of the inline name record, 0 if interned */
	cep_slot v;
} cep_field;

typedef struct cep_cont {
	uint32_t n;
	uint32_t flags; /* CEP_CONT_* */
} cep_cont;

#define CEP_CONT_DUPS 1u /* a map in which some name appears twice */

#define CEP_EVENT_DEFAULT_MAX_DEPTH 64u
#define CEP_EVENT_DEFAULT_MAX_BYTES (4u << 20)

static inline const cep_cont *
cep_event_cont(const cep_event *ev, uint64_t off)
{
	return (
	    (const cep_cont *) (const void *) ((const uint8_t *) ev + off));
}

static inline const cep_cont *
cep_event_root(const cep_event *ev)
{
	return (cep_event_cont(ev, ev->root));
}

static inline const cep_field *
cep_cont_fields(const cep_cont *m)
{
	return ((const cep_field *) (const void *) (m + 1));
}

static inline const cep_slot *
cep_cont_slots(const cep_cont *a)
{
	return ((const cep_slot *) (const void *) (a + 1));
}

static inline const char *
cep_event_str(const cep_event *ev, const cep_slot *s)
{
	return ((const char *) ev + s->u.off);
}

/* The slot of the last field named sym in map m, or NULL. */
static inline const cep_slot *
cep_map_find(const cep_cont *m, cep_sym sym)
{
	const cep_field *f = cep_cont_fields(m);

	for (uint32_t i = m->n; i-- > 0;) {
		if (f[i].sym == sym) {
			return (&f[i].v);
		}
	}
	return (NULL);
}

/* The slot of a top-level field, or NULL when absent. */
static inline const cep_slot *
cep_event_find(const cep_event *ev, cep_sym sym)
{
	return (cep_map_find(cep_event_root(ev), sym));
}

/* Follow a path of names through nested maps (a.b.c); NULL when a step is
 * missing or not a map. */
const cep_slot *cep_event_find_path(
    const cep_event *ev, const cep_sym *path, size_t n);

/* Turn a slot into a value (a NULL slot gives null). */
static inline void
cep_slot_val(const cep_event *ev, const cep_slot *s, cep_val *out)
{
	if (s == NULL) {
		*out = cep_val_null();
		return;
	}
	out->type = s->type;
	out->len  = s->len;
	switch ((cep_type) s->type) {
	case CEP_T_STR:
		out->u.s = cep_event_str(ev, s);
		break;
	case CEP_T_MAP:
	case CEP_T_ARRAY:
		out->u.c.ev  = ev;
		out->u.c.off = (uint32_t) s->u.off;
		break;
	case CEP_T_BOOL:
		out->u.b = s->u.i != 0;
		break;
	case CEP_T_DOUBLE:
		out->u.d = s->u.d;
		break;
	case CEP_T_NULL:
	case CEP_T_INT:
		out->u.i = s->u.i;
		break;
	}
}

/* The name of a field: interned or inline. */
const char *cep_field_name(
    const cep_event *ev, const cep_field *f, size_t *len);

/* Look a field up by name text in map m (for callers without a sym);
 * returns 1 and the value when present. */
int cep_map_get(const cep_event *ev, const cep_cont *m, const char *name,
    size_t len, cep_val *out);

/* Iterate over a map's fields in order, skipping fields that a later field
 * of the same name overrides. */
typedef struct cep_map_iter {
	const cep_event *ev;
	const cep_cont  *m;
	uint32_t         i;
} cep_map_iter;

void cep_map_iter_init(
    cep_map_iter *it, const cep_event *ev, const cep_cont *m);
/* Next field: name, its length and value; 0 at the end. */
int cep_map_iter_next(
    cep_map_iter *it, const char **name, size_t *len, cep_val *val);
/* Same, yielding the raw field. */
const cep_field *cep_map_iter_next_field(cep_map_iter *it);

/* Take a reference. */
static inline void
cep_event_ref(cep_event *ev)
{
	ev->refs++;
}

/* Drop a reference; the last one frees the block into `slab` (which must be
 * the slab it came from, or NULL when it came from cep_alloc). */
void cep_event_unref(cep_event *ev, cep_slab *slab);

/* A private copy of an event (refs = 1) from slab, or from cep_alloc when
 * slab is NULL.  NULL when out of memory. */
cep_event *cep_event_copy(const cep_event *ev, cep_slab *slab);

/* Check that n bytes hold a well-formed block (offsets in range, nesting
 * within max_depth, strings NUL-terminated, names valid).  Used on blocks
 * read back from disk before trusting them.  Field symbols are accepted
 * when sym_ok(arg, sym) says so, or, with sym_ok NULL, when they exist in
 * this process's table.  CEP_OK or CEP_ECORRUPT. */
cep_err cep_event_verify(const void *p, size_t n, uint32_t max_depth,
    int (*sym_ok)(void *arg, cep_sym sym), void *arg);

/* Call fn for the symbol of every interned field name in the block, nested
 * maps included (a symbol may be reported more than once). */
void cep_event_each_sym(
    const cep_event *ev, void (*fn)(void *arg, cep_sym sym), void *arg);
/* Replace every field symbol s of a verified block by map(arg, s), in
 * place: how saved events are brought into a process whose symbol table
 * numbers names differently.  CEP_ELIMIT (block unchanged or partly
 * changed) when map returns CEP_SYM_NONE. */
cep_err cep_event_remap_syms(
    cep_event *ev, cep_sym (*map)(void *arg, cep_sym sym), void *arg);

/*
 * cep_builder assembles an event from a stream of calls, the way the JSON
 * and msgpack decoders walk their input:
 *
 *	cep_builder_map_begin(b);
 *	cep_builder_key(b, "ts", 2); cep_builder_int(b, 1700000000000);
 *	cep_builder_key(b, "tags", 4); cep_builder_array_begin(b);
 *	    cep_builder_str(b, "a", 1);
 *	cep_builder_end(b);
 *	cep_builder_end(b);
 *	cep_builder_finish(b, slab, &ev);
 *
 * The root must be a map.  Limits on nesting depth and block size make
 * hostile input fail with CEP_ELIMIT instead of exhausting memory.  After
 * an error the builder refuses further calls until cep_builder_reset.
 * A builder keeps its buffers between events (no allocation per event once
 * warm) and a cache of name -> symbol lookups.  Not thread-safe.
 */
typedef struct cep_builder cep_builder;

cep_builder *cep_builder_create(void);
void         cep_builder_destroy(cep_builder *b);
/* Set the nesting and size limits (0 keeps the current value). */
void cep_builder_set_limits(
    cep_builder *b, uint32_t max_depth, uint32_t max_bytes);
/* The current limits, for decoders that check input against them before
 * building (either pointer may be NULL). */
void cep_builder_limits(
    const cep_builder *b, uint32_t *max_depth, uint32_t *max_bytes);
/* Start a new event, forgetting any partial one and any error. */
void cep_builder_reset(cep_builder *b);
/* The first error since the last reset, or CEP_OK. */
cep_err cep_builder_status(const cep_builder *b);
/* Current nesting depth (0 before the root map, 1 inside it). */
uint32_t cep_builder_depth(const cep_builder *b);

cep_err cep_builder_map_begin(cep_builder *b);
cep_err cep_builder_array_begin(cep_builder *b);
cep_err cep_builder_end(cep_builder *b);
/* The name of the next value in the current map. */
cep_err cep_builder_key(cep_builder *b, const char *name, size_t len);
/* The name as an already interned symbol. */
cep_err cep_builder_key_sym(cep_builder *b, cep_sym sym);
cep_err cep_builder_null(cep_builder *b);
cep_err cep_builder_bool(cep_builder *b, int v);
cep_err cep_builder_int(cep_builder *b, int64_t v);
cep_err cep_builder_double(cep_builder *b, double v);
cep_err cep_builder_str(cep_builder *b, const char *s, size_t len);
/* A value (deep copy of strings and containers). */
cep_err cep_builder_val(cep_builder *b, const cep_val *v);
/* A whole event as a nested map value. */
cep_err cep_builder_event(cep_builder *b, const cep_event *ev);

/* Finish: the root map must be closed.  The block comes from slab (NULL:
 * cep_alloc), refs = 1.  The builder is reset afterwards. */
cep_err cep_builder_finish(cep_builder *b, cep_slab *slab, cep_event **out);
/* Bytes the finished block would take (for callers placing it). */
size_t cep_builder_size(const cep_builder *b);
/* The finished event in place, without copying it: valid until the next
 * call on the builder (refs is 0; never unref it).  NULL when the root
 * map is not closed or the builder failed. */
const cep_event *cep_builder_peek(cep_builder *b);

#endif
