/* SPDX-License-Identifier: MIT */
/* test_msgpk.c: the msgpack reader and writer (cep/msgpk.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "tests/support/malloc_count.h"
#include "tests/support/test_support.h"

static cep_msgpack_reader *rd;
static cep_builder        *bld;

static void
setup(void)
{
	rd  = cep_msgpack_reader_create();
	bld = cep_builder_create();
	ck_assert_ptr_nonnull(rd);
	ck_assert_ptr_nonnull(bld);
}

static void
teardown(void)
{
	cep_msgpack_reader_destroy(rd);
	cep_builder_destroy(bld);
}

/* unhex turns "81 a1 76 01" into bytes; returns how many. */
static size_t
unhex(const char *hex, uint8_t *out)
{
	size_t n = 0;

	while (*hex != '\0') {
		unsigned v;
		if (*hex == ' ') {
			hex++;
			continue;
		}
		ck_assert_int_eq(sscanf(hex, "%2x", &v), 1);
		out[n++] = (uint8_t) v;
		hex += 2;
	}
	return (n);
}

/* parse_bytes parses one whole object into a finished, verified event. */
static cep_event *
parse_bytes(const uint8_t *p, size_t n)
{
	cep_event *ev;
	size_t     used = 0;
	cep_err    rv   = cep_msgpack_parse(rd, p, n, &used, bld);

	ck_assert_msg(rv == CEP_OK, "%s: %s", cep_errname(rv),
	    cep_msgpack_reader_error(rd));
	ck_assert_uint_eq(used, n);
	CEP_ASSERT_OK(cep_builder_finish(bld, NULL, &ev));
	CEP_ASSERT_OK(cep_event_verify(ev, ev->size, 64, NULL, NULL));
	return (ev);
}

static cep_event *
parse_hex(const char *hex)
{
	uint8_t buf[512];

	return (parse_bytes(buf, unhex(hex, buf)));
}

/* good_object_parses shows that the reader still works after an error. */
static void
good_object_parses(void)
{
	cep_event *ev = parse_hex("82 a2 6f6b c3 a1 61 92 01 81 a1 62 c0");

	ck_assert_uint_eq(cep_event_root(ev)->n, 2);
	cep_event_unref(ev, NULL);
}

/* refuse_bytes expects an error, `used` bytes to skip and a message
 * containing `needle` (when not NULL), then a good object. */
static void
refuse_bytes(const uint8_t *p, size_t n, cep_err want, size_t want_used,
    const char *needle)
{
	size_t  used = 12345;
	cep_err rv   = cep_msgpack_parse(rd, p, n, &used, bld);

	ck_assert_msg(rv == want, "want %s, got %s (%s)", cep_errname(want),
	    cep_errname(rv), cep_msgpack_reader_error(rd));
	ck_assert_uint_eq(used, want_used);
	if (needle != NULL) {
		ck_assert_msg(
		    strstr(cep_msgpack_reader_error(rd), needle) != NULL,
		    "message \"%s\" lacks \"%s\"",
		    cep_msgpack_reader_error(rd), needle);
	}
	ck_assert_str_ne(cep_msgpack_reader_error(rd), "");
	good_object_parses();
}

/* refuse_hex: as refuse_bytes; want_used 0 means the whole object. */
static void
refuse_hex(const char *hex, cep_err want, size_t want_used, const char *needle)
{
	uint8_t buf[512];
	size_t  n = unhex(hex, buf);

	refuse_bytes(buf, n, want, want_used != 0 ? want_used : n, needle);
}

static void
get(const cep_event *ev, const char *name, cep_val *v)
{
	ck_assert_msg(
	    cep_map_get(ev, cep_event_root(ev), name, strlen(name), v),
	    "no field %s", name);
}

/* ---- formats ----------------------------------------------------------- */

START_TEST(msgpack_parses_every_scalar_format)
{
	static const struct {
		const char *hex; /* the value of field "v" */
		uint8_t     type;
		int64_t     i;
		double      d;
		const char *s;
	} cases[] = {
		{ "00", CEP_T_INT, 0, 0, NULL },
		{ "7f", CEP_T_INT, 127, 0, NULL },
		{ "ff", CEP_T_INT, -1, 0, NULL },
		{ "e0", CEP_T_INT, -32, 0, NULL },
		{ "cc ff", CEP_T_INT, 255, 0, NULL },
		{ "cd ffff", CEP_T_INT, 65535, 0, NULL },
		{ "ce ffffffff", CEP_T_INT, 4294967295, 0, NULL },
		{ "cf 7fffffffffffffff", CEP_T_INT, INT64_MAX, 0, NULL },
		{ "cf 8000000000000000", CEP_T_DOUBLE, 0,
		    9223372036854775808.0, NULL },
		{ "cf ffffffffffffffff", CEP_T_DOUBLE, 0,
		    18446744073709551615.0, NULL },
		{ "d0 80", CEP_T_INT, -128, 0, NULL },
		{ "d0 7f", CEP_T_INT, 127, 0, NULL },
		{ "d1 8000", CEP_T_INT, -32768, 0, NULL },
		{ "d2 80000000", CEP_T_INT, -2147483648, 0, NULL },
		{ "d3 8000000000000000", CEP_T_INT, INT64_MIN, 0, NULL },
		{ "d3 0000000000000005", CEP_T_INT, 5, 0, NULL },
		{ "ca 3fc00000", CEP_T_DOUBLE, 0, 1.5, NULL },
		{ "ca 7f800000", CEP_T_DOUBLE, 0, HUGE_VAL, NULL },
		{ "cb 3ff8000000000000", CEP_T_DOUBLE, 0, 1.5, NULL },
		{ "cb 8000000000000000", CEP_T_DOUBLE, 0, -0.0, NULL },
		{ "a3 616263", CEP_T_STR, 0, 0, "abc" },
		{ "a0", CEP_T_STR, 0, 0, "" },
		{ "d9 03 616263", CEP_T_STR, 0, 0, "abc" },
		{ "da 0003 616263", CEP_T_STR, 0, 0, "abc" },
		{ "db 00000003 616263", CEP_T_STR, 0, 0, "abc" },
		{ "a2 c3a9", CEP_T_STR, 0, 0, "\xc3\xa9" },
		{ "c4 03 616263", CEP_T_STR, 0, 0, "abc" },
		{ "c5 0003 616263", CEP_T_STR, 0, 0, "abc" },
		{ "c6 00000003 616263", CEP_T_STR, 0, 0, "abc" },
		{ "c0", CEP_T_NULL, 0, 0, NULL },
		{ "c3", CEP_T_BOOL, 1, 0, NULL },
		{ "c2", CEP_T_BOOL, 0, 0, NULL },
	};
	char hex[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cep_event *ev;
		cep_val    v;
		snprintf(hex, sizeof(hex), "81 a1 76 %s", cases[i].hex);
		ev = parse_hex(hex);
		get(ev, "v", &v);
		ck_assert_msg(v.type == cases[i].type, "%s: type %d",
		    cases[i].hex, v.type);
		switch (v.type) {
		case CEP_T_INT:
			ck_assert_int_eq(v.u.i, cases[i].i);
			break;
		case CEP_T_BOOL:
			ck_assert_int_eq(v.u.b, cases[i].i);
			break;
		case CEP_T_DOUBLE:
			ck_assert(v.u.d == cases[i].d);
			ck_assert(!signbit(v.u.d) == !signbit(cases[i].d));
			break;
		case CEP_T_STR:
			ck_assert_uint_eq(v.len, strlen(cases[i].s));
			ck_assert_str_eq(v.u.s, cases[i].s);
			break;
		default:
			break;
		}
		cep_event_unref(ev, NULL);
	}
}
END_TEST

