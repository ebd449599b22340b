/* SPDX-License-Identifier: MIT */
/* value.c: equality, ordering and hashing of values; UTF-8; doubles. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cep/event.h"
#include "cep/hash.h"
#include "cep/value.h"

const char *
cep_type_name(cep_type t)
{
	switch (t) {
	case CEP_T_NULL:
		return ("null");
	case CEP_T_BOOL:
		return ("bool");
	case CEP_T_INT:
		return ("int");
	case CEP_T_DOUBLE:
		return ("double");
	case CEP_T_STR:
		return ("string");
	case CEP_T_MAP:
		return ("map");
	case CEP_T_ARRAY:
		return ("array");
	}
	return ("unknown");
}

/* compare_numbers orders an int and a double exactly, without the rounding
 * a conversion of large integers to double would bring. */
static int
compare_int_double(int64_t i, double d)
{
	if (d >= 9223372036854775808.0) {
		return (-1);
	}
	if (d < -9223372036854775808.0) {
		return (1);
	}
	{
		double  t  = trunc(d);
		int64_t ti = (int64_t) t;
		if (i != ti) {
			return (i < ti ? -1 : 1);
		}
		return (d > t ? -1 : d < t ? 1 : 0);
	}
}

static int
compare_num(const cep_val *a, const cep_val *b)
{
	if (a->type == CEP_T_INT && b->type == CEP_T_INT) {
		return (a->u.i < b->u.i ? -1 : a->u.i > b->u.i);
	}
	if (a->type == CEP_T_INT) {
		return (compare_int_double(a->u.i, b->u.d));
	}
	if (b->type == CEP_T_INT) {
		return (-compare_int_double(b->u.i, a->u.d));
	}
	return (a->u.d < b->u.d ? -1 : a->u.d > b->u.d);
}

static int
compare_str(const cep_val *a, const cep_val *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int    c = memcmp(a->u.s, b->u.s, n);

	if (c != 0) {
		return (c < 0 ? -1 : 1);
	}
	return (a->len < b->len ? -1 : a->len > b->len);
}

static int
containers_equal(const cep_val *a, const cep_val *b)
{
	const cep_cont *ca = cep_event_cont(a->u.c.ev, a->u.c.off);
	const cep_cont *cb = cep_event_cont(b->u.c.ev, b->u.c.off);

	if (a->type == CEP_T_ARRAY) {
		const cep_slot *sa = cep_cont_slots(ca);
		const cep_slot *sb = cep_cont_slots(cb);
		for (uint32_t i = 0; i < ca->n; i++) {
			cep_val va, vb;
			cep_slot_val(a->u.c.ev, &sa[i], &va);
			cep_slot_val(b->u.c.ev, &sb[i], &vb);
			if (!cep_val_equal(&va, &vb)) {
				return (0);
			}
		}
		return (1);
	}
	/* Maps: same names with equal values, order aside. */
	{
		cep_map_iter ia;
		cep_val      va, vb;
		const char  *name;
		size_t       nlen;
		size_t       na = 0, nb = 0;

		cep_map_iter_init(&ia, a->u.c.ev, ca);
		while (cep_map_iter_next(&ia, &name, &nlen, &va)) {
			if (!cep_map_get(b->u.c.ev, cb, name, nlen, &vb) ||
			    !cep_val_equal(&va, &vb)) {
				return (0);
			}
			na++;
		}
		cep_map_iter_init(&ia, b->u.c.ev, cb);
		while (cep_map_iter_next(&ia, &name, &nlen, &vb)) {
			nb++;
		}
		return (na == nb);
	}
}

int
cep_val_equal(const cep_val *a, const cep_val *b)
{
	if (cep_val_is_number(a) && cep_val_is_number(b)) {
		return (compare_num(a, b) == 0 &&
		    !(a->type == CEP_T_DOUBLE && isnan(a->u.d)) &&
		    !(b->type == CEP_T_DOUBLE && isnan(b->u.d)));
	}
	if (a->type != b->type) {
		return (0);
	}
	switch ((cep_type) a->type) {
	case CEP_T_NULL:
		return (1);
	case CEP_T_BOOL:
		return (a->u.b == b->u.b);
	case CEP_T_STR:
		return (
		    a->len == b->len && memcmp(a->u.s, b->u.s, a->len) == 0);
	case CEP_T_ARRAY:
		return (a->len == b->len && containers_equal(a, b));
	case CEP_T_MAP:
		/* Raw counts differ when a name repeats: compare fields. */
		return (containers_equal(a, b));
	case CEP_T_INT:
	case CEP_T_DOUBLE:
		break;
	}
	return (0);
}

