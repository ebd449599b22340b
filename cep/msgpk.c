/* SPDX-License-Identifier: MIT */
/*
 * msgpk.c: msgpack in and out.
 *
 * msgpack-c 4.0 allocates what a length prefix claims before it has seen
 * the bytes (the five bytes of an array32 header can ask for 96 GiB), so
 * the reader first walks the object itself: every header is read within
 * the bytes at hand, nesting is capped, and the smallest event block that
 * the claimed containers and strings would need is held against the
 * builder's size limit, so that a hostile prefix fails at once instead of
 * waiting for bytes or allocating.  Only a complete object within the
 * limits goes to msgpack_unpack, into a zone that the reader owns and clears
 * after each object: a warm reader allocates nothing per object.  The
 * object tree then becomes builder calls, refusing ext types, keys that are
 * not strings and strings that are not UTF-8.
 *
 * Resynchronization: an invalid object whose extent the walk found is
 * skipped whole; when the walk itself fails (a reserved byte, too deep, too
 * big) the extent is unknown and one byte is skipped.
 */
#include <stdio.h>
#include <string.h>

#include <msgpack.h>
#include <msgpack/unpack_define.h>

#include "cep/alloc.h"
#include "cep/codec.h"

#define MSG_SIZE 160

/* msgpack-c's unpacker keeps open containers on a fixed stack of this many
 * entries and refuses deeper objects, so the walk never lets them by. */
#define WALK_MAX_DEPTH MSGPACK_EMBED_STACK_SIZE

struct cep_msgpack_reader {
	msgpack_zone   zone;
	const uint8_t *data; /* the object being converted */
	char           msg[MSG_SIZE];
};

/* ---- reader: the bounds walk ------------------------------------------ */

enum kind { K_FIXED, K_STR, K_EXT, K_ARRAY, K_MAP, K_BAD };

/* The formats 0xc0..0xdf: kind, header bytes, bytes of the big-endian
 * length or count that follows the first byte, and fixed payload bytes. */
static const struct format {
	uint8_t kind, head, lenbytes, body;
} formats[32] = {
	{ K_FIXED, 1, 0, 0 }, /* 0xc0 nil */
	{ K_BAD, 1, 0, 0 },   /* 0xc1 never used */
	{ K_FIXED, 1, 0, 0 }, /* 0xc2 false */
	{ K_FIXED, 1, 0, 0 }, /* 0xc3 true */
	{ K_STR, 2, 1, 0 },   /* 0xc4 bin8 */
	{ K_STR, 3, 2, 0 },   /* 0xc5 bin16 */
	{ K_STR, 5, 4, 0 },   /* 0xc6 bin32 */
	{ K_EXT, 3, 1, 0 },   /* 0xc7 ext8: length, type */
	{ K_EXT, 4, 2, 0 },   /* 0xc8 ext16 */
	{ K_EXT, 6, 4, 0 },   /* 0xc9 ext32 */
	{ K_FIXED, 1, 0, 4 }, /* 0xca float32 */
	{ K_FIXED, 1, 0, 8 }, /* 0xcb float64 */
	{ K_FIXED, 1, 0, 1 }, /* 0xcc uint8 */
	{ K_FIXED, 1, 0, 2 }, /* 0xcd uint16 */
	{ K_FIXED, 1, 0, 4 }, /* 0xce uint32 */
	{ K_FIXED, 1, 0, 8 }, /* 0xcf uint64 */
	{ K_FIXED, 1, 0, 1 }, /* 0xd0 int8 */
	{ K_FIXED, 1, 0, 2 }, /* 0xd1 int16 */
	{ K_FIXED, 1, 0, 4 }, /* 0xd2 int32 */
	{ K_FIXED, 1, 0, 8 }, /* 0xd3 int64 */
	{ K_EXT, 2, 0, 1 },   /* 0xd4 fixext1: type, data */
	{ K_EXT, 2, 0, 2 },   /* 0xd5 fixext2 */
	{ K_EXT, 2, 0, 4 },   /* 0xd6 fixext4 */
	{ K_EXT, 2, 0, 8 },   /* 0xd7 fixext8 */
	{ K_EXT, 2, 0, 16 },  /* 0xd8 fixext16 */
	{ K_STR, 2, 1, 0 },   /* 0xd9 str8 */
	{ K_STR, 3, 2, 0 },   /* 0xda str16 */
	{ K_STR, 5, 4, 0 },   /* 0xdb str32 */
	{ K_ARRAY, 3, 2, 0 }, /* 0xdc array16 */
	{ K_ARRAY, 5, 4, 0 }, /* 0xdd array32 */
	{ K_MAP, 3, 2, 0 },   /* 0xde map16 */
	{ K_MAP, 5, 4, 0 },   /* 0xdf map32 */
};

