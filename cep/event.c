/* SPDX-License-Identifier: MIT */
/*
 * event.c: accessors of the flat event block and the builder that makes it.
 *
 * The builder appends strings and finished containers to one growing
 * buffer (children before parents, so a container is written once, when it
 * closes); the open containers' entries wait on an item stack.  The root
 * map is written last and the header filled in at cep_builder_finish.
 */
#include <assert.h>
#include <string.h>

#include "cep/buf.h"
#include "cep/event.h"
#include "cep/hash.h"

/* ---- accessors --------------------------------------------------------- */

const cep_slot *
cep_event_find_path(const cep_event *ev, const cep_sym *path, size_t n)
{
	const cep_cont *m = cep_event_root(ev);
	const cep_slot *s = NULL;

	for (size_t i = 0; i < n; i++) {
		if ((s = cep_map_find(m, path[i])) == NULL) {
			return (NULL);
		}
		if (i + 1 < n) {
			if (s->type != CEP_T_MAP) {
				return (NULL);
			}
			m = cep_event_cont(ev, s->u.off);
		}
	}
	return (s);
}

const char *
cep_field_name(const cep_event *ev, const cep_field *f, size_t *len)
{
	uint32_t n;

	if (f->sym != CEP_SYM_NONE) {
		return (cep_sym_name(f->sym, len));
	}
	memcpy(&n, (const uint8_t *) ev + f->name, sizeof(n));
	*len = n;
	return ((const char *) ev + f->name + sizeof(n));
}

static int
same_name(const cep_event *ev, const cep_field *a, const cep_field *b)
{
	const char *na, *nb;
	size_t      la, lb;

	if (a->sym != CEP_SYM_NONE || b->sym != CEP_SYM_NONE) {
		return (a->sym == b->sym);
	}
	na = cep_field_name(ev, a, &la);
	nb = cep_field_name(ev, b, &lb);
	return (la == lb && memcmp(na, nb, la) == 0);
}

/* overridden says whether field i of m is shadowed by a later namesake. */
static int
overridden(const cep_event *ev, const cep_cont *m, uint32_t i)
{
	const cep_field *f = cep_cont_fields(m);

	if ((m->flags & CEP_CONT_DUPS) == 0) {
		return (0);
	}
	for (uint32_t j = i + 1; j < m->n; j++) {
		if (same_name(ev, &f[i], &f[j])) {
			return (1);
		}
	}
	return (0);
}

int
cep_map_get(const cep_event *ev, const cep_cont *m, const char *name,
    size_t len, cep_val *out)
{
	const cep_field *f = cep_cont_fields(m);

	for (uint32_t i = m->n; i-- > 0;) {
		size_t      flen;
		const char *fname = cep_field_name(ev, &f[i], &flen);
		if (fname != NULL && flen == len &&
		    memcmp(fname, name, len) == 0) {
			cep_slot_val(ev, &f[i].v, out);
			return (1);
		}
	}
	return (0);
}

void
cep_map_iter_init(cep_map_iter *it, const cep_event *ev, const cep_cont *m)
{
	it->ev = ev;
	it->m  = m;
	it->i  = 0;
}

const cep_field *
cep_map_iter_next_field(cep_map_iter *it)
{
	while (it->i < it->m->n) {
		uint32_t i = it->i++;
		if (!overridden(it->ev, it->m, i)) {
			return (&cep_cont_fields(it->m)[i]);
		}
	}
	return (NULL);
}

int
cep_map_iter_next(
    cep_map_iter *it, const char **name, size_t *len, cep_val *val)
{
	const cep_field *f = cep_map_iter_next_field(it);

	if (f == NULL) {
		return (0);
	}
	*name = cep_field_name(it->ev, f, len);
	cep_slot_val(it->ev, &f->v, val);
	return (1);
}

void
cep_event_unref(cep_event *ev, cep_slab *slab)
{
	if (ev == NULL || --ev->refs > 0) {
		return;
	}
	if (ev->flags & CEP_EVF_SLAB) {
		assert(slab != NULL);
		cep_slab_free(slab, ev, ev->size);
	} else {
		cep_free(ev, ev->size);
	}
}