START_TEST(msgpack_parses_every_container_format)
{
	static const char *maps[] = {
		/* {"a":[1,2],"m":{"x":1}} in each container width. */
		"82 a1 61 92 01 02 a1 6d 81 a1 78 01",
		"de 0002 a1 61 dc 0002 01 02 a1 6d de 0001 a1 78 01",
		("df 00000002 a1 61 dd 00000002 01 02 a1 6d "
		 "df 00000001 a1 78 01"),
	};
	cep_event *first = NULL;

	for (size_t i = 0; i < 3; i++) {
		cep_event *ev = parse_hex(maps[i]);
		cep_val    v, w;
		get(ev, "a", &v);
		ck_assert(v.type == CEP_T_ARRAY && v.len == 2);
		get(ev, "m", &v);
		ck_assert(v.type == CEP_T_MAP && v.len == 1);
		if (first == NULL) {
			first = ev;
			continue;
		}
		v = cep_test_root_val(first);
		w = cep_test_root_val(ev);
		ck_assert(cep_val_equal(&v, &w));
		cep_event_unref(ev, NULL);
	}
	cep_event_unref(first, NULL);
	/* Empty containers, and a map key given as UTF-8 bin. */
	first = parse_hex("83 a1 61 90 a1 62 80 c4 01 63 dc 0000");
	ck_assert_uint_eq(cep_event_root(first)->n, 3);
	cep_event_unref(first, NULL);
	cep_event_unref(parse_hex("80"), NULL);
}
END_TEST

START_TEST(msgpack_ext_types_are_refused)
{
	refuse_hex("81 a1 76 d4 01 00", CEP_EPARSE, 0, "ext");
	refuse_hex("81 a1 76 d5 01 0000", CEP_EPARSE, 0, "ext");
	refuse_hex("81 a1 76 d6 01 00000000", CEP_EPARSE, 0, "ext");
	refuse_hex("81 a1 76 d7 ff 0000000000000000", CEP_EPARSE, 0, "ext");
	refuse_hex("81 a1 76 d8 01 00000000000000000000000000000000",
	    CEP_EPARSE, 0, "ext");
	refuse_hex("81 a1 76 c7 02 05 0000", CEP_EPARSE, 0, "ext");
	refuse_hex("81 a1 76 c8 0002 05 0000", CEP_EPARSE, 0, "ext");
	refuse_hex("81 a1 76 c9 00000002 05 0000", CEP_EPARSE, 0, "ext");
	refuse_hex("81 a1 76 92 01 c7 00 05", CEP_EPARSE, 0, "ext");
	refuse_hex("d4 01 00", CEP_EPARSE, 0, NULL);
}
END_TEST

START_TEST(msgpack_reserved_byte_skips_one_byte)
{
	refuse_hex("c1", CEP_EPARSE, 1, "offset 0: reserved byte 0xc1");
	refuse_hex("81 a1 76 c1 00 00", CEP_EPARSE, 1, "offset 3: reserved");
}
END_TEST

/* ---- msgpack-c as the oracle ------------------------------------------- */

/* The reader must read what msgpack-c's own unpacker reads: same extent,
 * same values, with ext types, keys that are not strings, text that is not
 * UTF-8 and roots that are not maps refused (the whole object skipped). */

/* refused says whether an object that msgpack-c reads as o is one that
 * an event cannot hold. */
static int
refused(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_EXT:
		return (1);
	case MSGPACK_OBJECT_STR:
		return (!cep_utf8_valid(o->via.str.ptr, o->via.str.size));
	case MSGPACK_OBJECT_BIN:
		return (!cep_utf8_valid(o->via.bin.ptr, o->via.bin.size));
	case MSGPACK_OBJECT_ARRAY:
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (refused(&o->via.array.ptr[i])) {
				return (1);
			}
		}
		return (0);
	case MSGPACK_OBJECT_MAP:
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];
			if ((kv->key.type != MSGPACK_OBJECT_STR &&
			        kv->key.type != MSGPACK_OBJECT_BIN) ||
			    refused(&kv->key) || refused(&kv->val)) {
				return (1);
			}
		}
		return (0);
	default:
		return (0);
	}
}

/* same_text says whether the n bytes at s are those of the str or bin
 * object o (whose pointer msgpack-c leaves NULL when it is empty). */
static int
same_text(const msgpack_object *o, const char *s, size_t n)
{
	size_t len =
	    o->type == MSGPACK_OBJECT_STR ? o->via.str.size : o->via.bin.size;
	const char *t =
	    o->type == MSGPACK_OBJECT_STR ? o->via.str.ptr : o->via.bin.ptr;

	return (len == n && (n == 0 || memcmp(s, t, n) == 0));
}

/* cont gives the container in slot s when it has type t and n entries. */
static const cep_cont *
cont(const cep_event *ev, const cep_slot *s, uint8_t t, uint32_t n)
{
	const cep_cont *c;

	if (s->type != t) {
		return (NULL);
	}
	c = cep_event_cont(ev, s->u.off);
	return (c->n == n && s->len == n ? c : NULL);
}

/* same says whether slot s of ev holds what msgpack-c read as o: same
 * type and, for doubles, the same bits. */
static int
same(const msgpack_object *o, const cep_event *ev, const cep_slot *s)
{
	const cep_cont *c;
	double          d;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return (s->type == CEP_T_NULL);
	case MSGPACK_OBJECT_BOOLEAN:
		return (s->type == CEP_T_BOOL && s->u.i == o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 <= (uint64_t) INT64_MAX) {
			return (s->type == CEP_T_INT &&
			    (uint64_t) s->u.i == o->via.u64);
		}
		d = (double) o->via.u64;
		return (s->type == CEP_T_DOUBLE &&
		    memcmp(&s->u.d, &d, sizeof(d)) == 0);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return (s->type == CEP_T_INT && s->u.i == o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return (s->type == CEP_T_DOUBLE &&
		    memcmp(&s->u.d, &o->via.f64, sizeof(double)) == 0);
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN:
		return (s->type == CEP_T_STR &&
		    same_text(o, cep_event_str(ev, s), s->len) &&
		    cep_event_str(ev, s)[s->len] == '\0');
	case MSGPACK_OBJECT_ARRAY:
		if ((c = cont(ev, s, CEP_T_ARRAY, o->via.array.size)) ==
		    NULL) {
			return (0);
		}
		for (uint32_t i = 0; i < c->n; i++) {
			if (!same(&o->via.array.ptr[i], ev,
			        &cep_cont_slots(c)[i])) {
				return (0);
			}
		}
		return (1);
	case MSGPACK_OBJECT_MAP:
		if ((c = cont(ev, s, CEP_T_MAP, o->via.map.size)) == NULL) {
			return (0);
		}
		for (uint32_t i = 0; i < c->n; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];
			const cep_field         *f  = &cep_cont_fields(c)[i];
			size_t                   len;
			const char *name = cep_field_name(ev, f, &len);
			if (!same_text(&kv->key, name, len) ||
			    !same(&kv->val, ev, &f->v)) {
				return (0);
			}
		}
		return (1);
	default:
		return (0);
	}
}

