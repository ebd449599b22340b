/* SPDX-License-Identifier: MIT */
/*
 * value.h: typed values.
 *
 * A cep_val is a value being looked at: a scalar held inline, a string
 * borrowed from where it lives (an event block, a rule's constants, an
 * expression's scratch space), or a map or array inside an event block.
 * Values never own memory; their lifetime is that of what they point into.
 *
 * Equality and ordering follow the rule language: integers and doubles
 * compare as numbers (1 == 1.0); strings compare bytewise; values of other
 * type pairs are unequal and have no order.
 */
#ifndef CEP_VALUE_H
#define CEP_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "cep/errors.h"

typedef enum cep_type {
	CEP_T_NULL = 0,
	CEP_T_BOOL,
	CEP_T_INT,
	CEP_T_DOUBLE,
	CEP_T_STR,
	CEP_T_MAP,
	CEP_T_ARRAY,
} cep_type;

struct cep_event;

typedef struct cep_val {
	uint8_t  type; /* cep_type */
	uint32_t len;  /* string bytes, or number of entries of a container */
	union {
		int64_t     i;
		double      d;
		int         b;
		const char *s; /* NUL-terminated; may hold NULs before len */
		struct {
			const struct cep_event *ev;  /* block holding it */
			uint32_t                off; /* offset of cep_cont */
		} c;
	} u;
} cep_val;

static inline cep_val
cep_val_null(void)
{
	cep_val v = { .type = CEP_T_NULL };
	return (v);
}

static inline cep_val
cep_val_bool(int b)
{
	cep_val v = { .type = CEP_T_BOOL, .u.b = b != 0 };
	return (v);
}

static inline cep_val
cep_val_int(int64_t i)
{
	cep_val v = { .type = CEP_T_INT, .u.i = i };
	return (v);
}

static inline cep_val
cep_val_double(double d)
{
	cep_val v = { .type = CEP_T_DOUBLE, .u.d = d };
	return (v);
}

static inline cep_val
cep_val_str(const char *s, size_t n)
{
	cep_val v = { .type = CEP_T_STR, .len = (uint32_t) n, .u.s = s };
	return (v);
}

static inline int
cep_val_is_number(const cep_val *v)
{
	return (v->type == CEP_T_INT || v->type == CEP_T_DOUBLE);
}

/* The number as a double (0 for non-numbers). */
static inline double
cep_val_as_double(const cep_val *v)
{
	return (v->type == CEP_T_INT      ? (double) v->u.i
	        : v->type == CEP_T_DOUBLE ? v->u.d
	                                  : 0.0);
}

/* "null", "bool", "int", "double", "string", "map", "array". */
const char *cep_type_name(cep_type t);

/* Deep equality as described above. */
int cep_val_equal(const cep_val *a, const cep_val *b);
/* Order two numbers or two strings: *cmp < 0, 0 or > 0.  CEP_ETYPE for any
 * other pair (including a NaN operand). */
cep_err cep_val_compare(const cep_val *a, const cep_val *b, int *cmp);
/* Hash consistent with cep_val_equal for scalars (1 and 1.0 hash alike). */
uint64_t cep_val_hash(const cep_val *v, uint64_t seed);

/* Nonzero when the n bytes at s are well-formed UTF-8 (no overlongs, no
 * surrogates, nothing past U+10FFFF). */
int cep_utf8_valid(const char *s, size_t n);

/* Format a double as the shortest text that reads back to the same value,
 * always with a '.' or exponent so it reads back as a double ("2.0",
 * "0.1", "1e+300").  Non-finite values give "null".  buf holds at least
 * CEP_DOUBLE_BUF bytes; returns the length. */
#define CEP_DOUBLE_BUF 32
size_t cep_fmt_double(double d, char *buf);

#endif
