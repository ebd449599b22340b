/* SPDX-License-Identifier: MIT */
/*
 * msgpk.c: msgpack in and out.
 *
 * The reader is our own, one pass over the bytes that checks the object
 * and drives the cep_builder as it goes.  msgpack-c 4.0's C API has no
 * visitor (callback) decoder: msgpack_unpack, like its streaming
 * msgpack_unpacker, builds an object tree in a zone, and allocates what a
 * length prefix claims before it has seen the bytes (the five bytes of an
 * array32 header can ask for 96 GiB).  Bounding an object against that
 * meant reading every header of it first, which is already a full parse;
 * unpacking the tree and converting it afterwards was the same work twice
 * more.
 *
 * Every length and count is held against the bytes at hand before any
 * byte is read through it, and nothing is ever sized from one: the builder
 * grows with the items that actually arrive.  Nesting is capped at the
 * builder's depth limit, on an explicit stack (no recursion).  The smallest
 * event block that the claimed containers and strings would need is held
 * against the builder's size limit as each header is read, so a hostile
 * prefix fails at once instead of waiting for bytes that would never fit.
 * A warm reader allocates nothing per object: its stack of open containers
 * grows only when an object nests deeper than any before it.
 *
 * Errors.  A structural fault (the reserved byte 0xc1, nesting too deep, a
 * claim beyond the size limit) leaves the object's extent unknown, and one
 * byte is skipped.  Any other fault (not a map, a key that is not a string,
 * an ext type, invalid UTF-8, a builder refusal) stops the building but not
 * the pass, which checks the structure on to the object's end so that the
 * whole object is skipped; a structural fault found later still wins.
 * Bytes that end inside the object give CEP_EAGAIN whatever came before;
 * the partial event is dropped and the next call starts over, which only
 * happens at the edge of a read buffer.
 *
 * The writer is msgpack-c's packer, and the tests use msgpack-c as an
 * independent oracle for the reader.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "cep/alloc.h"
#include "cep/codec.h"

#define MSG_SIZE 160

/* An open container. */
struct level {
	uint64_t left; /* items still to come: values, or keys and values */
	int      is_map;
};

struct cep_msgpack_reader {
	struct level *stack; /* open containers, outermost first */
	size_t        cap;   /* entries in stack */
	char          msg[MSG_SIZE];
};

/* ---- reader: formats --------------------------------------------------- */

enum kind {
	K_NIL,
	K_BOOL,
	K_UINT,
	K_INT,
	K_FLOAT,
	K_STR,
	K_BIN,
	K_EXT,
	K_ARRAY,
	K_MAP,
	K_BAD,
};

/* A format: kind, header bytes, bytes of the big-endian length or count
 * that follows the first byte, and fixed payload bytes. */
struct format {
	uint8_t kind, head, lenbytes, body;
};

/* The formats 0xc0..0xdf; the others carry their value or count in the
 * first byte. */