/* agree_with_msgpack_c reads the object at the start of p[0..n) with
 * msgpack-c and with the reader, and checks that they agree; n - extent
 * bytes of something else may follow it.  Returns the extent.  Only for
 * bytes whose length prefixes are backed: msgpack-c allocates what they
 * claim. */
static size_t
agree_with_msgpack_c(const uint8_t *p, size_t n)
{
	msgpack_unpacked      mp;
	msgpack_unpack_return ret;
	size_t                off = 0, used = 0;
	cep_err               rv = cep_msgpack_parse(rd, p, n, &used, bld);

	msgpack_unpacked_init(&mp);
	ret = msgpack_unpack_next(&mp, (const char *) p, n, &off);
	ck_assert_msg(ret == MSGPACK_UNPACK_SUCCESS, "msgpack-c: %d", ret);
	ck_assert_msg(used == off, "extent %zu, msgpack-c %zu (%s)", used, off,
	    cep_msgpack_reader_error(rd));
	if (mp.data.type != MSGPACK_OBJECT_MAP || refused(&mp.data)) {
		ck_assert_msg(
		    rv == CEP_EPARSE, "want EPARSE, got %s", cep_errname(rv));
		ck_assert_str_ne(cep_msgpack_reader_error(rd), "");
	} else {
		const cep_event *ev;
		cep_slot         root = { .type = CEP_T_MAP };
		ck_assert_msg(rv == CEP_OK, "%s: %s", cep_errname(rv),
		    cep_msgpack_reader_error(rd));
		ev = cep_builder_peek(bld);
		ck_assert_ptr_nonnull(ev);
		CEP_ASSERT_OK(cep_event_verify(ev, ev->size, 64, NULL, NULL));
		root.u.off = ev->root;
		root.len   = cep_event_root(ev)->n;
		ck_assert_msg(same(&mp.data, ev, &root),
		    "the event differs from what msgpack-c read");
	}
	msgpack_unpacked_destroy(&mp);
	return (off);
}

START_TEST(msgpack_every_first_byte_reads_as_msgpack_c_reads_it)
{
	uint8_t buf[64];

	/* {"v": X} where X starts with each byte in turn and zeros follow:
	 * zero lengths and counts, zero payloads, or (in fixmaps) integer
	 * keys to refuse. */
	for (unsigned c = 0; c < 256; c++) {
		size_t used = 0;
		memset(buf, 0, sizeof(buf));
		memcpy(buf, "\x81\xa1\x76", 3);
		buf[3] = (uint8_t) c;
		if (c == 0xc1) {
			CEP_ASSERT_ERR(cep_msgpack_parse(
			                   rd, buf, sizeof(buf), &used, bld),
			    CEP_EPARSE);
			ck_assert_uint_eq(used, 1);
			continue;
		}
		ck_assert_uint_lt(
		    agree_with_msgpack_c(buf, sizeof(buf)), sizeof(buf));
	}
}
END_TEST

/* A generator of random objects, packed by msgpack-c. */
struct gen {
	msgpack_sbuffer sb;
	msgpack_packer  pk;
	uint64_t        seed;
};

static uint64_t
rnd(struct gen *g, uint64_t n)
{
	return (cep_test_rand(&g->seed) % n);
}

/* gen_text packs a str or a bin: mostly short, sometimes long enough for
 * str8, str16 and str32; mostly UTF-8, rarely not.  Keys stay short
 * enough to be interned, but for a few that are kept inline. */
static void
gen_text(struct gen *g, int key)
{
	static const char *pieces[] = { "a", "k", "Z", "0", " ", "\\",
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };
	static char        text[70000];
	uint64_t           r    = rnd(g, 1000);
	size_t             want = r < 700 ? rnd(g, 12)
	                : r < 950         ? 12 + rnd(g, 40)
	                : r < 995 || key  ? 200 + rnd(g, 200)
	                                  : 65536 + rnd(g, 1000);
	size_t             len  = 0;

	if (key && r < 600) {
		want = rnd(g, 4); /* a few short names, so they repeat */
	}
	while (len < want) {
		const char *piece = pieces[rnd(g, 9)];
		memcpy(text + len, piece, strlen(piece));
		len += strlen(piece);
	}
	if (len > 0 && rnd(g, 1000) == 0) {
		size_t at = rnd(g, len);
		text[at]  = rnd(g, 2) ? '\0' : '\xff';
	}
	if (rnd(g, 5) == 0) {
		msgpack_pack_bin_with_body(&g->pk, text, len);
	} else {
		msgpack_pack_str_with_body(&g->pk, text, len);
	}
}

/* gen_int packs an integer, in the smallest form or a forced width. */
static void
gen_int(struct gen *g)
{
	uint64_t u = cep_test_rand(&g->seed);
	int64_t  i;

	u >>= rnd(g, 64); /* all magnitudes */
	i = rnd(g, 2) ? (int64_t) u : -(int64_t) (u >> 1);

	switch (rnd(g, 10)) {
	case 0:
		msgpack_pack_fix_uint8(&g->pk, (uint8_t) u);
		break;
	case 1:
		msgpack_pack_fix_uint16(&g->pk, (uint16_t) u);
		break;
	case 2:
		msgpack_pack_fix_uint32(&g->pk, (uint32_t) u);
		break;
	case 3:
		msgpack_pack_fix_uint64(&g->pk, u | (uint64_t) 1 << 63);
		break;
	case 4:
		msgpack_pack_fix_int8(&g->pk, (int8_t) i);
		break;
	case 5:
		msgpack_pack_fix_int16(&g->pk, (int16_t) i);
		break;
	case 6:
		msgpack_pack_fix_int32(&g->pk, (int32_t) i);
		break;
	case 7:
		msgpack_pack_fix_int64(&g->pk, i);
		break;
	case 8:
		msgpack_pack_uint64(&g->pk, u);
		break;
	default:
		msgpack_pack_int64(&g->pk, i);
		break;
	}
}

static void gen_val(struct gen *g, int depth);

static void
gen_container(struct gen *g, int depth, int map)
{
	uint64_t n = depth > 2 ? rnd(g, 4)
	    : rnd(g, 10) < 9   ? rnd(g, 16)
	                       : 16 + rnd(g, 24);

	if (map) {
		msgpack_pack_map(&g->pk, n);
	} else {
		msgpack_pack_array(&g->pk, n);
	}
	for (uint64_t i = 0; i < n; i++) {
		if (map && rnd(g, 2000) == 0) {
			gen_val(g, depth + 1); /* a key to refuse */
		} else if (map) {
			gen_text(g, 1);
		}
		gen_val(g, depth + 1);
	}
}

/* gen_val packs any value.  Containers get rarer and smaller with depth;
 * now and then a chain of one-item containers goes down to 31 levels,
 * within msgpack-c's 32. */