cep_event *
cep_event_copy(const cep_event *ev, cep_slab *slab)
{
	cep_event *copy = slab != NULL ? cep_slab_alloc(slab, ev->size)
	                               : cep_alloc(ev->size);

	if (copy == NULL) {
		return (NULL);
	}
	memcpy(copy, ev, ev->size);
	copy->refs  = 1;
	copy->flags = slab != NULL ? CEP_EVF_SLAB : 0;
	return (copy);
}

/* ---- verification of untrusted blocks ---------------------------------- */

struct verify {
	const uint8_t *p;
	size_t         size;
	int (*sym_ok)(void *arg, cep_sym sym);
	void *arg;
};

static int verify_cont(
    const struct verify *v, uint64_t off, int map, uint32_t depth);

static int
verify_string(const uint8_t *p, size_t size, uint64_t off, uint64_t len)
{
	return (off >= sizeof(cep_event) && off <= size && len < size &&
	    off + len < size && p[off + len] == '\0');
}

static int
verify_slot(const struct verify *v, const cep_slot *s, uint32_t depth)
{
	const uint8_t *p    = v->p;
	size_t         size = v->size;

	switch (s->type) {
	case CEP_T_NULL:
	case CEP_T_INT:
	case CEP_T_DOUBLE:
		return (1);
	case CEP_T_BOOL:
		return (s->u.i == 0 || s->u.i == 1);
	case CEP_T_STR:
		return (verify_string(p, size, s->u.off, s->len));
	case CEP_T_MAP:
	case CEP_T_ARRAY:
		if (depth == 0) {
			return (0);
		}
		return (verify_cont(
		            v, s->u.off, s->type == CEP_T_MAP, depth - 1) &&
		    ((const cep_cont *) (const void *) (p + s->u.off))->n ==
		        s->len);
	default:
		return (0);
	}
}

static int
verify_cont(const struct verify *v, uint64_t off, int map, uint32_t depth)
{
	const uint8_t  *p    = v->p;
	size_t          size = v->size;
	const cep_cont *c;
	size_t          item = map ? sizeof(cep_field) : sizeof(cep_slot);

	if (off < sizeof(cep_event) || off % 8 != 0 ||
	    off + sizeof(cep_cont) > size) {
		return (0);
	}
	c = (const cep_cont *) (const void *) (p + off);
	if (c->n > (size - off - sizeof(cep_cont)) / item) {
		return (0);
	}
	for (uint32_t i = 0; i < c->n; i++) {
		const cep_slot *s;
		if (map) {
			const cep_field *f = &cep_cont_fields(c)[i];
			if (f->sym == CEP_SYM_NONE) {
				uint32_t len;
				if (f->name < sizeof(cep_event) ||
				    (uint64_t) f->name + 4 > size) {
					return (0);
				}
				memcpy(&len, p + f->name, sizeof(len));
				if (!verify_string(
				        p, size, f->name + 4u, len)) {
					return (0);
				}
			} else if (v->sym_ok != NULL
			        ? !v->sym_ok(v->arg, f->sym)
			        : cep_sym_name(f->sym, NULL) == NULL) {
				return (0);
			}
			s = &f->v;
		} else {
			s = &cep_cont_slots(c)[i];
		}
		if (!verify_slot(v, s, depth)) {
			return (0);
		}
	}
	return (1);
}

cep_err
cep_event_verify(const void *block, size_t n, uint32_t max_depth,
    int (*sym_ok)(void *arg, cep_sym sym), void *arg)
{
	const cep_event *ev = block;
	struct verify    v  = { block, n, sym_ok, arg };

	if (n < sizeof(cep_event) + sizeof(cep_cont) || ev->size != n ||
	    !verify_cont(&v, ev->root, 1, max_depth)) {
		return (CEP_ECORRUPT);
	}
	return (CEP_OK);
}

