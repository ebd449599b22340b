/* SPDX-License-Identifier: MIT */
/*
 * expr_eval.c: the stack machine that evaluates compiled expressions, the
 * scratch arena it writes strings to, and the operations on values (which
 * the constant folder shares, so folding and evaluation cannot disagree).
 *
 * Evaluation allocates nothing once the scratch is warm: instructions and
 * constants are read in place, the value stack is an array on the C stack
 * (a verified program never needs more than NFA_EX_STACK_MAX slots),
 * strings made at run time (lower(), concatenation) are bumped out of the
 * scratch, and the PCRE2 match data lives in the scratch too.
 *
 * Run-time semantics, in one place:
 *  - A missing field, or a path through a non-map, is null.
 *  - Comparisons with a null operand are false; ISNULL/NOTNULL (compiled
 *    from == null / != null) test for it.  Equality of different types is
 *    false; ordering them (or bools, maps, arrays) is a type error; a NaN
 *    compares false.
 *  - and/or/not take null as false; another non-bool is a type error.
 *    and/or short-circuit.
 *  - Arithmetic with null is null.  int + - * int is an int unless it
 *    overflows, then a double; int / int truncates toward zero; / and %
 *    by zero are null; % takes the sign of the dividend (fmod for
 *    doubles); an int and a double give a double; string + string
 *    concatenates.
 *  - Functions of null are null; of a wrong type, a type error.
 *  - A type error stops the evaluation: nfa_expr_test says 0 and
 *    nfa_expr_eval returns CEP_ETYPE.
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "nfa/expr_impl.h"

/*
 * Scratch arena
 */

typedef struct scratch_chunk scratch_chunk;
struct scratch_chunk {
	scratch_chunk *next;
	size_t         size; /* bytes of data[] */
	size_t         used;
	char           data[];
};

struct nfa_scratch {
	scratch_chunk    *first;
	scratch_chunk    *cur; /* chunks after it are unused */
	pcre2_match_data *md;  /* one ovector pair: we only ask "matches?" */
};

#define SCRATCH_FIRST 4096u
/* Chunks beyond the first are kept by a reset up to this many bytes, so a
 * warm scratch does not allocate but one huge string does not pin memory
 * forever. */
#define SCRATCH_KEEP (1u << 20)

static scratch_chunk *
chunk_new(size_t size)
{
	scratch_chunk *c = cep_alloc(sizeof(*c) + size);

	if (c != NULL) {
		c->next = NULL;
		c->size = size;
		c->used = 0;
	}
	return (c);
}

/* PCRE2 frees without a size: keep it in a header before the block. */
#define PCRE_HDR sizeof(max_align_t)

static void *
pcre_alloc(PCRE2_SIZE size, void *data)
{
	char *p;

	(void) data;
	if (size > SIZE_MAX - PCRE_HDR ||
	    (p = cep_alloc(size + PCRE_HDR)) == NULL) {
		return (NULL);
	}
	memcpy(p, &size, sizeof(size));
	return (p + PCRE_HDR);
}

static void
pcre_release(void *ptr, void *data)
{
	char      *p;
	PCRE2_SIZE size;

	(void) data;
	if (ptr == NULL) {
		return;
	}
	p = (char *) ptr - PCRE_HDR;
	memcpy(&size, p, sizeof(size));
	cep_free(p, size + PCRE_HDR);
}

pcre2_general_context *
nfa__ex_pcre_context(void)
{
	return (pcre2_general_context_create(pcre_alloc, pcre_release, NULL));
}

nfa_scratch *
nfa_scratch_create(void)
{
	nfa_scratch           *s;
	pcre2_general_context *gc;

	if ((s = cep_zalloc(sizeof(*s))) == NULL) {
		return (NULL);
	}
	if ((s->first = chunk_new(SCRATCH_FIRST)) == NULL ||
	    (gc = nfa__ex_pcre_context()) == NULL) {
		nfa_scratch_destroy(s);
		return (NULL);
	}
	s->cur = s->first;
	s->md  = pcre2_match_data_create(1, gc);
	pcre2_general_context_free(gc);
	if (s->md == NULL) {
		nfa_scratch_destroy(s);
		return (NULL);
	}
	return (s);
}

void
nfa_scratch_destroy(nfa_scratch *s)
{
	scratch_chunk *c, *next;

	if (s == NULL) {
		return;
	}
	for (c = s->first; c != NULL; c = next) {
		next = c->next;
		cep_free(c, sizeof(*c) + c->size);
	}
	pcre2_match_data_free(s->md);
	cep_free(s, sizeof(*s));
}