static void
gen_val(struct gen *g, int depth)
{
	uint64_t bits = cep_test_rand(&g->seed);
	uint32_t bits32;
	float    f;
	double   d;

	switch (rnd(g, depth < 3 ? 12 : depth < 31 ? 11 : 9)) {
	case 0:
		msgpack_pack_nil(&g->pk);
		break;
	case 1:
		if (bits % 2) {
			msgpack_pack_true(&g->pk);
		} else {
			msgpack_pack_false(&g->pk);
		}
		break;
	case 2:
	case 3:
		gen_int(g);
		break;
	case 4:
		bits32 = (uint32_t) bits;
		memcpy(&f, &bits32, sizeof(f));
		msgpack_pack_float(&g->pk, rnd(g, 2) ? f : (float) depth / 3);
		break;
	case 5:
		memcpy(&d, &bits, sizeof(d));
		msgpack_pack_double(&g->pk, rnd(g, 2) ? d : -1.0 / depth);
		break;
	case 6:
	case 7:
		gen_text(g, 0);
		break;
	case 8:
		if (rnd(g, 100) == 0) {
			msgpack_pack_ext_with_body(
			    &g->pk, "\1\2\3", rnd(g, 4), (int8_t) bits);
		} else {
			gen_text(g, 0);
		}
		break;
	case 9:
		gen_container(g, depth, 0);
		break;
	case 10:
		gen_container(g, depth, 1);
		break;
	default:
		for (int k = depth; k < 31; k++) {
			if (bits >> k & 1) {
				msgpack_pack_map(&g->pk, 1);
				msgpack_pack_str_with_body(&g->pk, "d", 1);
			} else {
				msgpack_pack_array(&g->pk, 1);
			}
		}
		gen_val(g, 31);
		break;
	}
}

START_TEST(msgpack_reads_random_objects_as_msgpack_c_reads_them)
{
	struct gen g  = { .seed = 0x6a09e667f3bcc908ull };
	size_t     ok = 0, refused_n = 0, cut = 0;

	msgpack_sbuffer_init(&g.sb);
	msgpack_packer_init(&g.pk, &g.sb, msgpack_sbuffer_write);
	for (int i = 0; i < 3000; i++) {
		const uint8_t *p;
		size_t         n;
		msgpack_sbuffer_clear(&g.sb);
		if (rnd(&g, 100) == 0) {
			gen_val(&g, 1); /* rarely a root that is not a map */
		} else {
			gen_container(&g, 1, 1);
		}
		/* Another object follows, which the extent must not take. */
		msgpack_pack_map(&g.pk, 0);
		p = (const uint8_t *) g.sb.data;
		n = agree_with_msgpack_c(p, g.sb.size);
		ck_assert_uint_eq(n, g.sb.size - 1);
		if (cep_builder_peek(bld) == NULL) {
			refused_n++;
			continue;
		}
		ok++;
		/* Cut anywhere, it asks for more. */
		for (size_t len = 0; len < n && n <= 1000; len++) {
			size_t used = 99;
			CEP_ASSERT_ERR(
			    cep_msgpack_parse(rd, p, len, &used, bld),
			    CEP_EAGAIN);
			ck_assert_uint_eq(used, 0);
			ck_assert_ptr_null(cep_builder_peek(bld));
			cut++;
		}
	}
	/* The mix covers both outcomes and many cuts. */
	ck_assert_uint_gt(ok, 1500);
	ck_assert_uint_gt(refused_n, 100);
	ck_assert_uint_gt(cut, 100000);
	msgpack_sbuffer_destroy(&g.sb);
}
END_TEST

/* ---- hostile input ----------------------------------------------------- */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double) ts.tv_sec + (double) ts.tv_nsec / 1e9);
}

static const char *hostile[] = {
	"dd ffffffff",                 /* root array32 */
	"df ffffffff",                 /* root map32 */
	"81 a1 76 dd ffffffff",        /* nested array32 */
	"81 a1 76 df ffffffff a1 61",  /* nested map32 */
	"81 a1 76 db ffffffff 616263", /* str32 value */
	"81 db ffffffff 61",           /* str32 key */
	"81 a1 76 c6 ffffffff",        /* bin32 */
	"81 a1 76 dd 00100000",        /* a million items */
	"81 a1 76 dc ffff dc ffff dc ffff dc ffff dc ffff",
};

START_TEST(msgpack_hostile_length_prefixes_fail_fast)
{
	enum { N = sizeof(hostile) / sizeof(hostile[0]) };
	uint8_t  buf[N][64];
	size_t   len[N], used[N];
	cep_err  rv[N];
	uint64_t before, after;
	double   t0;

	for (size_t i = 0; i < N; i++) {
		len[i] = unhex(hostile[i], buf[i]);
	}
	/* A first round warms the builder up (its first map allocates its
	 * stack, a first key its symbol); no Check assertion inside the
	 * loops: they allocate. */
	for (size_t i = 0; i < N; i++) {
		rv[i] = cep_msgpack_parse(rd, buf[i], len[i], &used[i], bld);
	}
	before = cep_test_malloc_calls();
	t0     = now();
	for (int k = 0; k < 1000; k++) {
		for (size_t i = 0; i < N; i++) {
			rv[i] = cep_msgpack_parse(
			    rd, buf[i], len[i], &used[i], bld);
		}
	}
	after = cep_test_malloc_calls();
	ck_assert_double_lt(now() - t0, 2.0);
	ck_assert_uint_eq(after - before, 0);
	for (size_t i = 0; i < N; i++) {
		ck_assert_msg(rv[i] == CEP_ELIMIT, "%s: %s", hostile[i],
		    cep_errname(rv[i]));
		ck_assert_uint_eq(used[i], 1);
	}
	ck_assert_ptr_nonnull(
	    strstr(cep_msgpack_reader_error(rd), "event larger than"));
	good_object_parses();
}
END_TEST

/* Claims within the size limit that the bytes do not back yet. */
static const char *unbacked[] = {
	"81 a1 76 dc 1000 01 02",        /* array16, 4096 items */
	"81 a1 76 dd 00010000 01",       /* array32, 65536 items */
	"81 a1 76 de 1000 a1 61 01",     /* map16 */
	"81 a1 76 df 00008000 a1 61 01", /* map32 */
	"81 a1 76 db 00100000 616263",   /* str32, 1 MiB */
	"81 a1 76 c6 00100000 616263",   /* bin32 */
	"81 a1 76 c9 ffffffff 01 00",    /* ext32, 4 GiB: no event room */
	"81 db 00000400 6b6b6b",         /* a 1 KiB key */
	"df 00010000 a1 61 01",          /* root map32 */
	"81 a1 76 dc 0002 dd 00000100",  /* nested */
};

START_TEST(msgpack_unbacked_claims_ask_for_more_without_allocating)
{
	enum { N = sizeof(unbacked) / sizeof(unbacked[0]) };
	uint8_t  buf[N][64];
	size_t   len[N], used[N];
	cep_err  rv[N];
	uint64_t before, after;

	for (size_t i = 0; i < N; i++) {
		len[i] = unhex(unbacked[i], buf[i]);
		/* Warm the builder up; no Check assertion in the loop. */
		rv[i] = cep_msgpack_parse(rd, buf[i], len[i], &used[i], bld);
	}
	before = cep_test_malloc_calls();
	for (size_t i = 0; i < N; i++) {
		rv[i] = cep_msgpack_parse(rd, buf[i], len[i], &used[i], bld);
	}
	after = cep_test_malloc_calls();
	ck_assert_uint_eq(after - before, 0);
	for (size_t i = 0; i < N; i++) {
		ck_assert_msg(rv[i] == CEP_EAGAIN, "%s: %s", unbacked[i],
		    cep_errname(rv[i]));
		ck_assert_uint_eq(used[i], 0);
		ck_assert_ptr_null(cep_builder_peek(bld));
	}
	good_object_parses();
}
END_TEST