/* each_field visits every field of every map under container off. */
static int
each_field(cep_event *ev, uint64_t off, int map,
    int (*fn)(void *arg, cep_field *f), void *arg)
{
	cep_cont *c = (cep_cont *) (void *) ((uint8_t *) ev + off);

	for (uint32_t i = 0; i < c->n; i++) {
		cep_slot *s;
		if (map) {
			cep_field *f = (cep_field *) (void *) (c + 1) + i;
			if (!fn(arg, f)) {
				return (0);
			}
			s = &f->v;
		} else {
			s = (cep_slot *) (void *) (c + 1) + i;
		}
		if ((s->type == CEP_T_MAP || s->type == CEP_T_ARRAY) &&
		    !each_field(ev, s->u.off, s->type == CEP_T_MAP, fn, arg)) {
			return (0);
		}
	}
	return (1);
}

struct sym_visit {
	void (*fn)(void *arg, cep_sym sym);
	cep_sym (*map)(void *arg, cep_sym sym);
	void *arg;
};

static int
visit_sym(void *arg, cep_field *f)
{
	const struct sym_visit *v = arg;

	if (f->sym != CEP_SYM_NONE) {
		v->fn(v->arg, f->sym);
	}
	return (1);
}

static int
remap_sym(void *arg, cep_field *f)
{
	const struct sym_visit *v = arg;

	if (f->sym != CEP_SYM_NONE &&
	    (f->sym = v->map(v->arg, f->sym)) == CEP_SYM_NONE) {
		return (0);
	}
	return (1);
}

void
cep_event_each_sym(
    const cep_event *ev, void (*fn)(void *arg, cep_sym sym), void *arg)
{
	struct sym_visit v = { fn, NULL, arg };

	/* The walk does not write when visiting. */
	each_field((cep_event *) (uintptr_t) ev, ev->root, 1, visit_sym, &v);
}

cep_err
cep_event_remap_syms(
    cep_event *ev, cep_sym (*map)(void *arg, cep_sym sym), void *arg)
{
	struct sym_visit v = { NULL, map, arg };

	return (
	    each_field(ev, ev->root, 1, remap_sym, &v) ? CEP_OK : CEP_ELIMIT);
}

/* ---- builder ----------------------------------------------------------- */

#define SYM_CACHE_BITS 9
#define SYM_CACHE (1u << SYM_CACHE_BITS)

struct frame {
	uint8_t  is_map;
	uint8_t  have_key;
	uint32_t flags;
	size_t   first_item; /* index of this container's first item */
	uint64_t bloom;      /* names seen, by sym & 63, to spot repeats */
	cep_sym  key_sym;    /* the pending key */
	uint32_t key_name;
};

struct sym_cache {
	uint64_t    tag[2]; /* see name_tag */
	const char *name;   /* the symbol's name, to skip cep_sym_name */
	uint32_t    len;
	cep_sym     sym;
};

struct cep_builder {
	cep_buf          data;
	cep_field       *items;
	size_t           nitems;
	size_t           items_cap;
	struct frame    *frames;
	uint32_t         depth;
	size_t           frames_cap;
	uint32_t         max_depth;
	uint32_t         max_bytes;
	uint32_t         root;
	int              done;
	cep_err          err;
	struct sym_cache cache[SYM_CACHE];
};

cep_builder *
cep_builder_create(void)
{
	cep_builder *b = cep_zalloc(sizeof(*b));

	if (b == NULL) {
		return (NULL);
	}
	b->max_depth = CEP_EVENT_DEFAULT_MAX_DEPTH;
	b->max_bytes = CEP_EVENT_DEFAULT_MAX_BYTES;
	cep_buf_init(&b->data);
	cep_builder_reset(b);
	return (b);
}

void
cep_builder_destroy(cep_builder *b)
{
	if (b == NULL) {
		return;
	}
	cep_buf_fini(&b->data);
	cep_free(b->items, b->items_cap * sizeof(cep_field));
	cep_free(b->frames, b->frames_cap * sizeof(struct frame));
	cep_free(b, sizeof(*b));
}