void
nfa_scratch_reset(nfa_scratch *s)
{
	scratch_chunk *c, *next, **tail = &s->first->next;
	size_t         kept = 0;

	s->first->used = 0;
	for (c = s->first->next; c != NULL; c = next) {
		next = c->next;
		if (kept + c->size <= SCRATCH_KEEP) {
			kept += c->size;
			c->used = 0;
			*tail   = c;
			tail    = &c->next;
		} else {
			cep_free(c, sizeof(*c) + c->size);
		}
	}
	*tail  = NULL;
	s->cur = s->first;
}

/* scratch_alloc returns n bytes from the scratch, or NULL when memory is
 * short. */
static char *
scratch_alloc(nfa_scratch *s, size_t n)
{
	scratch_chunk *c = s->cur, *nc;
	size_t         size;

	for (;;) {
		if (c->size - c->used >= n) {
			char *p = c->data + c->used;
			c->used += n;
			s->cur = c;
			return (p);
		}
		if (c->next == NULL) {
			break;
		}
		c = c->next;
	}
	size = c->size * 2 > SCRATCH_KEEP ? SCRATCH_KEEP : c->size * 2;
	if ((nc = chunk_new(n > size ? n : size)) == NULL) {
		return (NULL);
	}
	c->next  = nc;
	nc->used = n;
	s->cur   = nc;
	return (nc->data);
}

/* A position in the scratch, to give back what one test used. */
typedef struct scratch_mark {
	scratch_chunk *cur;
	size_t         used;
} scratch_mark;

static inline scratch_mark
scratch_mark_get(const nfa_scratch *s)
{
	scratch_mark m = { s->cur, s->cur->used };
	return (m);
}

static inline void
scratch_release(nfa_scratch *s, scratch_mark m)
{
	scratch_chunk *c;

	if (s->cur != m.cur) {
		for (c = m.cur->next; c != s->cur; c = c->next) {
			c->used = 0;
		}
		s->cur->used = 0;
		s->cur       = m.cur;
	}
	m.cur->used = m.used;
}

/*
 * Operations
 */

/* Results are written field by field: building a cep_val on the stack and
 * copying it made a byte store feed a 16-byte load, a store-forwarding
 * stall that cost about 10 ns per comparison in bench_expr. */
static inline void
set_bool(cep_val *v, int b)
{
	v->type = CEP_T_BOOL;
	v->len  = 0;
	v->u.b  = b;
}

static inline void
set_int(cep_val *v, int64_t i)
{
	v->type = CEP_T_INT;
	v->len  = 0;
	v->u.i  = i;
}

static inline void
set_double(cep_val *v, double d)
{
	v->type = CEP_T_DOUBLE;
	v->len  = 0;
	v->u.d  = d;
}

static inline void
set_null(cep_val *v)
{
	v->type = CEP_T_NULL;
	v->len  = 0;
	v->u.i  = 0;
}

/* concat joins two strings into the scratch. */
static cep_err
concat(const cep_val *a, const cep_val *b, cep_val *out, nfa_scratch *s)
{
	size_t n = (size_t) a->len + b->len;
	char  *p;

	if (b->len == 0) {
		*out = *a;
		return (CEP_OK);
	}
	if (a->len == 0) {
		*out = *b;
		return (CEP_OK);
	}
	if (n >= UINT32_MAX) {
		return (CEP_ELIMIT);
	}
	if ((p = scratch_alloc(s, n + 1)) == NULL) {
		return (CEP_ENOMEM);
	}
	memcpy(p, a->u.s, a->len);
	memcpy(p + a->len, b->u.s, b->len);
	p[n] = '\0';
	*out = cep_val_str(p, n);
	return (CEP_OK);
}

static cep_err
arith(int op, const cep_val *a, const cep_val *b, cep_val *out, nfa_scratch *s)
{
	double x, y;

	if (a->type == CEP_T_NULL || b->type == CEP_T_NULL) {
		set_null(out);
		return (CEP_OK);
	}
	if (a->type == CEP_T_INT && b->type == CEP_T_INT) {
		int64_t i = a->u.i, j = b->u.i, r;
		switch (op) {
		case NFA_OP_ADD:
			if (__builtin_add_overflow(i, j, &r)) {
				set_double(out, (double) i + (double) j);
			} else {
				set_int(out, r);
			}
			return (CEP_OK);
		case NFA_OP_SUB:
			if (__builtin_sub_overflow(i, j, &r)) {
				set_double(out, (double) i - (double) j);
			} else {
				set_int(out, r);
			}
			return (CEP_OK);
		case NFA_OP_MUL:
			if (__builtin_mul_overflow(i, j, &r)) {
				set_double(out, (double) i * (double) j);
			} else {
				set_int(out, r);
			}
			return (CEP_OK);
		case NFA_OP_DIV:
			if (j == 0) {
				set_null(out);
			} else if (i == INT64_MIN && j == -1) {
				set_double(out, -(double) INT64_MIN);
			} else {
				set_int(out, i / j);
			}
			return (CEP_OK);
		default: /* MOD */
			if (j == 0) {
				set_null(out);
			} else {
				set_int(out, j == -1 ? 0 : i % j);
			}
			return (CEP_OK);
		}
	}
	if (cep_val_is_number(a) && cep_val_is_number(b)) {
		x = cep_val_as_double(a);
		y = cep_val_as_double(b);
		switch (op) {
		case NFA_OP_ADD:
			set_double(out, x + y);
			break;
		case NFA_OP_SUB:
			set_double(out, x - y);
			break;
		case NFA_OP_MUL:
			set_double(out, x * y);
			break;
		case NFA_OP_DIV:
			if (y == 0.0) {
				set_null(out);
			} else {
				set_double(out, x / y);
			}
			break;
		default:
			if (y == 0.0) {
				set_null(out);
			} else {
				set_double(out, fmod(x, y));
			}
			break;
		}
		return (CEP_OK);
	}
	if (op == NFA_OP_ADD && a->type == CEP_T_STR && b->type == CEP_T_STR) {
		return (concat(a, b, out, s));
	}
	return (CEP_ETYPE);
}