START_TEST(msgpack_hostile_prefixes_fit_in_a_small_address_space)
{
	pid_t pid;
	int   status;

	if (!cep_test_malloc_counting()) {
		/* AddressSanitizer reserves terabytes of address space. */
		return;
	}
	if ((pid = fork()) == 0) {
		struct rlimit rl  = { 256u << 20, 256u << 20 };
		int           bad = 0;
		setrlimit(RLIMIT_AS, &rl);
		for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]);
		     i++) {
			uint8_t buf[64];
			size_t  n = unhex(hostile[i], buf), used;
			bad |= cep_msgpack_parse(rd, buf, n, &used, bld) !=
			    CEP_ELIMIT;
		}
		_exit(bad);
	}
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

START_TEST(msgpack_nesting_past_the_limit_is_elimit)
{
	uint8_t buf[200000];
	size_t  n;

	/* The builder's default limit, 64 levels: the root map and 63
	 * arrays pass, one more fails cleanly. */
	memcpy(buf, "\x81\xa1\x61", 3);
	memset(buf + 3, 0x91, 63);
	buf[66] = 0x01;
	cep_event_unref(parse_bytes(buf, 67), NULL);
	memset(buf + 3, 0x91, 64);
	buf[67] = 0x01;
	refuse_bytes(buf, 68, CEP_ELIMIT, 1,
	    "offset 66: nesting deeper than 64 levels");
	/* An empty container counts too. */
	memset(buf + 3, 0x91, 63);
	buf[66] = 0x90;
	refuse_bytes(buf, 67, CEP_ELIMIT, 1, "nesting");
	/* A lower builder limit. */
	cep_builder_set_limits(bld, 4, 0);
	cep_event_unref(parse_hex("81 a1 61 91 91 91 01"), NULL);
	refuse_hex("81 a1 61 91 91 91 91 01", CEP_ELIMIT, 1, "deeper than 4");
	/* A higher one: the reader's stack grows past the default. */
	cep_builder_set_limits(bld, 200, 0);
	memset(buf + 3, 0x91, 199);
	buf[202] = 0x01;
	CEP_ASSERT_OK(cep_msgpack_parse(rd, buf, 203, &n, bld));
	ck_assert_uint_eq(n, 203);
	ck_assert_ptr_nonnull(cep_builder_peek(bld));
	memset(buf + 3, 0x91, 200);
	buf[203] = 0x01;
	refuse_bytes(buf, 204, CEP_ELIMIT, 1,
	    "offset 202: nesting deeper than 200 levels");
	cep_builder_set_limits(bld, 64, 0);
	/* A hundred thousand levels: no recursion, no waiting. */
	buf[0] = 0x81;
	buf[1] = 0xa1;
	buf[2] = 0x61;
	n      = sizeof(buf);
	memset(buf + 3, 0x91, n - 3);
	refuse_bytes(buf, n, CEP_ELIMIT, 1, "nesting");
	memset(buf, 0xdc, n);
	refuse_bytes(buf, n, CEP_ELIMIT, 1, NULL);
}
END_TEST

START_TEST(msgpack_out_of_memory_is_reported)
{
	cep_builder        *deep = cep_builder_create();
	cep_builder        *cold = cep_builder_create();
	cep_msgpack_reader *fresh;
	uint8_t             buf[128];
	size_t              used;
	cep_err             rv;

	/* {"a": [[...[1]...]]}, 100 levels, under a limit of 128. */
	memcpy(buf, "\x81\xa1\x61", 3);
	memset(buf + 3, 0x91, 99);
	buf[102] = 0x01;
	cep_builder_set_limits(deep, 128, 0);
	cep_builder_set_limits(cold, 128, 0);
	CEP_ASSERT_OK(cep_msgpack_parse(rd, buf, 103, &used, deep));
	/* A new reader grows its stack past 64 levels; when it cannot,
	 * nothing is consumed, and it can try again. */
	fresh = cep_msgpack_reader_create();
	ck_assert_ptr_nonnull(fresh);
	cep_alloc_fail_after(1, 0);
	rv = cep_msgpack_parse(fresh, buf, 103, &used, deep);
	cep_alloc_fail_after(0, 0);
	CEP_ASSERT_ERR(rv, CEP_ENOMEM);
	ck_assert_uint_eq(used, 0);
	ck_assert_str_eq(
	    cep_msgpack_reader_error(fresh), "offset 67: out of memory");
	CEP_ASSERT_OK(cep_msgpack_parse(fresh, buf, 103, &used, deep));
	ck_assert_uint_eq(used, 103);
	/* A builder out of memory: the object is dropped whole. */
	cep_alloc_fail_after(1, 1);
	rv = cep_msgpack_parse(rd, buf, 103, &used, cold);
	cep_alloc_fail_after(0, 0);
	CEP_ASSERT_ERR(rv, CEP_ENOMEM);
	ck_assert_uint_eq(used, 103);
	ck_assert_str_eq(
	    cep_msgpack_reader_error(rd), "offset 0: out of memory");
	CEP_ASSERT_OK(cep_msgpack_parse(rd, buf, 103, &used, cold));
	cep_msgpack_reader_destroy(fresh);
	cep_builder_destroy(deep);
	cep_builder_destroy(cold);
}
END_TEST

START_TEST(msgpack_size_limit_is_elimit)
{
	uint8_t buf[2100];

	cep_builder_set_limits(bld, 0, 1024);
	/* The walk sees a 2000-byte string coming: one byte skipped. */
	memcpy(buf, "\x81\xa1\x76\xda\x07\xd0", 6);
	memset(buf + 6, 'x', 2000);
	refuse_bytes(buf, 6, CEP_ELIMIT, 1, "event larger than 1024 bytes");
	refuse_bytes(buf, 2006, CEP_ELIMIT, 1, "event larger than 1024");
	/* A string just under the walk's estimate that the builder, which
	 * keeps some slack, refuses: the whole object is skipped. */
	memcpy(buf, "\x81\xa1\x76\xda\x03\xca", 6);
	memset(buf + 6, 'x', 970);
	refuse_bytes(buf, 976, CEP_ELIMIT, 976, "event larger than 1024");
	/* Under both. */
	memcpy(buf, "\x81\xa1\x76\xda\x03\x84", 6);
	cep_event_unref(parse_bytes(buf, 906), NULL);
}
END_TEST

START_TEST(msgpack_keys_must_be_strings)
{
	refuse_hex("81 01 01", CEP_EPARSE, 0, "map key is not a string");
	refuse_hex("81 c0 01", CEP_EPARSE, 0, "not a string");
	refuse_hex("82 a1 61 01 cb 3ff8000000000000 01", CEP_EPARSE, 0,
	    "not a string");
	refuse_hex("81 91 01 01", CEP_EPARSE, 0, "not a string");
	refuse_hex("81 81 a1 61 01 01", CEP_EPARSE, 0, "not a string");
	refuse_hex("81 a1 61 81 c3 01", CEP_EPARSE, 0, "not a string");
	refuse_hex("81 c4 01 ff 01", CEP_EPARSE, 0, "offset 3: bin is not");
}
END_TEST