void
cep_builder_set_limits(cep_builder *b, uint32_t max_depth, uint32_t max_bytes)
{
	if (max_depth != 0) {
		b->max_depth = max_depth;
	}
	if (max_bytes != 0) {
		b->max_bytes = max_bytes;
	}
}

void
cep_builder_limits(
    const cep_builder *b, uint32_t *max_depth, uint32_t *max_bytes)
{
	if (max_depth != NULL) {
		*max_depth = b->max_depth;
	}
	if (max_bytes != NULL) {
		*max_bytes = b->max_bytes;
	}
}

void
cep_builder_reset(cep_builder *b)
{
	static const uint8_t header[sizeof(cep_event)];

	cep_buf_reset(&b->data);
	cep_buf_put(&b->data, header, sizeof(header));
	b->nitems = 0;
	b->depth  = 0;
	b->done   = 0;
	b->root   = 0;
	b->err    = cep_buf_status(&b->data);
}

cep_err
cep_builder_status(const cep_builder *b)
{
	return (b->err);
}

uint32_t
cep_builder_depth(const cep_builder *b)
{
	return (b->depth);
}

size_t
cep_builder_size(const cep_builder *b)
{
	return (b->data.len);
}

static cep_err
fail(cep_builder *b, cep_err err)
{
	if (b->err == CEP_OK) {
		b->err = err;
	}
	return (b->err);
}

/* room checks the size limit before appending n bytes. */
static cep_err
room(cep_builder *b, size_t n)
{
	if (b->data.len + n + 8 > b->max_bytes) {
		return (fail(b, CEP_ELIMIT));
	}
	if (b->data.cap - b->data.len < n + 8 &&
	    cep_buf_reserve(&b->data, n + 8) != CEP_OK) {
		return (fail(b, CEP_ENOMEM));
	}
	return (CEP_OK);
}

/* add_item records a finished value in the open container. */
static cep_err
add_item(cep_builder *b, const cep_slot *v)
{
	struct frame *f;
	cep_field    *item;

	if (b->err != CEP_OK) {
		return (b->err);
	}
	if (b->depth == 0) {
		return (fail(b, CEP_EPARSE)); /* the root must be a map */
	}
	f = &b->frames[b->depth - 1];
	if (f->is_map && !f->have_key) {
		return (fail(b, CEP_EPARSE));
	}
	if (b->nitems == b->items_cap &&
	    cep_grow(&b->items, &b->items_cap, b->nitems + 1,
	        sizeof(cep_field)) != 0) {
		return (fail(b, CEP_ENOMEM));
	}
	item = &b->items[b->nitems++];
	if (f->is_map) {
		item->sym   = f->key_sym;
		item->name  = f->key_name;
		f->have_key = 0;
	} else {
		item->sym  = CEP_SYM_NONE;
		item->name = 0;
	}
	item->v = *v;
	return (CEP_OK);
}

static cep_err
begin(cep_builder *b, int is_map)
{
	struct frame *f;

	if (b->err != CEP_OK) {
		return (b->err);
	}
	if (b->done || (b->depth == 0 && !is_map)) {
		return (fail(b, CEP_EPARSE));
	}
	if (b->depth > 0 && b->frames[b->depth - 1].is_map &&
	    !b->frames[b->depth - 1].have_key) {
		return (fail(b, CEP_EPARSE));
	}
	if (b->depth >= b->max_depth) {
		return (fail(b, CEP_ELIMIT));
	}
	if (b->depth == b->frames_cap &&
	    cep_grow(&b->frames, &b->frames_cap, (size_t) b->depth + 1,
	        sizeof(struct frame)) != 0) {
		return (fail(b, CEP_ENOMEM));
	}
	f             = &b->frames[b->depth++];
	f->is_map     = (uint8_t) is_map;
	f->have_key   = 0;
	f->flags      = 0;
	f->first_item = b->nitems;
	f->bloom      = 0;
	return (CEP_OK);
}

cep_err
cep_builder_map_begin(cep_builder *b)
{
	return (begin(b, 1));
}