static inline int
str_cmp(const cep_val *a, const cep_val *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int    c = memcmp(a->u.s, b->u.s, n);

	if (c != 0) {
		return (c);
	}
	return (a->len < b->len ? -1 : a->len > b->len);
}

/* num_cmp orders two numbers, int and double exactly (an int beyond 2^53
 * goes to cep_val_compare, which does not round it); 0 for a NaN. */
static inline int
num_cmp(const cep_val *a, const cep_val *b, int *c)
{
	const double lim = 9007199254740992.0; /* 2^53 */
	double       x, y;

	if (a->type == CEP_T_DOUBLE && b->type == CEP_T_DOUBLE) {
		x = a->u.d;
		y = b->u.d;
	} else {
		int64_t i = a->type == CEP_T_INT ? a->u.i : b->u.i;
		if ((double) i >= lim || (double) i <= -lim) {
			return (cep_val_compare(a, b, c) == CEP_OK);
		}
		x = cep_val_as_double(a);
		y = cep_val_as_double(b);
	}
	if (isnan(x) || isnan(y)) {
		return (0);
	}
	*c = (x > y) - (x < y);
	return (1);
}

/* bytes_eq compares n bytes; short strings (field values, mostly) are
 * compared in line rather than through a call to memcmp. */
static inline int
bytes_eq(const char *a, const char *b, size_t n)
{
	if (n > 16) {
		return (memcmp(a, b, n) == 0);
	}
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i]) {
			return (0);
		}
	}
	return (1);
}

/* same is cep_val_equal with the common cases in line. */
static inline int
same(const cep_val *a, const cep_val *b)
{
	if (a->type == CEP_T_STR) {
		return (b->type == CEP_T_STR && a->len == b->len &&
		    bytes_eq(a->u.s, b->u.s, a->len));
	}
	if (a->type == CEP_T_INT && b->type == CEP_T_INT) {
		return (a->u.i == b->u.i);
	}
	return (cep_val_equal(a, b));
}

/* order turns a three-way result c into the outcome of EQ..GE. */
static inline int
order(int op, int c)
{
	switch (op) {
	case NFA_OP_EQ:
		return (c == 0);
	case NFA_OP_NE:
		return (c != 0);
	case NFA_OP_LT:
		return (c < 0);
	case NFA_OP_LE:
		return (c <= 0);
	case NFA_OP_GT:
		return (c > 0);
	default:
		return (c >= 0);
	}
}

/* compare applies EQ..GE (see the file head). */
static inline cep_err
compare(int op, const cep_val *a, const cep_val *b, cep_val *out)
{
	int c;

	if (a->type == CEP_T_NULL || b->type == CEP_T_NULL) {
		set_bool(out, 0);
		return (CEP_OK);
	}
	if (a->type == CEP_T_INT && b->type == CEP_T_INT) {
		c = (a->u.i > b->u.i) - (a->u.i < b->u.i);
	} else if (a->type == CEP_T_STR && b->type == CEP_T_STR) {
		if (op == NFA_OP_EQ || op == NFA_OP_NE) {
			int eq = a->len == b->len &&
			    bytes_eq(a->u.s, b->u.s, a->len);
			set_bool(out, op == NFA_OP_EQ ? eq : !eq);
			return (CEP_OK);
		}
		c = str_cmp(a, b);
	} else if (op == NFA_OP_EQ || op == NFA_OP_NE) {
		int eq = cep_val_equal(a, b);
		set_bool(out, op == NFA_OP_EQ ? eq : !eq);
		return (CEP_OK);
	} else if (cep_val_is_number(a) && cep_val_is_number(b)) {
		if (!num_cmp(a, b, &c)) {
			set_bool(out, 0); /* NaN */
			return (CEP_OK);
		}
	} else {
		return (CEP_ETYPE);
	}
	set_bool(out, order(op, c));
	return (CEP_OK);
}