START_TEST(msgpack_strings_must_be_utf8)
{
	refuse_hex("81 a1 76 a1 ff", CEP_EPARSE, 0,
	    "offset 4: string is not valid UTF-8");
	refuse_hex("81 a1 76 a2 c080", CEP_EPARSE, 0, "UTF-8");
	refuse_hex("81 a1 76 a3 eda080", CEP_EPARSE, 0, "UTF-8");
	refuse_hex("81 a1 76 a4 f4908080", CEP_EPARSE, 0, "UTF-8");
	refuse_hex("81 a1 76 a1 c3", CEP_EPARSE, 0, "UTF-8");
	refuse_hex("81 a2 c080 01", CEP_EPARSE, 0, "offset 2: string");
	refuse_hex("81 a1 76 c4 02 c3 28", CEP_EPARSE, 0, "bin is not");
	refuse_hex("81 a1 76 92 a1 61 a1 80", CEP_EPARSE, 0, "UTF-8");
}
END_TEST

START_TEST(msgpack_top_level_must_be_a_map)
{
	refuse_hex("92 01 81 a1 61 01", CEP_EPARSE, 0, "not a map");
	refuse_hex("01", CEP_EPARSE, 0, "not a map");
	refuse_hex("a3 616263", CEP_EPARSE, 0, "not a map");
	refuse_hex("c0", CEP_EPARSE, 0, "not a map");
	refuse_hex("cb 3ff8000000000000", CEP_EPARSE, 0, "not a map");
}
END_TEST

/* ---- streams ----------------------------------------------------------- */

static const char *rich =
    "86 a2 7473 cf 0000018bcfe56800 a4 74797065 a4 61757468 a6 616d6f756e74 "
    "cb 4028ae147ae147ae a4 74616773 93 a1 61 c0 82 a1 78 f0 a1 79 c3 "
    "a5 6e65737465 81 a1 6d 80 a3 62696e c4 02 6869";

START_TEST(msgpack_truncated_objects_ask_for_more)
{
	uint8_t buf[256];
	size_t  n = unhex(rich, buf);

	for (size_t len = 0; len < n; len++) {
		size_t  used = 99;
		cep_err rv   = cep_msgpack_parse(rd, buf, len, &used, bld);
		ck_assert_msg(
		    rv == CEP_EAGAIN, "prefix %zu: %s", len, cep_errname(rv));
		ck_assert_uint_eq(used, 0);
	}
	CEP_ASSERT_ERR(
	    cep_msgpack_parse(rd, NULL, 0, &(size_t) { 0 }, bld), CEP_EAGAIN);
	cep_event_unref(parse_bytes(buf, n), NULL);
}
END_TEST

START_TEST(msgpack_stream_parses_object_by_object)
{
	uint8_t buf[1024];
	size_t  n = 0, pos = 0, used, count = 0;

	n += unhex(rich, buf + n);
	n += unhex("81 a1 61 01", buf + n);
	n += unhex("80", buf + n);
	n += unhex(rich, buf + n);
	n += unhex("82 a1 61", buf + n); /* cut short */
	while (pos < n) {
		cep_event *ev;
		cep_err    rv =
		    cep_msgpack_parse(rd, buf + pos, n - pos, &used, bld);
		if (rv == CEP_EAGAIN) {
			break;
		}
		CEP_ASSERT_OK(rv);
		CEP_ASSERT_OK(cep_builder_finish(bld, NULL, &ev));
		cep_event_unref(ev, NULL);
		pos += used;
		count++;
	}
	ck_assert_uint_eq(count, 4);
	ck_assert_uint_eq(n - pos, 3);
}
END_TEST

START_TEST(msgpack_resyncs_after_garbage)
{
	uint8_t buf[512];
	size_t  n = 0, pos = 0, events = 0, errors = 0;
	size_t  skips[16], nskips = 0;

	n += unhex("c1 c1", buf + n);             /* 1 + 1 */
	n += unhex("05", buf + n);                /* not a map: 1 */
	n += unhex("a3 616263", buf + n);         /* not a map: 4 */
	n += unhex("92 81 a1 78 01 02", buf + n); /* whole array: 6 */
	n += unhex("81 a1 76 d4 01 00", buf + n); /* ext inside: 6 */
	n += unhex("82 01 02 a1 61 01", buf + n); /* int key: 6 */
	n += unhex("81 a1 76 a1 ff", buf + n);    /* bad UTF-8: 5 */
	n += unhex("81 a1 6f 2a", buf + n);       /* {"o":42} */
	while (pos < n) {
		size_t  used;
		cep_err rv =
		    cep_msgpack_parse(rd, buf + pos, n - pos, &used, bld);
		ck_assert_uint_ge(used, 1);
		if (rv == CEP_OK) {
			cep_event *ev;
			cep_val    v;
			CEP_ASSERT_OK(cep_builder_finish(bld, NULL, &ev));
			get(ev, "o", &v);
			ck_assert_int_eq(v.u.i, 42);
			cep_event_unref(ev, NULL);
			events++;
		} else {
			ck_assert(rv == CEP_EPARSE);
			skips[nskips++] = used;
			errors++;
		}
		pos += used;
	}
	ck_assert_uint_eq(events, 1);
	ck_assert_uint_eq(errors, 8);
	ck_assert_uint_eq(skips[0], 1);
	ck_assert_uint_eq(skips[1], 1);
	ck_assert_uint_eq(skips[2], 1);
	ck_assert_uint_eq(skips[3], 4);
	ck_assert_uint_eq(skips[4], 6);
	ck_assert_uint_eq(skips[5], 6);
	ck_assert_uint_eq(skips[6], 6);
	ck_assert_uint_eq(skips[7], 5);
}
END_TEST

/* ---- writer ------------------------------------------------------------ */

/* hex_of writes bytes as lowercase hex without spaces (static buffer). */
static const char *
hex_of(const uint8_t *p, size_t n)
{
	static char text[4096];

	ck_assert_uint_lt(2 * n, sizeof(text));
	for (size_t i = 0; i < n; i++) {
		snprintf(text + 2 * i, 3, "%02x", p[i]);
	}
	text[2 * n] = '\0';
	return (text);
}

START_TEST(msgpack_write_uses_the_smallest_forms)
{
	static const struct {
		cep_val     v;
		const char *hex;
	} cases[] = {
		{ { .type = CEP_T_INT, .u.i = 0 }, "00" },
		{ { .type = CEP_T_INT, .u.i = 127 }, "7f" },
		{ { .type = CEP_T_INT, .u.i = 128 }, "cc80" },
		{ { .type = CEP_T_INT, .u.i = 256 }, "cd0100" },
		{ { .type = CEP_T_INT, .u.i = 65536 }, "ce00010000" },
		{ { .type = CEP_T_INT, .u.i = 4294967296 },
		    "cf0000000100000000" },
		{ { .type = CEP_T_INT, .u.i = -1 }, "ff" },
		{ { .type = CEP_T_INT, .u.i = -32 }, "e0" },
		{ { .type = CEP_T_INT, .u.i = -33 }, "d0df" },
		{ { .type = CEP_T_INT, .u.i = -129 }, "d1ff7f" },
		{ { .type = CEP_T_INT, .u.i = -32769 }, "d2ffff7fff" },
		{ { .type = CEP_T_INT, .u.i = INT64_MIN },
		    "d38000000000000000" },
		{ { .type = CEP_T_DOUBLE, .u.d = 1.5 }, "cb3ff8000000000000" },
		{ { .type = CEP_T_DOUBLE, .u.d = 2.0 }, "cb4000000000000000" },
		{ { .type = CEP_T_NULL }, "c0" },
		{ { .type = CEP_T_BOOL, .u.b = 1 }, "c3" },
		{ { .type = CEP_T_BOOL, .u.b = 0 }, "c2" },
		{ { .type = CEP_T_STR, .len = 3, .u.s = "abc" }, "a3616263" },
		{ { .type = CEP_T_STR, .len = 0, .u.s = "" }, "a0" },
	};
	cep_buf out;
	char    big[300];

	cep_buf_init(&out);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cep_buf_reset(&out);
		CEP_ASSERT_OK(cep_msgpack_write_val(&out, &cases[i].v));
		ck_assert_str_eq(hex_of(out.data, out.len), cases[i].hex);
	}
	memset(big, 'x', sizeof(big));
	cep_buf_reset(&out);
	CEP_ASSERT_OK(cep_msgpack_write_val(
	    &out, &(cep_val) { .type = CEP_T_STR, .len = 32, .u.s = big }));
	ck_assert_uint_eq(out.data[0], 0xd9);
	cep_buf_reset(&out);
	CEP_ASSERT_OK(cep_msgpack_write_val(
	    &out, &(cep_val) { .type = CEP_T_STR, .len = 300, .u.s = big }));
	ck_assert_uint_eq(out.data[0], 0xda);
	cep_buf_fini(&out);
}
END_TEST