cep_err
cep_builder_array_begin(cep_builder *b)
{
	return (begin(b, 0));
}

cep_err
cep_builder_end(cep_builder *b)
{
	struct frame *f;
	size_t        n, item, off;
	cep_cont      head;
	cep_slot      v;
	cep_err       rv;

	if (b->err != CEP_OK) {
		return (b->err);
	}
	if (b->depth == 0 || b->frames[b->depth - 1].have_key) {
		return (fail(b, CEP_EPARSE));
	}
	f    = &b->frames[b->depth - 1];
	n    = b->nitems - f->first_item;
	item = f->is_map ? sizeof(cep_field) : sizeof(cep_slot);
	if ((rv = room(b, 8 + sizeof(head) + n * item)) != CEP_OK) {
		return (rv);
	}
	cep_buf_align(&b->data, 8);
	off        = b->data.len;
	head.n     = (uint32_t) n;
	head.flags = f->flags;
	cep_buf_put(&b->data, &head, sizeof(head));
	if (!f->is_map) {
		for (size_t i = f->first_item; i < b->nitems; i++) {
			cep_buf_put(
			    &b->data, &b->items[i].v, sizeof(cep_slot));
		}
	} else if (n > 0) {
		/* The items are the fields, in order: one copy. */
		cep_buf_put(
		    &b->data, &b->items[f->first_item], n * sizeof(cep_field));
	}
	b->nitems = f->first_item;
	memset(&v, 0, sizeof(v));
	v.type  = f->is_map ? CEP_T_MAP : CEP_T_ARRAY;
	v.len   = (uint32_t) n;
	v.u.off = off;
	b->depth--;
	if (b->depth == 0) {
		b->root = (uint32_t) off;
		b->done = 1;
		return (CEP_OK);
	}
	return (add_item(b, &v));
}

/* note_name marks the open map as holding a repeated name when sym (or an
 * inline name at name_off) was already used in it. */
static void
note_name(cep_builder *b, struct frame *f, cep_sym sym, uint32_t name_off)
{
	uint64_t bit = (uint64_t) 1 << (sym & 63);

	if ((f->bloom & bit) == 0) {
		f->bloom |= bit;
		return;
	}
	for (size_t i = f->first_item; i < b->nitems; i++) {
		cep_field        probe = { .sym = sym, .name = name_off };
		const cep_event *ev =
		    (const cep_event *) (const void *) b->data.data;
		if (same_name(ev, &b->items[i], &probe)) {
			f->flags |= CEP_CONT_DUPS;
			return;
		}
	}
}

static cep_err
set_key(cep_builder *b, cep_sym sym, const char *name, size_t len)
{
	struct frame *f;
	uint32_t      name_off = 0;
	cep_err       rv;

	if (b->err != CEP_OK) {
		return (b->err);
	}
	if (b->depth == 0 || !b->frames[b->depth - 1].is_map ||
	    b->frames[b->depth - 1].have_key) {
		return (fail(b, CEP_EPARSE));
	}
	f = &b->frames[b->depth - 1];
	if (sym == CEP_SYM_NONE) {
		uint32_t n32 = (uint32_t) len;
		if (len > UINT32_MAX || (rv = room(b, len + 8)) != CEP_OK) {
			return (len > UINT32_MAX ? fail(b, CEP_ELIMIT) : rv);
		}
		cep_buf_align(&b->data, 4);
		name_off = (uint32_t) b->data.len;
		cep_buf_put(&b->data, &n32, sizeof(n32));
		cep_buf_put(&b->data, name, len);
		cep_buf_put_u8(&b->data, 0);
	}
	note_name(b, f, sym, name_off);
	f->key_sym  = sym;
	f->key_name = name_off;
	f->have_key = 1;
	return (CEP_OK);
}

/* name_tag identifies a name in the symbol cache and returns its slot.  A
 * name of up to 16 bytes is its own tag: two loads, overlapping when it is
 * shorter, hold all its bytes, so with the length they tell names apart
 * and a hit costs no hash and no memcmp (hashing and comparing names took
 * a third of decoding a 10-field msgpack event).  A longer name's tag is
 * its hash, confirmed by memcmp. */