/* find_bytes says whether the n bytes at p occur in the m bytes at s. */
static int
find_bytes(const char *s, size_t m, const char *p, size_t n)
{
	const char *end;

	if (n == 0) {
		return (1);
	}
	if (n > m) {
		return (0);
	}
	end = s + (m - n);
	while (s <= end) {
		const char *c = memchr(s, p[0], (size_t) (end - s) + 1);
		if (c == NULL) {
			return (0);
		}
		if (memcmp(c + 1, p + 1, n - 1) == 0) {
			return (1);
		}
		s = c + 1;
	}
	return (0);
}

/* strings applies starts_with, ends_with, contains. */
static cep_err
strings(int op, const cep_val *a, const cep_val *b, cep_val *out)
{
	int r;

	if (a->type == CEP_T_NULL || b->type == CEP_T_NULL) {
		set_null(out);
		return (CEP_OK);
	}
	if (a->type != CEP_T_STR || b->type != CEP_T_STR) {
		return (CEP_ETYPE);
	}
	if (b->len > a->len) {
		r = 0;
	} else if (op == NFA_OP_STARTS) {
		r = memcmp(a->u.s, b->u.s, b->len) == 0;
	} else if (op == NFA_OP_ENDS) {
		r = memcmp(a->u.s + a->len - b->len, b->u.s, b->len) == 0;
	} else {
		r = find_bytes(a->u.s, a->len, b->u.s, b->len);
	}
	set_bool(out, r);
	return (CEP_OK);
}

cep_err
nfa__ex_binary(
    int op, const cep_val *a, const cep_val *b, cep_val *out, nfa_scratch *s)
{
	switch (op) {
	case NFA_OP_ADD:
	case NFA_OP_SUB:
	case NFA_OP_MUL:
	case NFA_OP_DIV:
	case NFA_OP_MOD:
		return (arith(op, a, b, out, s));
	case NFA_OP_EQ:
	case NFA_OP_NE:
	case NFA_OP_LT:
	case NFA_OP_LE:
	case NFA_OP_GT:
	case NFA_OP_GE:
		return (compare(op, a, b, out));
	case NFA_OP_STARTS:
	case NFA_OP_ENDS:
	case NFA_OP_CONTAINS:
		return (strings(op, a, b, out));
	default:
		return (CEP_EINVAL);
	}
}

/* utf8_count is the number of code points of n bytes (continuation bytes
 * are not counted). */
static uint32_t
utf8_count(const char *s, uint32_t n)
{
	uint32_t c = 0;

	for (uint32_t i = 0; i < n; i++) {
		c += ((unsigned char) s[i] & 0xc0) != 0x80;
	}
	return (c);
}

static cep_err
lower(const cep_val *a, cep_val *out, nfa_scratch *s)
{
	uint32_t i;
	char    *p;

	for (i = 0; i < a->len; i++) {
		if (a->u.s[i] >= 'A' && a->u.s[i] <= 'Z') {
			break;
		}
	}
	if (i == a->len) {
		*out = *a; /* already lowercase: no copy */
		return (CEP_OK);
	}
	if ((p = scratch_alloc(s, (size_t) a->len + 1)) == NULL) {
		return (CEP_ENOMEM);
	}
	memcpy(p, a->u.s, i);
	for (; i < a->len; i++) {
		char c = a->u.s[i];
		p[i]   = c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
	}
	p[a->len] = '\0';
	*out      = cep_val_str(p, a->len);
	return (CEP_OK);
}

cep_err
nfa__ex_unary(int op, const cep_val *a, cep_val *out, nfa_scratch *s)
{
	switch (op) {
	case NFA_OP_ISNULL:
		set_bool(out, a->type == CEP_T_NULL);
		return (CEP_OK);
	case NFA_OP_NOTNULL:
		set_bool(out, a->type != CEP_T_NULL);
		return (CEP_OK);
	case NFA_OP_NOT:
	case NFA_OP_TOBOOL:
		if (a->type == CEP_T_NULL) {
			set_bool(out, op == NFA_OP_NOT);
		} else if (a->type == CEP_T_BOOL) {
			set_bool(out, op == NFA_OP_NOT ? !a->u.b : a->u.b);
		} else {
			return (CEP_ETYPE);
		}
		return (CEP_OK);
	default:
		break;
	}
	if (a->type == CEP_T_NULL) {
		set_null(out);
		return (CEP_OK);
	}
	switch (op) {
	case NFA_OP_NEG:
	case NFA_OP_ABS:
		if (a->type == CEP_T_INT) {
			if (a->u.i == INT64_MIN) {
				set_double(out, -(double) INT64_MIN);
			} else {
				set_int(out,
				    op == NFA_OP_NEG || a->u.i < 0 ? -a->u.i
				                                   : a->u.i);
			}
			return (CEP_OK);
		}
		if (a->type == CEP_T_DOUBLE) {
			set_double(
			    out, op == NFA_OP_NEG ? -a->u.d : fabs(a->u.d));
			return (CEP_OK);
		}
		return (CEP_ETYPE);
	case NFA_OP_LEN:
		if (a->type == CEP_T_STR) {
			set_int(out, utf8_count(a->u.s, a->len));
		} else if (a->type == CEP_T_MAP || a->type == CEP_T_ARRAY) {
			set_int(out, a->len);
		} else {
			return (CEP_ETYPE);
		}
		return (CEP_OK);
	case NFA_OP_LOWER:
		if (a->type != CEP_T_STR) {
			return (CEP_ETYPE);
		}
		return (lower(a, out, s));
	default:
		return (CEP_EINVAL);
	}
}