START_TEST(msgpack_write_event_exactly)
{
	cep_event *ev = cep_test_event(
	    "{\"a\":1,\"b\":[true,null,\"x\"],\"c\":{\"d\":2.5},\"a\":-1}");
	cep_buf out;

	cep_buf_init(&out);
	CEP_ASSERT_OK(cep_msgpack_write_event(&out, ev));
	/* Three fields: the first "a" is overridden by the last. */
	ck_assert_str_eq(hex_of(out.data, out.len),
	    "83a16293c3c0a178a16381a164cb4004000000000000a161ff");
	cep_buf_fini(&out);
	cep_event_unref(ev, NULL);
}
END_TEST

START_TEST(msgpack_round_trips_msgpack_event_msgpack)
{
	uint8_t    buf[256];
	size_t     n  = unhex(rich, buf);
	cep_event *ev = parse_bytes(buf, n), *again;
	cep_buf    out;
	cep_val    a, b;

	cep_buf_init(&out);
	CEP_ASSERT_OK(cep_msgpack_write_event(&out, ev));
	/* Canonical input comes back byte for byte, but for the bin, which
	 * becomes a str. */
	buf[n - 4] = 0xa2;
	memmove(buf + n - 3, buf + n - 2, 2);
	ck_assert_str_eq(hex_of(out.data, out.len), hex_of(buf, n - 1));
	again = parse_bytes(out.data, out.len);
	a     = cep_test_root_val(ev);
	b     = cep_test_root_val(again);
	ck_assert(cep_val_equal(&a, &b));
	cep_buf_fini(&out);
	cep_event_unref(ev, NULL);
	cep_event_unref(again, NULL);
}
END_TEST

START_TEST(msgpack_and_json_agree)
{
	static const char *lines[] = {
		("{\"n\":null,\"t\":true,\"f\":false,"
		 "\"i\":-9223372036854775808,\"j\":9223372036854775807,"
		 "\"d\":-1.5e-300,\"z\":-0.0,\"s\":\"\\u0000\\\"\xc3\xa9\","
		 "\"a\":[[],[{}],[1,[2,[3]]]],\"m\":{\"m\":{\"m\":{}}},"
		 "\"u\":18446744073709551615}"),
		("{\"ts\":1700000000123,\"card_id\":\"c-12345\","
		 "\"type\":\"auth\",\"amount\":12.34,\"country\":\"US\","
		 "\"merchant\":\"m-123\"}"),
	};
	cep_json_reader *jr = cep_json_reader_create();
	cep_buf          out;

	cep_buf_init(&out);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		cep_event *from_json, *from_mp, *back;
		cep_val    a, b;
		CEP_ASSERT_OK(
		    cep_json_parse(jr, lines[i], strlen(lines[i]), bld));
		CEP_ASSERT_OK(cep_builder_finish(bld, NULL, &from_json));
		cep_buf_reset(&out);
		CEP_ASSERT_OK(cep_msgpack_write_event(&out, from_json));
		from_mp = parse_bytes(out.data, out.len);
		a       = cep_test_root_val(from_json);
		b       = cep_test_root_val(from_mp);
		ck_assert(cep_val_equal(&a, &b));
		/* And back to JSON text. */
		cep_buf_reset(&out);
		CEP_ASSERT_OK(cep_json_write_event(&out, from_mp));
		CEP_ASSERT_OK(
		    cep_json_parse(jr, (const char *) out.data, out.len, bld));
		CEP_ASSERT_OK(cep_builder_finish(bld, NULL, &back));
		b = cep_test_root_val(back);
		ck_assert(cep_val_equal(&a, &b));
		cep_event_unref(from_json, NULL);
		cep_event_unref(from_mp, NULL);
		cep_event_unref(back, NULL);
	}
	cep_buf_fini(&out);
	cep_json_reader_destroy(jr);
}
END_TEST

START_TEST(msgpack_reads_back_events_as_deep_as_json_allows)
{
	cep_json_reader *jr = cep_json_reader_create();
	char             text[200];
	cep_event       *from_json;
	cep_buf          out;
	size_t           n = 0;

	/* {"a":[[...[1]...]]}: the root map and 63 arrays, the builder's
	 * limit for both readers. */
	n += (size_t) snprintf(text, sizeof(text), "{\"a\":");
	memset(text + n, '[', 63);
	text[n + 63] = '1';
	memset(text + n + 64, ']', 63);
	n += 127;
	text[n++] = '}';
	CEP_ASSERT_OK(cep_json_parse(jr, text, n, bld));
	CEP_ASSERT_OK(cep_builder_finish(bld, NULL, &from_json));
	cep_buf_init(&out);
	CEP_ASSERT_OK(cep_msgpack_write_event(&out, from_json));
	cep_event_unref(parse_bytes(out.data, out.len), NULL);
	cep_buf_fini(&out);
	cep_event_unref(from_json, NULL);
	cep_json_reader_destroy(jr);
}
END_TEST

START_TEST(msgpack_write_keeps_inline_field_names)
{
	cep_builder *b = cep_builder_create();
	char         name[CEP_SYM_MAX_LEN + 40];
	cep_event   *ev, *again;
	cep_buf      out;
	cep_val      v;

	memset(name, 'k', sizeof(name));
	CEP_ASSERT_OK(cep_builder_map_begin(b));
	CEP_ASSERT_OK(cep_builder_key(b, name, sizeof(name)));
	CEP_ASSERT_OK(cep_builder_int(b, 7));
	CEP_ASSERT_OK(cep_builder_end(b));
	CEP_ASSERT_OK(cep_builder_finish(b, NULL, &ev));
	cep_buf_init(&out);
	CEP_ASSERT_OK(cep_msgpack_write_event(&out, ev));
	ck_assert_uint_eq(out.data[1], 0xda);
	again = parse_bytes(out.data, out.len);
	ck_assert(
	    cep_map_get(again, cep_event_root(again), name, sizeof(name), &v));
	ck_assert_int_eq(v.u.i, 7);
	cep_buf_fini(&out);
	cep_event_unref(ev, NULL);
	cep_event_unref(again, NULL);
	cep_builder_destroy(b);
}
END_TEST

START_TEST(msgpack_write_reports_out_of_memory)
{
	cep_event *ev = cep_test_event("{\"a\":\"some text\"}");
	cep_buf    out;

	cep_buf_init(&out);
	cep_alloc_fail_after(1, 1);
	CEP_ASSERT_ERR(cep_msgpack_write_event(&out, ev), CEP_ENOMEM);
	cep_alloc_fail_after(0, 0);
	cep_buf_fini(&out);
	cep_event_unref(ev, NULL);
}
END_TEST