static size_t
name_tag(const char *name, size_t len, uint64_t tag[2])
{
	const uint8_t *s = (const uint8_t *) name;
	uint32_t       x, y;

	tag[0] = tag[1] = 0;
	if (len > 16) {
		tag[0] = cep_hash64(name, len, 0);
		return (tag[0] & (SYM_CACHE - 1));
	}
	if (len >= 8) {
		memcpy(&tag[0], s, 8);
		memcpy(&tag[1], s + len - 8, 8);
	} else if (len >= 4) {
		memcpy(&x, s, 4);
		memcpy(&y, s + len - 4, 4);
		tag[0] = x;
		tag[1] = y;
	} else if (len > 0) {
		tag[0] = s[0] | (uint32_t) s[len / 2] << 8 |
		    (uint32_t) s[len - 1] << 16;
	}
	return ((((tag[0] + len) * 0x9e3779b97f4a7c15u) ^
	            (tag[1] * 0xc2b2ae3d27d4eb4fu)) >>
	    (64 - SYM_CACHE_BITS));
}

cep_err
cep_builder_key(cep_builder *b, const char *name, size_t len)
{
	uint64_t          tag[2];
	struct sym_cache *c = &b->cache[name_tag(name, len, tag)];
	cep_sym           sym;

	if (c->sym != CEP_SYM_NONE && c->len == len && c->tag[0] == tag[0] &&
	    c->tag[1] == tag[1] &&
	    (len <= 16 || memcmp(c->name, name, len) == 0)) {
		return (set_key(b, c->sym, name, len));
	}
	sym = cep_sym_intern(name, len);
	if (sym != CEP_SYM_NONE) {
		c->tag[0] = tag[0];
		c->tag[1] = tag[1];
		c->sym    = sym;
		c->name   = cep_sym_name(sym, NULL);
		c->len    = (uint32_t) len;
	}
	return (set_key(b, sym, name, len));
}

cep_err
cep_builder_key_sym(cep_builder *b, cep_sym sym)
{
	if (sym == CEP_SYM_NONE) {
		return (fail(b, CEP_EINVAL));
	}
	return (set_key(b, sym, NULL, 0));
}

static cep_err
scalar(cep_builder *b, uint8_t type, int64_t i)
{
	cep_slot v;

	memset(&v, 0, sizeof(v));
	v.type = type;
	v.u.i  = i;
	return (add_item(b, &v));
}

cep_err
cep_builder_null(cep_builder *b)
{
	return (scalar(b, CEP_T_NULL, 0));
}

cep_err
cep_builder_bool(cep_builder *b, int v)
{
	return (scalar(b, CEP_T_BOOL, v != 0));
}

cep_err
cep_builder_int(cep_builder *b, int64_t v)
{
	return (scalar(b, CEP_T_INT, v));
}

cep_err
cep_builder_double(cep_builder *b, double d)
{
	cep_slot v;

	memset(&v, 0, sizeof(v));
	v.type = CEP_T_DOUBLE;
	v.u.d  = d;
	return (add_item(b, &v));
}

cep_err
cep_builder_str(cep_builder *b, const char *s, size_t len)
{
	cep_slot v;
	cep_err  rv;

	if (b->err != CEP_OK) {
		return (b->err);
	}
	if (len > UINT32_MAX) {
		return (fail(b, CEP_ELIMIT));
	}
	if ((rv = room(b, len + 1)) != CEP_OK) {
		return (rv);
	}
	memset(&v, 0, sizeof(v));
	v.type  = CEP_T_STR;
	v.len   = (uint32_t) len;
	v.u.off = b->data.len;
	/* room() reserved the bytes: no cep_buf_put checks per string. */
	if (len > 0) {
		memcpy(b->data.data + b->data.len, s, len);
	}
	b->data.data[b->data.len + len] = '\0';
	b->data.len += len + 1;
	return (add_item(b, &v));
}