/* copy_val copies a value member by member, for the same reason. */
static inline void
copy_val(cep_val *d, const cep_val *v)
{
	d->type = v->type;
	d->len  = v->len;
	switch ((cep_type) v->type) {
	case CEP_T_BOOL:
		d->u.b = v->u.b;
		break;
	case CEP_T_DOUBLE:
		d->u.d = v->u.d;
		break;
	case CEP_T_STR:
		d->u.s = v->u.s;
		break;
	case CEP_T_MAP:
	case CEP_T_ARRAY:
		d->u.c.ev  = v->u.c.ev;
		d->u.c.off = v->u.c.off;
		break;
	case CEP_T_NULL:
	case CEP_T_INT:
		d->u.i = v->u.i;
		break;
	}
}

/*
 * Fields and aggregates
 */

static inline void
load_path(const cep_event *ev, const cep_sym *path, uint32_t n, cep_val *out)
{
	if (ev == NULL) {
		set_null(out);
	} else if (n == 1) {
		cep_slot_val(ev, cep_event_find(ev, path[0]), out);
	} else {
		cep_slot_val(ev, cep_event_find_path(ev, path, n), out);
	}
}

/* add_num adds v to a sum kept exact in an int64 until it overflows or
 * meets a double. */
typedef struct num_sum {
	int64_t i;
	double  d;
	int     is_double;
} num_sum;

static void
add_num(num_sum *s, const cep_val *v)
{
	int64_t r;

	if (!s->is_double && v->type == CEP_T_INT &&
	    !__builtin_add_overflow(s->i, v->u.i, &r)) {
		s->i = r;
		return;
	}
	if (!s->is_double) {
		s->is_double = 1;
		s->d         = (double) s->i;
	}
	s->d += cep_val_as_double(v);
}

/* aggregate computes COUNT..LAST over the events of step pc->a. */
static cep_err
aggregate(const nfa_expr *e, const nfa_ex_ins *pc, const nfa_eval_ctx *ctx,
    cep_val *out)
{
	const cep_event *const *evs  = NULL;
	const cep_sym          *path = e->paths + pc->b;
	size_t                  n = 0, seen = 0;
	num_sum                 sum = { 0, 0.0, 0 };
	cep_val                 v, best = cep_val_null();
	cep_err                 rv;

	if (ctx->step_events != NULL &&
	    (rv = ctx->step_events(ctx->arg, pc->a, &evs, &n)) != CEP_OK) {
		return (rv);
	}
	if (evs == NULL) {
		n = 0;
	}
	switch (pc->op) {
	case NFA_OP_COUNT:
		set_int(out, (int64_t) n);
		return (CEP_OK);
	case NFA_OP_FIRST:
	case NFA_OP_LAST:
		if (n == 0) {
			set_null(out);
		} else {
			load_path(evs[pc->op == NFA_OP_FIRST ? 0 : n - 1],
			    path, pc->c, out);
		}
		return (CEP_OK);
	default:
		break;
	}
	for (size_t i = 0; i < n; i++) {
		load_path(evs[i], path, pc->c, &v);
		if (v.type == CEP_T_NULL) {
			continue;
		}
		if (pc->op == NFA_OP_SUM || pc->op == NFA_OP_AVG) {
			if (!cep_val_is_number(&v)) {
				return (CEP_ETYPE);
			}
			add_num(&sum, &v);
		} else { /* MIN, MAX */
			int c;
			if (!cep_val_is_number(&v) && v.type != CEP_T_STR) {
				return (CEP_ETYPE);
			}
			if (seen == 0) {
				best = v;
			} else if (cep_val_compare(&v, &best, &c) != CEP_OK) {
				return (CEP_ETYPE);
			} else if (pc->op == NFA_OP_MIN ? c < 0 : c > 0) {
				best = v;
			}
		}
		seen++;
	}
	switch (pc->op) {
	case NFA_OP_SUM:
		if (sum.is_double) {
			set_double(out, sum.d);
		} else {
			set_int(out, sum.i);
		}
		break;
	case NFA_OP_AVG:
		if (seen == 0) {
			set_null(out);
		} else {
			set_double(out,
			    (sum.is_double ? sum.d : (double) sum.i) /
			        (double) seen);
		}
		break;
	default:
		*out = best;
		break;
	}
	return (CEP_OK);
}