static const struct format formats[32] = {
	{ K_NIL, 1, 0, 0 },   /* 0xc0 nil */
	{ K_BAD, 1, 0, 0 },   /* 0xc1 never used */
	{ K_BOOL, 1, 0, 0 },  /* 0xc2 false */
	{ K_BOOL, 1, 0, 0 },  /* 0xc3 true */
	{ K_BIN, 2, 1, 0 },   /* 0xc4 bin8 */
	{ K_BIN, 3, 2, 0 },   /* 0xc5 bin16 */
	{ K_BIN, 5, 4, 0 },   /* 0xc6 bin32 */
	{ K_EXT, 3, 1, 0 },   /* 0xc7 ext8: length, type */
	{ K_EXT, 4, 2, 0 },   /* 0xc8 ext16 */
	{ K_EXT, 6, 4, 0 },   /* 0xc9 ext32 */
	{ K_FLOAT, 1, 0, 4 }, /* 0xca float32 */
	{ K_FLOAT, 1, 0, 8 }, /* 0xcb float64 */
	{ K_UINT, 1, 0, 1 },  /* 0xcc uint8 */
	{ K_UINT, 1, 0, 2 },  /* 0xcd uint16 */
	{ K_UINT, 1, 0, 4 },  /* 0xce uint32 */
	{ K_UINT, 1, 0, 8 },  /* 0xcf uint64 */
	{ K_INT, 1, 0, 1 },   /* 0xd0 int8 */
	{ K_INT, 1, 0, 2 },   /* 0xd1 int16 */
	{ K_INT, 1, 0, 4 },   /* 0xd2 int32 */
	{ K_INT, 1, 0, 8 },   /* 0xd3 int64 */
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

/* The format of a fixstr, 0xa0..0xbf (also for the keys' short cut). */
static const struct format fixstr = { K_STR, 1, 0, 0 };

/* format_of classifies the first byte c of an item; *n gets the count or
 * length that c itself holds (fixmap, fixarray, fixstr). */
static inline struct format
format_of(unsigned c, uint64_t *n)
{
	static const struct format fixuint = { K_UINT, 1, 0, 0 };
	static const struct format fixint  = { K_INT, 1, 0, 0 };
	static const struct format fixmap  = { K_MAP, 1, 0, 0 };
	static const struct format fixarr  = { K_ARRAY, 1, 0, 0 };

	if (c < 0x80) {
		return (fixuint);
	}
	if (c < 0x90) {
		*n = c & 0x0f;
		return (fixmap);
	}
	if (c < 0xa0) {
		*n = c & 0x0f;
		return (fixarr);
	}
	if (c < 0xc0) {
		*n = c & 0x1f;
		return (fixstr);
	}
	return (c < 0xe0 ? formats[c - 0xc0] : fixint);
}

/* load_be reads a big-endian number of 1, 2, 4 or 8 bytes. */
static inline uint64_t
load_be(const uint8_t *p, unsigned n)
{
	switch (n) {
	case 1:
		return (p[0]);
	case 2:
		return ((uint64_t) p[0] << 8 | p[1]);
	case 4:
		return ((uint64_t) p[0] << 24 | (uint64_t) p[1] << 16 |
		    (uint64_t) p[2] << 8 | p[3]);
	default:
		return (load_be(p, 4) << 32 | load_be(p + 4, 4));
	}
}

/* ---- reader: messages -------------------------------------------------- */

static cep_err fault(cep_msgpack_reader *r, cep_err err, size_t pos,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* fault records what went wrong at byte pos of the object. */
static cep_err
fault(cep_msgpack_reader *r, cep_err err, size_t pos, const char *fmt, ...)
{
	va_list ap;
	int     n = snprintf(r->msg, sizeof(r->msg), "offset %zu: ", pos);

	va_start(ap, fmt);
	vsnprintf(r->msg + n, sizeof(r->msg) - (size_t) n, fmt, ap);
	va_end(ap);
	return (err);
}

/* too_big reports an event over the builder's size limit. */
static cep_err
too_big(cep_msgpack_reader *r, const cep_builder *b, size_t pos)
{
	uint32_t max_bytes;

	cep_builder_limits(b, NULL, &max_bytes);
	return (fault(r, CEP_ELIMIT, pos, "event larger than %u bytes",
	    (unsigned) max_bytes));
}

/* built reports a builder error for the item at pos.  Its depth limit is
 * never what fails: the pass checks nesting before it opens a container. */
static cep_err
built(cep_msgpack_reader *r, const cep_builder *b, size_t pos, cep_err rv)
{
	if (rv == CEP_OK) {
		return (rv);
	}
	if (rv == CEP_ELIMIT) {
		return (too_big(r, b, pos));
	}
	return (fault(r, rv, pos, "%s", cep_strerror(rv)));
}

/* ---- reader: building -------------------------------------------------- */

/* string passes the complete str or bin at p[pos], of format f and length
 * n, as a key or a value once it is found to be UTF-8. */
static inline cep_err
string(cep_msgpack_reader *r, cep_builder *b, const uint8_t *p, size_t pos,
    struct format f, uint64_t n, int is_key)
{
	const char *s = (const char *) p + pos + f.head;

	if (!cep_utf8_valid(s, n)) {
		return (
		    fault(r, CEP_EPARSE, pos + f.head, "%s is not valid UTF-8",
		        f.kind == K_STR ? "string" : "bin"));
	}
	return (built(r, b, pos,
	    is_key ? cep_builder_key(b, s, n) : cep_builder_str(b, s, n)));
}

/* number passes the number of format f with first byte c and payload q
 * (an int, or a double for floats and uint64 beyond INT64_MAX). */
static cep_err
number(cep_builder *b, unsigned c, struct format f, const uint8_t *q)
{
	uint64_t u = f.body > 0 ? load_be(q, f.body) : c;
	uint32_t u32;
	float    f32;
	double   d;

	if (f.kind == K_FLOAT && f.body == 4) {
		u32 = (uint32_t) u;
		memcpy(&f32, &u32, sizeof(f32));
		return (cep_builder_double(b, f32));
	}
	if (f.kind == K_FLOAT) {
		memcpy(&d, &u, sizeof(d));
		return (cep_builder_double(b, d));
	}
	if (f.kind == K_UINT) {
		return (u > (uint64_t) INT64_MAX
		        ? cep_builder_double(b, (double) u)
		        : cep_builder_int(b, (int64_t) u));
	}
	/* K_INT: sign-extend from the payload's width. */
	switch (f.body) {
	case 0:
	case 1:
		return (cep_builder_int(b, (int8_t) u));
	case 2:
		return (cep_builder_int(b, (int16_t) u));
	case 4:
		return (cep_builder_int(b, (int32_t) u));
	default:
		return (cep_builder_int(b, (int64_t) u));
	}
}

/* build feeds the complete item at p[pos], of format f and count or
 * length n, to the builder, refusing what an event cannot hold.  at_root
 * and is_key say where the item stands. */
static cep_err
build(cep_msgpack_reader *r, cep_builder *b, const uint8_t *p, size_t pos,
    struct format f, uint64_t n, int at_root, int is_key)
{
	cep_err rv;

	if (at_root && f.kind != K_MAP) {
		return (fault(r, CEP_EPARSE, pos, "not a map"));
	}
	if (is_key && f.kind != K_STR && f.kind != K_BIN) {
		return (fault(r, CEP_EPARSE, pos, "map key is not a string"));
	}
	switch ((enum kind) f.kind) {
	case K_STR:
	case K_BIN:
		return (string(r, b, p, pos, f, n, is_key));
	case K_MAP:
	case K_ARRAY:
		rv = f.kind == K_MAP ? cep_builder_map_begin(b)
		                     : cep_builder_array_begin(b);
		if (rv == CEP_OK && n == 0) {
			rv = cep_builder_end(b);
		}
		return (built(r, b, pos, rv));
	case K_NIL:
		return (built(r, b, pos, cep_builder_null(b)));
	case K_BOOL:
		return (built(r, b, pos, cep_builder_bool(b, p[pos] & 1)));
	case K_UINT:
	case K_INT:
	case K_FLOAT:
		return (built(r, b, pos, number(b, p[pos], f, p + pos + 1)));
	case K_EXT:
	case K_BAD:
		break;
	}
	return (fault(r, CEP_EPARSE, pos, "ext types are refused"));
}

/* ---- reader ------------------------------------------------------------ */

cep_msgpack_reader *
cep_msgpack_reader_create(void)
{
	cep_msgpack_reader *r = cep_zalloc(sizeof(*r));

	if (r == NULL) {
		return (NULL);
	}
	/* Room for the default nesting limit, so that no object within it
	 * allocates. */
	if (cep_grow(&r->stack, &r->cap, CEP_EVENT_DEFAULT_MAX_DEPTH,
	        sizeof(struct level)) != CEP_OK) {
		cep_msgpack_reader_destroy(r);
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
	cep_free(r->stack, r->cap * sizeof(struct level));
	cep_free(r, sizeof(*r));
}

const char *
cep_msgpack_reader_error(const cep_msgpack_reader *r)
{
	return (r->msg);
}

/* again reports an object that the bytes end inside of. */
static cep_err
again(cep_msgpack_reader *r, cep_builder *b, size_t *used)
{
	cep_builder_reset(b);
	r->msg[0] = '\0';
	*used     = 0;
	return (CEP_EAGAIN);
}

cep_err
cep_msgpack_parse(cep_msgpack_reader *r, const void *data, size_t len,
    size_t *used, cep_builder *b)
{
	const uint8_t *p = data;
	uint32_t       max_depth, max_bytes, depth = 0;
	size_t         pos  = 0;
	uint64_t       cost = sizeof(cep_event); /* the block's least size */
	cep_err        err  = CEP_OK;   /* the fault that stopped building */
	struct level   in   = { 0, 0 }; /* the innermost open container */

	cep_builder_reset(b);
	r->msg[0] = '\0';
	cep_builder_limits(b, &max_depth, &max_bytes);
	for (;;) {
		int           is_key = in.is_map && in.left % 2 == 0;
		struct format f;
		uint64_t      n = 0, step;

		if (pos >= len) {
			return (again(r, b, used));
		}
		/* Keys are nearly always fixstrs, which add nothing to the
		 * estimate and complete no container: this short cut saves
		 * 5% of decoding a 10-field event. */
		if (is_key && (p[pos] & 0xe0) == 0xa0 && err == CEP_OK) {
			n = p[pos] & 0x1f;
			if (n >= len - pos) {
				return (again(r, b, used));
			}
			err = string(r, b, p, pos, fixstr, n, 1);
			pos += 1 + n;
			in.left--;
			continue;
		}
		f = format_of(p[pos], &n);
		if (f.kind == K_BAD) {
			*used = 1;
			return (
			    fault(r, CEP_EPARSE, pos, "reserved byte 0xc1"));
		}
		if (f.head > len - pos) {
			return (again(r, b, used));
		}
		if (f.lenbytes > 0) {
			n = load_be(p + pos + 1, f.lenbytes);
		}
		/* What the item adds to the block: a value string's bytes
		 * and NUL, a key's bytes when too long to be interned, 8 +
		 * 24n bytes per map and 8 + 16n per array. */
		step = f.head + f.body;
		if (f.kind == K_STR || f.kind == K_BIN || f.kind == K_EXT) {
			step += n;
			cost += f.kind == K_EXT   ? 0
			    : !is_key             ? n + 1
			    : n > CEP_SYM_MAX_LEN ? n + 8
			                          : 0;
		} else if (f.kind == K_MAP || f.kind == K_ARRAY) {
			cost += 8 + n * (f.kind == K_MAP ? 24 : 16);
			if (depth >= max_depth) {
				*used = 1;
				return (fault(r, CEP_ELIMIT, pos,
				    "nesting deeper than %u levels",
				    (unsigned) max_depth));
			}
		}
		if (cost > max_bytes) {
			*used = 1;
			return (too_big(r, b, pos));
		}
		if (step > len - pos) {
			return (again(r, b, used));
		}
		if (err == CEP_OK) {
			err = build(r, b, p, pos, f, n, depth == 0, is_key);
		}
		pos += step;
		if ((f.kind == K_MAP || f.kind == K_ARRAY) && n > 0) {
			/* The innermost container lives in `in`, the stack
			 * holds the ones around it. */
			if (depth == r->cap &&
			    cep_grow(&r->stack, &r->cap, (size_t) depth + 1,
			        sizeof(struct level)) != CEP_OK) {
				*used = 0;
				return (fault(r, CEP_ENOMEM, pos, "%s",
				    cep_strerror(CEP_ENOMEM)));
			}
			r->stack[depth++] = in;
			in.left           = f.kind == K_MAP ? 2 * n : n;
			in.is_map         = f.kind == K_MAP;
			continue;
		}
		/* A value is complete: close the containers it completes. */
		for (;;) {
			if (depth == 0) {
				*used = pos;
				return (err);
			}
			if (--in.left > 0) {
				break;
			}
			in = r->stack[--depth];
			if (err == CEP_OK) {
				err = built(r, b, pos, cep_builder_end(b));
			}
		}
	}
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