static cep_err copy_cont(
    cep_builder *b, const cep_event *ev, const cep_cont *c, int is_map);

cep_err
cep_builder_val(cep_builder *b, const cep_val *v)
{
	switch ((cep_type) v->type) {
	case CEP_T_NULL:
		return (cep_builder_null(b));
	case CEP_T_BOOL:
		return (cep_builder_bool(b, v->u.b));
	case CEP_T_INT:
		return (cep_builder_int(b, v->u.i));
	case CEP_T_DOUBLE:
		return (cep_builder_double(b, v->u.d));
	case CEP_T_STR:
		return (cep_builder_str(b, v->u.s, v->len));
	case CEP_T_MAP:
	case CEP_T_ARRAY:
		return (copy_cont(b, v->u.c.ev,
		    cep_event_cont(v->u.c.ev, v->u.c.off),
		    v->type == CEP_T_MAP));
	}
	return (fail(b, CEP_EINVAL));
}

static cep_err
copy_cont(cep_builder *b, const cep_event *ev, const cep_cont *c, int is_map)
{
	cep_err rv =
	    is_map ? cep_builder_map_begin(b) : cep_builder_array_begin(b);
	cep_val v;

	if (is_map) {
		cep_map_iter     it;
		const cep_field *f;
		cep_map_iter_init(&it, ev, c);
		while (rv == CEP_OK &&
		    (f = cep_map_iter_next_field(&it)) != NULL) {
			if (f->sym != CEP_SYM_NONE) {
				rv = cep_builder_key_sym(b, f->sym);
			} else {
				size_t      len;
				const char *name = cep_field_name(ev, f, &len);
				rv = set_key(b, CEP_SYM_NONE, name, len);
			}
			cep_slot_val(ev, &f->v, &v);
			if (rv == CEP_OK) {
				rv = cep_builder_val(b, &v);
			}
		}
	} else {
		const cep_slot *s = cep_cont_slots(c);
		for (uint32_t i = 0; rv == CEP_OK && i < c->n; i++) {
			cep_slot_val(ev, &s[i], &v);
			rv = cep_builder_val(b, &v);
		}
	}
	return (rv == CEP_OK ? cep_builder_end(b) : rv);
}

cep_err
cep_builder_event(cep_builder *b, const cep_event *ev)
{
	return (copy_cont(b, ev, cep_event_root(ev), 1));
}

/* seal writes the header of a finished block into the buffer. */
static int
seal(cep_builder *b, uint32_t refs, uint32_t flags)
{
	cep_event head;

	if (b->err != CEP_OK || !b->done || b->depth != 0) {
		return (0);
	}
	cep_buf_align(&b->data, 8);
	if (cep_buf_status(&b->data) != CEP_OK) {
		b->err = CEP_ENOMEM;
		return (0);
	}
	head.refs  = refs;
	head.size  = (uint32_t) b->data.len;
	head.root  = b->root;
	head.flags = flags;
	memcpy(b->data.data, &head, sizeof(head));
	return (1);
}

const cep_event *
cep_builder_peek(cep_builder *b)
{
	if (!seal(b, 0, 0)) {
		return (NULL);
	}
	return ((const cep_event *) (const void *) b->data.data);
}

cep_err
cep_builder_finish(cep_builder *b, cep_slab *slab, cep_event **out)
{
	cep_event *ev;
	cep_event  head;

	if (!seal(b, 1, slab != NULL ? CEP_EVF_SLAB : 0)) {
		cep_err err = b->err != CEP_OK ? b->err : CEP_EPARSE;
		cep_builder_reset(b);
		return (err);
	}
	memcpy(&head, b->data.data, sizeof(head));
	ev = slab != NULL ? cep_slab_alloc(slab, head.size)
	                  : cep_alloc(head.size);
	if (ev == NULL) {
		cep_builder_reset(b);
		return (CEP_ENOMEM);
	}
	memcpy(ev, b->data.data, head.size);
	cep_builder_reset(b);
	*out = ev;
	return (CEP_OK);
}