/* match runs a regex over a string (unanchored search). */
static cep_err
match(const nfa_expr *e, uint32_t regex, const cep_val *a, cep_val *out,
    nfa_scratch *s)
{
	int rc;

	if (a->type == CEP_T_NULL) {
		set_null(out);
		return (CEP_OK);
	}
	if (a->type != CEP_T_STR) {
		return (CEP_ETYPE);
	}
	rc = pcre2_match(
	    e->regex[regex], (PCRE2_SPTR) a->u.s, a->len, 0, 0, s->md, NULL);
	if (rc >= 0 || rc == PCRE2_ERROR_NOMATCH) {
		set_bool(out, rc >= 0);
		return (CEP_OK);
	}
	return (rc == PCRE2_ERROR_NOMEMORY ? CEP_ENOMEM : CEP_ELIMIT);
}

/*
 * The machine
 */

/* run executes the program; the value left on the stack goes to *res.
 * The stack is a fixed array: the compiler computed the program's depth
 * (max_stack) and nfa__ex_verify checked it fits, so no push is checked
 * here and nothing is allocated. */
static cep_err
run(const nfa_expr *e, const nfa_eval_ctx *ctx, cep_val *res)
{
	cep_val           stack[NFA_EX_STACK_MAX];
	cep_val          *sp = stack; /* next free slot */
	const nfa_ex_ins *pc = e->code;
	const cep_event  *ev = ctx->event;
	nfa_scratch      *s  = ctx->scratch;
	cep_err           rv = CEP_OK;

	for (;; pc++) {
		switch ((nfa_ex_op) pc->op) {
		/* Opcode: HALT
		 * Pop the result into *res and stop. */
		case NFA_OP_HALT:
			copy_val(res, &sp[-1]);
			return (CEP_OK);

		/* Opcode: CONST a
		 * Push constant a. */
		case NFA_OP_CONST:
			*sp++ = e->consts[pc->a];
			break;

		/* Opcode: FIELD a
		 * Push the top-level field whose symbol is a (null when
		 * missing or when there is no event). */
		case NFA_OP_FIELD:
			if (ev == NULL) {
				set_null(sp++);
			} else {
				cep_slot_val(
				    ev, cep_event_find(ev, pc->a), sp++);
			}
			break;

		/* Opcode: PATH a c
		 * Push the field reached through the c names at paths[a]
		 * (null when a name is missing or a value on the way is not
		 * a map). */
		case NFA_OP_PATH:
			load_path(ev, e->paths + pc->a, pc->c, sp++);
			break;

		/* Opcode: FCMP k a b c
		 * Push field a (as FIELD) compared by k (EQ..GE) with
		 * constant b: FIELD, CONST and the comparison in one
		 * dispatch, for the common `type == "auth"`.  c != 0 when b
		 * is an int that a double represents exactly.  With the
		 * fast paths below `type == "auth" and amount < 2` went
		 * from about 31 to 17 ns (bench_expr). */
		case NFA_OP_FCMP: {
			const cep_slot *sl =
			    ev != NULL ? cep_event_find(ev, pc->a) : NULL;
			const cep_val *k = &e->consts[pc->b];
			cep_val        f;
			/* Same types compare straight from the slot. */
			if (sl != NULL && sl->type == k->type) {
				if (k->type == CEP_T_STR &&
				    (pc->k == NFA_OP_EQ ||
				        pc->k == NFA_OP_NE)) {
					int eq = sl->len == k->len &&
					    bytes_eq(cep_event_str(ev, sl),
					        k->u.s, k->len);
					set_bool(sp++,
					    pc->k == NFA_OP_EQ ? eq : !eq);
					break;
				}
				if (k->type == CEP_T_INT) {
					set_bool(sp++,
					    order(pc->k,
					        (sl->u.i > k->u.i) -
					            (sl->u.i < k->u.i)));
					break;
				}
			}
			/* A double field against a number (amount < 2): the
			 * compiler made sure an int constant is exact as a
			 * double. */
			if (sl != NULL && sl->type == CEP_T_DOUBLE &&
			    (k->type == CEP_T_DOUBLE || pc->c != 0)) {
				double x = sl->u.d, y = cep_val_as_double(k);
				set_bool(sp++,
				    !isnan(x) && !isnan(y) &&
				        order(pc->k, (x > y) - (x < y)));
				break;
			}
			cep_slot_val(ev, sl, &f);
			if ((rv = compare(pc->k, &f, k, sp++)) != CEP_OK) {
				return (rv);
			}
			break;
		}

		/* Opcode: NEG
		 * Negate the number on top (null stays null). */
		case NFA_OP_NEG:
			if (sp[-1].type == CEP_T_INT &&
			    sp[-1].u.i != INT64_MIN) {
				sp[-1].u.i = -sp[-1].u.i;
				break;
			}
			goto unary;

		/* Opcode: NOT
		 * Replace the bool on top by its negation; null is false,
		 * so it becomes true. */
		case NFA_OP_NOT:
		/* Opcode: TOBOOL
		 * Make the value on top a bool: null is false; a bool stays;
		 * anything else is a type error (the right side of and/or). */
		case NFA_OP_TOBOOL:
		/* Opcode: ISNULL
		 * Replace the top by whether it is null (x == null). */
		case NFA_OP_ISNULL:
		/* Opcode: NOTNULL
		 * Replace the top by whether it is not null (x != null). */
		case NFA_OP_NOTNULL:
		/* Opcode: ABS
		 * Absolute value of a number; abs(INT64_MIN) is a double. */
		case NFA_OP_ABS:
		/* Opcode: LEN
		 * Code points of a string, entries of an array or map. */
		case NFA_OP_LEN:
		/* Opcode: LOWER
		 * ASCII lowercase of a string, copied to the scratch only
		 * when something changes. */
		case NFA_OP_LOWER:
		unary:
			if ((rv = nfa__ex_unary(
			         pc->op, &sp[-1], &sp[-1], s)) != CEP_OK) {
				return (rv);
			}
			break;

		/* Opcode: ADD
		 * Pop b and a, push a + b: numbers add, strings
		 * concatenate into the scratch. */
		case NFA_OP_ADD:
		/* Opcode: SUB
		 * Pop b and a, push a - b. */
		case NFA_OP_SUB:
		/* Opcode: MUL
		 * Pop b and a, push a * b. */
		case NFA_OP_MUL:
			if (sp[-2].type == CEP_T_INT &&
			    sp[-1].type == CEP_T_INT) {
				int64_t r;
				int     o = pc->op == NFA_OP_ADD
				        ? __builtin_add_overflow(
				              sp[-2].u.i, sp[-1].u.i, &r)
				        : pc->op == NFA_OP_SUB
				        ? __builtin_sub_overflow(
				              sp[-2].u.i, sp[-1].u.i, &r)
				        : __builtin_mul_overflow(
				              sp[-2].u.i, sp[-1].u.i, &r);
				if (!o) {
					sp[-2].u.i = r;
					sp--;
					break;
				}
			} else if (cep_val_is_number(&sp[-2]) &&
			    cep_val_is_number(&sp[-1])) {
				double x = cep_val_as_double(&sp[-2]);
				double y = cep_val_as_double(&sp[-1]);
				set_double(&sp[-2],
				    pc->op == NFA_OP_ADD       ? x + y
				        : pc->op == NFA_OP_SUB ? x - y
				                               : x * y);
				sp--;
				break;
			}
			goto binary;

		/* Opcode: DIV
		 * Pop b and a, push a / b (ints truncate; by zero: null). */
		case NFA_OP_DIV:
		/* Opcode: MOD
		 * Pop b and a, push a % b (sign of a; fmod for doubles; by
		 * zero: null). */
		case NFA_OP_MOD:
		/* Opcode: STARTS
		 * Pop p and s, push whether s starts with p. */
		case NFA_OP_STARTS:
		/* Opcode: ENDS
		 * Pop p and s, push whether s ends with p. */
		case NFA_OP_ENDS:
		/* Opcode: CONTAINS
		 * Pop p and s, push whether p occurs in s. */
		case NFA_OP_CONTAINS:
		binary:
			if ((rv = nfa__ex_binary(pc->op, &sp[-2], &sp[-1],
			         &sp[-2], s)) != CEP_OK) {
				return (rv);
			}
			sp--;
			break;

		/* Opcode: EQ
		 * Pop b and a, push a == b (false with a null operand or
		 * different types; 1 == 1.0). */
		case NFA_OP_EQ:
		/* Opcode: NE
		 * Pop b and a, push a != b (false with a null operand). */
		case NFA_OP_NE:
		/* Opcode: LT
		 * Pop b and a, push a < b: numbers or strings (bytewise);
		 * false with null; other types are a type error. */
		case NFA_OP_LT:
		/* Opcode: LE
		 * Pop b and a, push a <= b. */
		case NFA_OP_LE:
		/* Opcode: GT
		 * Pop b and a, push a > b. */
		case NFA_OP_GT:
		/* Opcode: GE
		 * Pop b and a, push a >= b. */
		case NFA_OP_GE:
			if ((rv = compare(pc->op, &sp[-2], &sp[-1],
			         &sp[-2])) != CEP_OK) {
				return (rv);
			}
			sp--;
			break;

		/* Opcode: IN a b
		 * Replace the top by whether it equals one of the b
		 * constants at a (false when it is null). */
		case NFA_OP_IN:
		/* Opcode: NOTIN a b
		 * Replace the top by whether it equals none of them (false
		 * when it is null, like every comparison with null). */
		case NFA_OP_NOTIN: {
			int found = 0;
			if (sp[-1].type == CEP_T_NULL) {
				set_bool(&sp[-1], 0);
				break;
			}
			for (uint32_t i = 0; i < pc->b && !found; i++) {
				found = same(&sp[-1], &e->consts[pc->a + i]);
			}
			set_bool(
			    &sp[-1], pc->op == NFA_OP_IN ? found : !found);
			break;
		}

		/* Opcode: ANDJ a
		 * Pop the left side of `and`.  False or null: push false
		 * and jump to a.  True: go on to the right side.  Other
		 * values are a type error. */
		case NFA_OP_ANDJ:
			sp--;
			if (sp->type == CEP_T_BOOL && sp->u.b) {
				break;
			}
			if (sp->type != CEP_T_BOOL && sp->type != CEP_T_NULL) {
				return (CEP_ETYPE);
			}
			set_bool(sp++, 0);
			pc = e->code + pc->a - 1;
			break;

		/* Opcode: ORJ a
		 * Pop the left side of `or`.  True: push true and jump to a.
		 * False or null: go on to the right side.  Other values are
		 * a type error. */
		case NFA_OP_ORJ:
			sp--;
			if (sp->type == CEP_T_BOOL && sp->u.b) {
				set_bool(sp++, 1);
				pc = e->code + pc->a - 1;
				break;
			}
			if (sp->type != CEP_T_BOOL && sp->type != CEP_T_NULL) {
				return (CEP_ETYPE);
			}
			break;

		/* Opcode: MATCH a
		 * Replace the string on top by whether regex a finds a match
		 * in it (unanchored), using the scratch's match data. */
		case NFA_OP_MATCH:
			if ((rv = match(e, pc->a, &sp[-1], &sp[-1], s)) !=
			    CEP_OK) {
				return (rv);
			}
			break;

		/* Opcode: COUNT a
		 * Push the number of events step a has accepted. */
		case NFA_OP_COUNT:
		/* Opcode: SUM a b c
		 * Push the sum of field paths[b..b+c) over step a's events,
		 * skipping nulls: an int while exact, else a double; 0 over
		 * nothing.  A non-number is a type error. */
		case NFA_OP_SUM:
		/* Opcode: AVG a b c
		 * Push the mean (a double) of the non-null values, or null. */
		case NFA_OP_AVG:
		/* Opcode: MIN a b c
		 * Push the least non-null value (numbers, or all strings),
		 * or null. */
		case NFA_OP_MIN:
		/* Opcode: MAX a b c
		 * Push the greatest non-null value, or null. */
		case NFA_OP_MAX:
		/* Opcode: FIRST a b c
		 * Push the field of step a's first event (null if none). */
		case NFA_OP_FIRST:
		/* Opcode: LAST a b c
		 * Push the field of step a's last event (null if none). */
		case NFA_OP_LAST:
			if ((rv = aggregate(e, pc, ctx, sp++)) != CEP_OK) {
				return (rv);
			}
			break;

		case NFA_OP__COUNT:
		default:
			/* nfa__ex_verify accepted the program. */
			assert(0 && "bad opcode");
			return (CEP_EINTERNAL);
		}
	}
}

int
nfa_expr_test(const nfa_expr *e, const nfa_eval_ctx *ctx)
{
	scratch_mark m;
	cep_val      v;
	cep_err      rv;

	if (e->is_true) {
		return (1);
	}
	assert(ctx->scratch != NULL);
	/* A condition's strings die with it: give their room back. */
	m  = scratch_mark_get(ctx->scratch);
	rv = run(e, ctx, &v);
	scratch_release(ctx->scratch, m);
	return (rv == CEP_OK && v.type == CEP_T_BOOL && v.u.b);
}

cep_err
nfa_expr_eval(const nfa_expr *e, const nfa_eval_ctx *ctx, cep_val *out)
{
	cep_val v;
	cep_err rv;

	assert(ctx->scratch != NULL);
	if ((rv = run(e, ctx, &v)) != CEP_OK) {
		if (rv == CEP_ETYPE) {
			set_null(out);
		}
		return (rv);
	}
	*out = v;
	return (CEP_OK);
}