cep_err
cep_val_compare(const cep_val *a, const cep_val *b, int *cmp)
{
	if (cep_val_is_number(a) && cep_val_is_number(b)) {
		if ((a->type == CEP_T_DOUBLE && isnan(a->u.d)) ||
		    (b->type == CEP_T_DOUBLE && isnan(b->u.d))) {
			return (CEP_ETYPE);
		}
		*cmp = compare_num(a, b);
		return (CEP_OK);
	}
	if (a->type == CEP_T_STR && b->type == CEP_T_STR) {
		*cmp = compare_str(a, b);
		return (CEP_OK);
	}
	return (CEP_ETYPE);
}

uint64_t
cep_val_hash(const cep_val *v, uint64_t seed)
{
	uint8_t tag;

	switch ((cep_type) v->type) {
	case CEP_T_DOUBLE:
		/* An integral double hashes as the integer it equals. */
		if (v->u.d >= -9223372036854775808.0 &&
		    v->u.d < 9223372036854775808.0 &&
		    v->u.d == trunc(v->u.d)) {
			int64_t i = (int64_t) v->u.d;
			tag       = CEP_T_INT;
			return (cep_hash64(&i, sizeof(i), seed ^ tag));
		}
		tag = CEP_T_DOUBLE;
		return (cep_hash64(&v->u.d, sizeof(v->u.d), seed ^ tag));
	case CEP_T_INT:
		tag = CEP_T_INT;
		return (cep_hash64(&v->u.i, sizeof(v->u.i), seed ^ tag));
	case CEP_T_BOOL:
		tag = CEP_T_BOOL;
		return (cep_hash64(&v->u.b, sizeof(v->u.b), seed ^ tag));
	case CEP_T_STR:
		tag = CEP_T_STR;
		return (cep_hash64(v->u.s, v->len, seed ^ tag));
	case CEP_T_NULL:
	case CEP_T_MAP:
	case CEP_T_ARRAY:
		break;
	}
	return (seed ^ v->type);
}

/* ascii says whether the n bytes at s are all below 0x80, a word at a
 * time: most text is ASCII, and checking the short keys and strings of a
 * 10-field msgpack event byte by byte took a tenth of decoding it.  The
 * last load overlaps the one before it rather than running past the end. */
static int
ascii(const unsigned char *s, size_t n)
{
	uint64_t w, any = 0;
	uint32_t x, y;

	if (n >= sizeof(w)) {
		for (size_t i = 0; i < n - sizeof(w); i += sizeof(w)) {
			memcpy(&w, s + i, sizeof(w));
			any |= w;
		}
		memcpy(&w, s + n - sizeof(w), sizeof(w));
		return (((any | w) & 0x8080808080808080u) == 0);
	}
	if (n >= sizeof(x)) {
		memcpy(&x, s, sizeof(x));
		memcpy(&y, s + n - sizeof(y), sizeof(y));
		return (((x | y) & 0x80808080u) == 0);
	}
	return (n == 0 || ((s[0] | s[n / 2] | s[n - 1]) & 0x80) == 0);
}

int
cep_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t               i = 0;

	if (ascii(s, n)) {
		return (1);
	}
	while (i < n) {
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			if (i + 1 >= n || (s[i + 1] & 0xc0) != 0x80) {
				return (0);
			}
			i += 2;
			continue;
		}
		if (c >= 0xe0 && c <= 0xef) {
			unsigned lo = c == 0xe0 ? 0xa0 : 0x80;
			unsigned hi = c == 0xed ? 0x9f : 0xbf;
			if (i + 2 >= n || s[i + 1] < lo || s[i + 1] > hi ||
			    (s[i + 2] & 0xc0) != 0x80) {
				return (0);
			}
			i += 3;
			continue;
		}
		if (c >= 0xf0 && c <= 0xf4) {
			unsigned lo = c == 0xf0 ? 0x90 : 0x80;
			unsigned hi = c == 0xf4 ? 0x8f : 0xbf;
			if (i + 3 >= n || s[i + 1] < lo || s[i + 1] > hi ||
			    (s[i + 2] & 0xc0) != 0x80 ||
			    (s[i + 3] & 0xc0) != 0x80) {
				return (0);
			}
			i += 4;
			continue;
		}
		return (0);
	}
	return (1);
}

size_t
cep_fmt_double(double d, char *buf)
{
	int n = 0;

	if (!isfinite(d)) {
		memcpy(buf, "null", 5);
		return (4);
	}
	/* %g with 15 significant digits is the shortest form of any double
	 * written with fewer digits (0.1, 12.34); the rest need 16 or 17. */
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, CEP_DOUBLE_BUF, "%.*g", prec, d);
		if (strtod(buf, NULL) == d) {
			break;
		}
	}
	if (strpbrk(buf, ".eEn") == NULL && n + 2 < CEP_DOUBLE_BUF) {
		buf[n++] = '.';
		buf[n++] = '0';
		buf[n]   = '\0';
	}
	return ((size_t) n);
}