/* An open container during the walk. */
struct level {
	uint64_t left; /* items still to come: values, or keys and values */
	int      is_map;
};

static uint64_t
read_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++) {
		v = v << 8 | p[i];
	}
	return (v);
}

static cep_err
walk_error(cep_msgpack_reader *r, cep_err err, size_t pos, const char *what)
{
	snprintf(r->msg, sizeof(r->msg), "offset %zu: %s", pos, what);
	return (err);
}

/* walk finds the size of the object at the start of p[0..len) without
 * trusting any length in it.  CEP_EAGAIN when the bytes end inside it;
 * CEP_EPARSE or CEP_ELIMIT (with a message) when it cannot be valid.  The
 * block estimate counts what cep_builder would at least write: the header,
 * 8 + 24n bytes per map, 8 + 16n per array, a string value's bytes and
 * NUL, and a key's bytes when it is too long to be interned. */
static cep_err
walk(cep_msgpack_reader *r, const uint8_t *p, size_t len, uint32_t max_depth,
    uint64_t max_bytes, size_t *size)
{
	struct level stack[WALK_MAX_DEPTH];
	uint32_t     depth = 0;
	size_t       pos   = 0;
	uint64_t     cost  = sizeof(cep_event);

	for (;;) {
		struct format f = { K_FIXED, 1, 0, 0 };
		uint64_t      n = 0, step;
		unsigned      c;

		if (pos >= len) {
			return (CEP_EAGAIN);
		}
		c = p[pos];
		if (c >= 0x80 && c <= 0x8f) {
			f.kind = K_MAP;
			n      = c & 0x0f;
		} else if (c >= 0x90 && c <= 0x9f) {
			f.kind = K_ARRAY;
			n      = c & 0x0f;
		} else if (c >= 0xa0 && c <= 0xbf) {
			f.kind = K_STR;
			n      = c & 0x1f;
		} else if (c >= 0xc0 && c <= 0xdf) {
			f = formats[c - 0xc0];
		}
		if (f.kind == K_BAD) {
			return (walk_error(
			    r, CEP_EPARSE, pos, "reserved byte 0xc1"));
		}
		if (f.head > len - pos) {
			return (CEP_EAGAIN);
		}
		if (f.lenbytes > 0) {
			n = read_be(p + pos + 1, f.lenbytes);
		}
		step = f.head + f.body;
		if (f.kind == K_STR) {
			int is_key = depth > 0 && stack[depth - 1].is_map &&
			    stack[depth - 1].left % 2 == 0;
			step += n;
			cost += !is_key           ? n + 1
			    : n > CEP_SYM_MAX_LEN ? n + 8
			                          : 0;
		} else if (f.kind == K_EXT) {
			step += n;
		} else if (f.kind == K_MAP || f.kind == K_ARRAY) {
			int is_map = f.kind == K_MAP;
			cost += 8 + n * (is_map ? 24 : 16);
			if (depth >= max_depth) {
				char what[48];
				snprintf(what, sizeof(what),
				    "nesting deeper than %u levels",
				    (unsigned) max_depth);
				return (walk_error(r, CEP_ELIMIT, pos, what));
			}
			if (n > 0 && cost <= max_bytes) {
				stack[depth].left   = is_map ? 2 * n : n;
				stack[depth].is_map = is_map;
				depth++;
				pos += step;
				continue;
			}
		}
		if (cost > max_bytes) {
			char what[48];
			snprintf(what, sizeof(what),
			    "event larger than %llu bytes",
			    (unsigned long long) max_bytes);
			return (walk_error(r, CEP_ELIMIT, pos, what));
		}
		if (step > len - pos) {
			return (CEP_EAGAIN);
		}
		pos += step;
		/* A value is complete: close the containers it completes. */
		for (;;) {
			if (depth == 0) {
				*size = pos;
				return (CEP_OK);
			}
			if (--stack[depth - 1].left > 0) {
				break;
			}
			depth--;
		}
	}
}

/* ---- reader: conversion ------------------------------------------------ */

static cep_err
convert_error(cep_msgpack_reader *r, cep_err err, const char *what)
{
	snprintf(r->msg, sizeof(r->msg), "%s", what);
	return (err);
}

/* built reports a builder error; opening says the failed call opened a
 * container, whose only limit is the depth. */