/* ---- resources --------------------------------------------------------- */

START_TEST(msgpack_reader_create_fails_cleanly_without_memory)
{
	cep_alloc_fail_after(1, 0);
	ck_assert_ptr_null(cep_msgpack_reader_create());
	cep_alloc_fail_after(0, 0);
	cep_msgpack_reader_destroy(NULL);
}
END_TEST

START_TEST(msgpack_warm_reader_allocates_nothing_per_object)
{
	uint8_t   buf[256];
	size_t    n    = unhex(rich, buf);
	cep_slab *slab = cep_slab_create();
	cep_buf   out;
	uint64_t  before = 0, after;
	cep_err   worst  = CEP_OK;

	cep_buf_init(&out);
	for (int round = 0; round < 2; round++) {
		if (round == 1) {
			cep_alloc_fail_after(1, 1);
			before = cep_test_malloc_calls();
		}
		/* No Check assertion inside the loop: they allocate. */
		for (int i = 0; i < 1000; i++) {
			cep_event *ev;
			size_t     used;
			cep_err rv = cep_msgpack_parse(rd, buf, n, &used, bld);
			if (rv == CEP_OK) {
				rv = cep_builder_finish(bld, slab, &ev);
			}
			if (rv != CEP_OK) {
				worst = rv;
				break;
			}
			cep_buf_reset(&out);
			if ((rv = cep_msgpack_write_event(&out, ev)) !=
			    CEP_OK) {
				worst = rv;
			}
			cep_event_unref(ev, slab);
		}
	}
	after = cep_test_malloc_calls();
	cep_alloc_fail_after(0, 0);
	CEP_ASSERT_OK(worst);
	ck_assert_uint_eq(after - before, 0);
	cep_buf_fini(&out);
	cep_slab_destroy(slab);
}
END_TEST

/* ---- garbage ----------------------------------------------------------- */

/* try_garbage parses a stream of anything to its end, skipping what the
 * reader says; whatever parses must write back and parse again. */
static void
try_garbage(const uint8_t *p, size_t n, cep_buf *out)
{
	size_t pos = 0;

	while (pos < n) {
		size_t     used = 0;
		cep_event *ev, *again;
		cep_err    rv =
		    cep_msgpack_parse(rd, p + pos, n - pos, &used, bld);
		size_t first;
		if (rv == CEP_EAGAIN) {
			ck_assert_uint_eq(used, 0);
			return;
		}
		ck_assert_uint_ge(used, 1);
		ck_assert_uint_le(used, n - pos);
		pos += used;
		if (rv != CEP_OK) {
			ck_assert(rv == CEP_EPARSE || rv == CEP_ELIMIT);
			ck_assert_str_ne(cep_msgpack_reader_error(rd), "");
			continue;
		}
		CEP_ASSERT_OK(cep_builder_finish(bld, NULL, &ev));
		CEP_ASSERT_OK(cep_event_verify(ev, ev->size, 64, NULL, NULL));
		cep_buf_reset(out);
		CEP_ASSERT_OK(cep_msgpack_write_event(out, ev));
		first = out->len;
		CEP_ASSERT_OK(
		    cep_msgpack_parse(rd, out->data, first, &used, bld));
		ck_assert_uint_eq(used, first);
		CEP_ASSERT_OK(cep_builder_finish(bld, NULL, &again));
		CEP_ASSERT_OK(cep_msgpack_write_event(out, again));
		ck_assert_uint_eq(out->len, 2 * first);
		ck_assert_int_eq(
		    memcmp(out->data, out->data + first, first), 0);
		cep_event_unref(ev, NULL);
		cep_event_unref(again, NULL);
	}
}

START_TEST(msgpack_survives_random_garbage)
{
	uint8_t  seed_bytes[256], buf[256];
	size_t   seed_len = unhex(rich, seed_bytes);
	uint64_t seed     = 0x9e3779b97f4a7c15ull;
	cep_buf  out;

	cep_buf_init(&out);
	for (int i = 0; i < 200000; i++) {
		uint64_t x = cep_test_rand(&seed);
		size_t   len;
		if (x % 2 == 0) {
			/* Random bytes, biased to headers and small counts. */
			len = (size_t) (x >> 8) % 64;
			for (size_t j = 0; j < len; j++) {
				uint64_t y = cep_test_rand(&seed);
				uint8_t  z = (uint8_t) (y >> 8);
				buf[j]     = y % 3 == 0 ? 0x80 | z % 0x60
				        : y % 3 == 1    ? 0xc0 + z % 32
				                        : z;
			}
		} else {
			/* The rich object with a few mutations. */
			memcpy(buf, seed_bytes, seed_len);
			len = cep_test_mutate(buf, seed_len, NULL, &seed);
		}
		try_garbage(buf, len, &out);
	}
	cep_buf_fini(&out);
	good_object_parses();
}
END_TEST

static Suite *
msgpk_suite(void)
{
	Suite *s = suite_create("msgpk");
	TCase *t = tcase_create("msgpk");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 240);
	tcase_add_test(t, msgpack_parses_every_scalar_format);
	tcase_add_test(t, msgpack_parses_every_container_format);
	tcase_add_test(t, msgpack_ext_types_are_refused);
	tcase_add_test(t, msgpack_reserved_byte_skips_one_byte);
	tcase_add_test(
	    t, msgpack_every_first_byte_reads_as_msgpack_c_reads_it);
	tcase_add_test(
	    t, msgpack_reads_random_objects_as_msgpack_c_reads_them);
	tcase_add_test(t, msgpack_hostile_length_prefixes_fail_fast);
	tcase_add_test(
	    t, msgpack_hostile_prefixes_fit_in_a_small_address_space);
	tcase_add_test(
	    t, msgpack_unbacked_claims_ask_for_more_without_allocating);
	tcase_add_test(t, msgpack_nesting_past_the_limit_is_elimit);
	tcase_add_test(t, msgpack_out_of_memory_is_reported);
	tcase_add_test(t, msgpack_size_limit_is_elimit);
	tcase_add_test(t, msgpack_keys_must_be_strings);
	tcase_add_test(t, msgpack_strings_must_be_utf8);
	tcase_add_test(t, msgpack_top_level_must_be_a_map);
	tcase_add_test(t, msgpack_truncated_objects_ask_for_more);
	tcase_add_test(t, msgpack_stream_parses_object_by_object);
	tcase_add_test(t, msgpack_resyncs_after_garbage);
	tcase_add_test(t, msgpack_write_uses_the_smallest_forms);
	tcase_add_test(t, msgpack_write_event_exactly);
	tcase_add_test(t, msgpack_round_trips_msgpack_event_msgpack);
	tcase_add_test(t, msgpack_and_json_agree);
	tcase_add_test(t, msgpack_reads_back_events_as_deep_as_json_allows);
	tcase_add_test(t, msgpack_write_keeps_inline_field_names);
	tcase_add_test(t, msgpack_write_reports_out_of_memory);
	tcase_add_test(t, msgpack_reader_create_fails_cleanly_without_memory);
	tcase_add_test(t, msgpack_warm_reader_allocates_nothing_per_object);
	tcase_add_test(t, msgpack_survives_random_garbage);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(msgpk_suite)