static cep_err
built(cep_msgpack_reader *r, cep_builder *b, cep_err rv, int opening)
{
	uint32_t max_depth, max_bytes;

	if (rv == CEP_OK) {
		return (rv);
	}
	cep_builder_limits(b, &max_depth, &max_bytes);
	if (rv == CEP_ELIMIT && opening) {
		snprintf(r->msg, sizeof(r->msg),
		    "nesting deeper than %u levels", (unsigned) max_depth);
	} else if (rv == CEP_ELIMIT) {
		snprintf(r->msg, sizeof(r->msg), "event larger than %u bytes",
		    (unsigned) max_bytes);
	} else {
		snprintf(r->msg, sizeof(r->msg), "%s", cep_strerror(rv));
	}
	return (rv);
}

/* text checks that a str or bin object is UTF-8 and passes its bytes. */
static cep_err
text(cep_msgpack_reader *r, const msgpack_object *o, const char **s,
    size_t *len)
{
	const char *p =
	    o->type == MSGPACK_OBJECT_STR ? o->via.str.ptr : o->via.bin.ptr;
	size_t n =
	    o->type == MSGPACK_OBJECT_STR ? o->via.str.size : o->via.bin.size;

	if (!cep_utf8_valid(p, n)) {
		snprintf(r->msg, sizeof(r->msg),
		    "offset %zu: %s is not valid UTF-8",
		    (size_t) ((const uint8_t *) p - r->data),
		    o->type == MSGPACK_OBJECT_STR ? "string" : "bin");
		return (CEP_EPARSE);
	}
	*s   = p;
	*len = n;
	return (CEP_OK);
}

static cep_err convert(
    cep_msgpack_reader *r, const msgpack_object *o, cep_builder *b);

static cep_err
convert_array(cep_msgpack_reader *r, const msgpack_object *o, cep_builder *b)
{
	cep_err rv = built(r, b, cep_builder_array_begin(b), 1);

	for (uint32_t i = 0; rv == CEP_OK && i < o->via.array.size; i++) {
		rv = convert(r, &o->via.array.ptr[i], b);
	}
	return (rv != CEP_OK ? rv : built(r, b, cep_builder_end(b), 0));
}

static cep_err
convert_map(cep_msgpack_reader *r, const msgpack_object *o, cep_builder *b)
{
	cep_err     rv = built(r, b, cep_builder_map_begin(b), 1);
	const char *s;
	size_t      len;

	for (uint32_t i = 0; rv == CEP_OK && i < o->via.map.size; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];
		if (kv->key.type != MSGPACK_OBJECT_STR &&
		    kv->key.type != MSGPACK_OBJECT_BIN) {
			snprintf(
			    r->msg, sizeof(r->msg), "map key is not a string");
			return (CEP_EPARSE);
		}
		if ((rv = text(r, &kv->key, &s, &len)) == CEP_OK &&
		    (rv = built(r, b, cep_builder_key(b, s, len), 0)) ==
		        CEP_OK) {
			rv = convert(r, &kv->val, b);
		}
	}
	return (rv != CEP_OK ? rv : built(r, b, cep_builder_end(b), 0));
}

/* convert feeds an object to the builder; the walk bounded its depth. */
static cep_err
convert(cep_msgpack_reader *r, const msgpack_object *o, cep_builder *b)
{
	const char *s;
	size_t      len;
	cep_err     rv;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return (built(r, b, cep_builder_null(b), 0));
	case MSGPACK_OBJECT_BOOLEAN:
		return (built(r, b, cep_builder_bool(b, o->via.boolean), 0));
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		rv = o->via.u64 > (uint64_t) INT64_MAX
		    ? cep_builder_double(b, (double) o->via.u64)
		    : cep_builder_int(b, (int64_t) o->via.u64);
		return (built(r, b, rv, 0));
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return (built(r, b, cep_builder_int(b, o->via.i64), 0));
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return (built(r, b, cep_builder_double(b, o->via.f64), 0));
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN:
		if ((rv = text(r, o, &s, &len)) != CEP_OK) {
			return (rv);
		}
		return (built(r, b, cep_builder_str(b, s, len), 0));
	case MSGPACK_OBJECT_ARRAY:
		return (convert_array(r, o, b));
	case MSGPACK_OBJECT_MAP:
		return (convert_map(r, o, b));
	case MSGPACK_OBJECT_EXT:
		break;
	}
	snprintf(r->msg, sizeof(r->msg), "ext types are refused");
	return (CEP_EPARSE);
}

/* ---- reader ------------------------------------------------------------ */

cep_msgpack_reader *
cep_msgpack_reader_create(void)
{
	cep_msgpack_reader *r = cep_zalloc(sizeof(*r));

	if (r == NULL) {
		return (NULL);
	}
	if (!msgpack_zone_init(&r->zone, MSGPACK_ZONE_CHUNK_SIZE)) {
		cep_free(r, sizeof(*r));
		return (NULL);
	}
	return (r);
}

void
cep_msgpack_reader_destroy(cep_msgpack_reader *r)
{
	if (r == NULL) {
		return;
	}
	msgpack_zone_destroy(&r->zone);
	cep_free(r, sizeof(*r));
}

const char *
cep_msgpack_reader_error(const cep_msgpack_reader *r)
{
	return (r->msg);
}

cep_err
cep_msgpack_parse(cep_msgpack_reader *r, const void *data, size_t len,
    size_t *used, cep_builder *b)
{
	uint32_t       max_depth, max_bytes;
	size_t         size = 0, off = 0;
	msgpack_object obj;
	cep_err        rv;

	cep_builder_reset(b);
	r->msg[0] = '\0';
	cep_builder_limits(b, &max_depth, &max_bytes);
	if (max_depth > WALK_MAX_DEPTH) {
		max_depth = WALK_MAX_DEPTH;
	}
	rv = walk(r, data, len, max_depth, max_bytes, &size);
	if (rv == CEP_EAGAIN) {
		*used = 0;
		return (rv);
	}
	if (rv != CEP_OK) {
		*used = 1;
		return (rv);
	}
	switch (msgpack_unpack(data, size, &off, &r->zone, &obj)) {
	case MSGPACK_UNPACK_SUCCESS:
		break;
	case MSGPACK_UNPACK_NOMEM_ERROR:
		msgpack_zone_clear(&r->zone);
		*used = 0;
		return (convert_error(r, CEP_ENOMEM, "out of memory"));
	default:
		/* The walk and msgpack-c disagree: a bug, but input-driven,
		 * so the object is dropped rather than trusted. */
		msgpack_zone_clear(&r->zone);
		*used = size;
		return (convert_error(r, CEP_EPARSE, "msgpack-c refused it"));
	}
	r->data = data;
	if (obj.type != MSGPACK_OBJECT_MAP) {
		rv = convert_error(r, CEP_EPARSE, "not a map");
	} else {
		rv = convert(r, &obj, b);
	}
	msgpack_zone_clear(&r->zone);
	*used = size;
	return (rv);
}

/* ---- writer ------------------------------------------------------------ */

static int
append(void *data, const char *buf, size_t len)
{
	cep_buf_put(data, buf, len);
	return (0);
}

static void pack_val(msgpack_packer *pk, const cep_val *v);

static void
pack_map(msgpack_packer *pk, const cep_event *ev, const cep_cont *m)
{
	cep_map_iter it;
	const char  *name;
	size_t       len, n = m->n;
	cep_val      v;

	if (m->flags & CEP_CONT_DUPS) {
		cep_map_iter_init(&it, ev, m);
		for (n = 0; cep_map_iter_next_field(&it) != NULL; n++) { }
	}
	msgpack_pack_map(pk, n);
	cep_map_iter_init(&it, ev, m);
	while (cep_map_iter_next(&it, &name, &len, &v)) {
		msgpack_pack_str_with_body(pk, name, len);
		pack_val(pk, &v);
	}
}

static void
pack_val(msgpack_packer *pk, const cep_val *v)
{
	switch ((cep_type) v->type) {
	case CEP_T_NULL:
		msgpack_pack_nil(pk);
		return;
	case CEP_T_BOOL:
		if (v->u.b) {
			msgpack_pack_true(pk);
		} else {
			msgpack_pack_false(pk);
		}
		return;
	case CEP_T_INT:
		msgpack_pack_int64(pk, v->u.i);
		return;
	case CEP_T_DOUBLE:
		msgpack_pack_double(pk, v->u.d);
		return;
	case CEP_T_STR:
		msgpack_pack_str_with_body(pk, v->u.s, v->len);
		return;
	case CEP_T_MAP:
		pack_map(pk, v->u.c.ev, cep_event_cont(v->u.c.ev, v->u.c.off));
		return;
	case CEP_T_ARRAY: {
		const cep_cont *a = cep_event_cont(v->u.c.ev, v->u.c.off);
		const cep_slot *s = cep_cont_slots(a);
		cep_val         item;
		msgpack_pack_array(pk, a->n);
		for (uint32_t i = 0; i < a->n; i++) {
			cep_slot_val(v->u.c.ev, &s[i], &item);
			pack_val(pk, &item);
		}
		return;
	}
	}
	msgpack_pack_nil(pk);
}

cep_err
cep_msgpack_write_event(cep_buf *out, const cep_event *ev)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, out, append);
	pack_map(&pk, ev, cep_event_root(ev));
	return (cep_buf_status(out));
}

cep_err
cep_msgpack_write_val(cep_buf *out, const cep_val *v)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, out, append);
	pack_val(&pk, v);
	return (cep_buf_status(out));
}
