/* SPDX-License-Identifier: MIT */
/*
 * json.c: JSON Lines in and out.
 *
 * The reader drives YAJL's callback parser straight into a cep_builder.
 * One yajl handle lives as long as the reader: it accepts several values
 * in a row, so after a good line it is ready for the next one without being
 * reallocated, and the callbacks count the nesting depth to know when the
 * top-level object has closed and to refuse anything after it.  Only a line
 * that ends in an error costs a new handle (yajl 2.1 cannot be reset).
 *
 * YAJL checks UTF-8 only structurally and decodes \u escapes leniently, so
 * the callbacks refuse what it lets through: overlong forms, encoded
 * surrogates and code points past U+10FFFF in the raw text, and unpaired
 * surrogate escapes.  Numbers arrive as text and are classified here.
 *
 * The writer escapes by hand: it needs no state and allocates nothing but
 * the output buffer's growth.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl_parse.h>

#include "cep/alloc.h"
#include "cep/codec.h"

#define MSG_SIZE 160
#define NUM_STACK 64 /* number text copied on the stack up to this size */

struct cep_json_reader {
	yajl_handle  h;    /* NULL after an error, until the next parse */
	cep_builder *b;    /* the builder of the parse under way */
	const char  *text; /* the line under way */
	size_t       len;
	uint32_t     depth;     /* containers open */
	uint8_t      done;      /* the top-level object has closed */
	uint8_t      high;      /* the line holds bytes >= 0x80 */
	uint8_t      finishing; /* inside yajl_complete_parse */
	size_t       end;       /* offset just past the top-level object */
	cep_err      err;       /* why a callback stopped the parse */
	cep_buf      num;       /* long number text, NUL-terminated */
	char         msg[MSG_SIZE];
};

/* ---- reader: callbacks ------------------------------------------------- */

/* column_at turns the parse offset of the end of a token of toklen bytes
 * into the 1-based column of its first byte.  While finishing, yajl parses
 * a private blank, so the token is the one that ended the line. */
static size_t
column_at(const cep_json_reader *r, size_t toklen)
{
	size_t end = r->finishing ? r->len : yajl_get_bytes_consumed(r->h);

	if (end > r->len) {
		end = r->len;
	}
	return (end >= toklen ? end - toklen + 1 : 1);
}

/* stop records why a callback stops the parse; yajl then returns
 * yajl_status_client_canceled. */
static int
stop(cep_json_reader *r, cep_err err, size_t col, const char *what)
{
	r->err = err;
	snprintf(r->msg, sizeof(r->msg), "column %zu: %s", col, what);
	return (0);
}

/* build_failed reports a builder error; opening says the failed call
 * opened a container, whose only limit is the depth. */
static int
build_failed(cep_json_reader *r, cep_err rv, size_t col, int opening)
{
	char     what[64];
	uint32_t max_depth, max_bytes;

	cep_builder_limits(r->b, &max_depth, &max_bytes);
	if (rv == CEP_ELIMIT && opening) {
		snprintf(what, sizeof(what), "nesting deeper than %u levels",
		    (unsigned) max_depth);
	} else if (rv == CEP_ELIMIT) {
		snprintf(what, sizeof(what), "event larger than %u bytes",
		    (unsigned) max_bytes);
	} else {
		snprintf(what, sizeof(what), "%s", cep_strerror(rv));
	}
	return (stop(r, rv, col, what));
}

/* at_top refuses a value outside the top-level object. */
static int
at_top(cep_json_reader *r, size_t toklen)
{
	return (stop(r, CEP_EPARSE, column_at(r, toklen),
	    r->done ? "trailing data after the object" : "not a JSON object"));
}

/* raw_start finds where the string token that yajl has just decoded
 * begins: the token ends at the parse offset, and its opening quote is the
 * nearest quote before that which no backslash escapes.  Returns the
 * offset of the opening quote, or len when it cannot be found. */
static size_t
raw_start(const cep_json_reader *r)
{
	size_t end = yajl_get_bytes_consumed(r->h);

	if (r->finishing || end < 2 || end > r->len ||
	    r->text[end - 1] != '"') {
		return (r->len);
	}
	for (size_t q = end - 1; q-- > 0;) {
		size_t bs = 0;
		if (r->text[q] != '"') {
			continue;
		}
		while (bs < q && r->text[q - 1 - bs] == '\\') {
			bs++;
		}
		if (bs % 2 == 0) {
			return (q);
		}
	}
	return (r->len);
}

/* hex4 reads four hex digits. */
static unsigned
hex4(const char *s)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned c = (unsigned char) s[i];
		v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return (v);
}

/* surrogates_paired checks the \u escapes of a raw string body: every high
 * surrogate is followed by a low one, and no low one stands alone.  (yajl
 * turns such mistakes into '?' or wrong characters.)  The lexer has already
 * checked that each \u has four hex digits. */
static int
surrogates_paired(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned u;
		if (s[i] != '\\') {
			i++;
			continue;
		}
		if (i + 1 < n && s[i + 1] != 'u') {
			i += 2;
			continue;
		}
		if (i + 6 > n) {
			return (0);
		}
		u = hex4(s + i + 2);
		i += 6;
		if (u >= 0xdc00 && u <= 0xdfff) {
			return (0);
		}
		if (u >= 0xd800 && u <= 0xdbff) {
			if (i + 6 > n || s[i] != '\\' || s[i + 1] != 'u') {
				return (0);
			}
			u = hex4(s + i + 2);
			if (u < 0xdc00 || u > 0xdfff) {
				return (0);
			}
			i += 6;
		}
	}
	return (1);
}

/* check_string_slow refuses strings (and keys) that are not valid UTF-8.
 * A string that yajl returns outside the line was decoded from escapes, so
 * its source is checked for unpaired surrogates; raw bytes need checking
 * only when the line holds non-ASCII bytes at all. */
static int
check_string_slow(cep_json_reader *r, const unsigned char *s, size_t len)
{
	size_t off = (size_t) ((uintptr_t) s - (uintptr_t) r->text);

	if (off > r->len) {
		size_t start = raw_start(r);
		if (start >= r->len) {
			return (stop(r, CEP_EPARSE, r->len + 1,
			    "cannot locate a string"));
		}
		if (!surrogates_paired(r->text + start + 1,
		        yajl_get_bytes_consumed(r->h) - start - 2)) {
			return (stop(r, CEP_EPARSE, start + 1,
			    "invalid string: unpaired surrogate escape"));
		}
		off = start + 1;
	}
	if (r->high && !cep_utf8_valid((const char *) s, len)) {
		return (stop(
		    r, CEP_EPARSE, off, "invalid string: not valid UTF-8"));
	}
	return (1);
}

/* check_string passes the common case, a raw ASCII string, at once. */
static inline int
check_string(cep_json_reader *r, const unsigned char *s, size_t len)
{
	size_t off = (size_t) ((uintptr_t) s - (uintptr_t) r->text);

	if (off <= r->len && !r->high) {
		return (1);
	}
	return (check_string_slow(r, s, len));
}

/* string_column gives the column of the opening quote of the string yajl
 * passed (error path). */
static size_t
string_column(const cep_json_reader *r, const unsigned char *s)
{
	size_t off = (size_t) ((uintptr_t) s - (uintptr_t) r->text);

	return (off <= r->len ? off : raw_start(r) + 1);
}

/* The callbacks feed the builder and return 1, or record why they stop
 * the parse and return 0.  Values outside the top-level object are
 * refused; keys come only inside maps. */

static int
on_null(void *ctx)
{
	cep_json_reader *r = ctx;
	cep_err          rv;

	if (r->depth == 0) {
		return (at_top(r, 4));
	}
	if ((rv = cep_builder_null(r->b)) != CEP_OK) {
		return (build_failed(r, rv, column_at(r, 4), 0));
	}
	return (1);
}

static int
on_boolean(void *ctx, int v)
{
	cep_json_reader *r = ctx;
	cep_err          rv;

	if (r->depth == 0) {
		return (at_top(r, v ? 4 : 5));
	}
	if ((rv = cep_builder_bool(r->b, v)) != CEP_OK) {
		return (build_failed(r, rv, column_at(r, v ? 4 : 5), 0));
	}
	return (1);
}

/* Powers of ten that doubles hold exactly. */
static const double pow10_exact[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
	1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
	1e20, 1e21, 1e22 };

/* slow_double converts number text with strtod, which wants it
 * NUL-terminated.  CEP_ERANGE past the double range (underflow gives 0 or a
 * subnormal, which is fine). */
static cep_err
slow_double(cep_json_reader *r, const char *s, size_t n, double *out)
{
	char        small[NUM_STACK];
	const char *p = small;
	double      d;

	if (n < sizeof(small)) {
		memcpy(small, s, n);
		small[n] = '\0';
	} else {
		cep_buf_reset(&r->num);
		cep_buf_put(&r->num, s, n);
		cep_buf_put_u8(&r->num, 0);
		if (cep_buf_status(&r->num) != CEP_OK) {
			return (CEP_ENOMEM);
		}
		p = (const char *) r->num.data;
	}
	d = strtod(p, NULL);
	if (isinf(d)) {
		return (CEP_ERANGE);
	}
	*out = d;
	return (CEP_OK);
}

/* number classifies JSON number text (already checked by the lexer):
 * integers that fit int64 become ints, everything else a double.  While at
 * most 19 digits are read, m holds them exactly; a decimal whose digits
 * make at most 2^53 and whose power of ten is at most 22 takes Clinger's
 * fast path, where one correctly rounded IEEE operation on two exact
 * operands gives what strtod would (bench_codec: the sample line's 12.34
 * costs a division instead of a strtod call). */
static cep_err
number(cep_json_reader *r, const char *s, size_t n, cep_builder *b)
{
	const char *p = s, *end = s + n, *digits;
	int         neg = 0, exp10 = 0;
	size_t      nd, frac;
	uint64_t    m = 0;
	unsigned    d;
	double      x;
	cep_err     rv;

	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	/* Past 19 digits m wraps; it is then not used. */
	for (digits = p; p < end && (d = (unsigned) (*p - '0')) <= 9; p++) {
		m = m * 10 + d;
	}
	nd = (size_t) (p - digits);
	if (p == end && nd <= 19) {
		if (m <= (uint64_t) INT64_MAX) {
			return (cep_builder_int(
			    b, neg ? -(int64_t) m : (int64_t) m));
		}
		if (neg && m == (uint64_t) INT64_MAX + 1) {
			return (cep_builder_int(b, INT64_MIN));
		}
	}
	if (p < end && *p == '.') {
		for (digits = ++p; p < end && (d = (unsigned) (*p - '0')) <= 9;
		     p++) {
			m = m * 10 + d;
		}
		frac = (size_t) (p - digits);
		nd += frac;
		exp10 = frac > 100000 ? -100000 : -(int) frac;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		int eneg = 0, e = 0;
		if (++p < end && (*p == '+' || *p == '-')) {
			eneg = *p++ == '-';
		}
		for (; p < end && (d = (unsigned) (*p - '0')) <= 9; p++) {
			e = e < 100000 ? e * 10 + (int) d : e;
		}
		exp10 += eneg ? -e : e;
	}
	if (nd <= 19 && m <= (uint64_t) 1 << 53 && exp10 >= -22 &&
	    exp10 <= 22) {
		x = exp10 < 0 ? (double) m / pow10_exact[-exp10]
		              : (double) m * pow10_exact[exp10];
		return (cep_builder_double(b, neg ? -x : x));
	}
	if ((rv = slow_double(r, s, n, &x)) != CEP_OK) {
		return (rv);
	}
	return (cep_builder_double(b, x));
}

static int
on_number(void *ctx, const char *s, size_t n)
{
	cep_json_reader *r = ctx;
	cep_err          rv;

	if (r->depth == 0) {
		return (at_top(r, n));
	}
	if ((rv = number(r, s, n, r->b)) == CEP_ERANGE) {
		return (stop(r, rv, column_at(r, n), "number out of range"));
	}
	if (rv != CEP_OK) {
		return (build_failed(r, rv, column_at(r, n), 0));
	}
	return (1);
}

static int
on_string(void *ctx, const unsigned char *s, size_t len)
{
	cep_json_reader *r = ctx;
	cep_err          rv;

	if (r->depth == 0) {
		return (stop(r, CEP_EPARSE, string_column(r, s),
		    r->done ? "trailing data after the object"
		            : "not a JSON object"));
	}
	if (!check_string(r, s, len)) {
		return (0);
	}
	if ((rv = cep_builder_str(r->b, (const char *) s, len)) != CEP_OK) {
		return (build_failed(r, rv, string_column(r, s), 0));
	}
	return (1);
}

static int
on_map_key(void *ctx, const unsigned char *s, size_t len)
{
	cep_json_reader *r = ctx;
	cep_err          rv;

	if (!check_string(r, s, len)) {
		return (0);
	}
	if ((rv = cep_builder_key(r->b, (const char *) s, len)) != CEP_OK) {
		return (build_failed(r, rv, string_column(r, s), 0));
	}
	return (1);
}

static int
on_start_map(void *ctx)
{
	cep_json_reader *r = ctx;
	cep_err          rv;

	if (r->done) {
		return (at_top(r, 1));
	}
	if ((rv = cep_builder_map_begin(r->b)) != CEP_OK) {
		return (build_failed(r, rv, column_at(r, 1), 1));
	}
	r->depth++;
	return (1);
}

static int
on_start_array(void *ctx)
{
	cep_json_reader *r = ctx;
	cep_err          rv;

	if (r->depth == 0) {
		return (at_top(r, 1));
	}
	if ((rv = cep_builder_array_begin(r->b)) != CEP_OK) {
		return (build_failed(r, rv, column_at(r, 1), 1));
	}
	r->depth++;
	return (1);
}

static int
on_end(void *ctx)
{
	cep_json_reader *r = ctx;
	cep_err          rv;

	if ((rv = cep_builder_end(r->b)) != CEP_OK) {
		return (build_failed(r, rv, column_at(r, 1), 0));
	}
	if (--r->depth == 0) {
		r->done = 1;
		r->end  = yajl_get_bytes_consumed(r->h);
	}
	return (1);
}

static const yajl_callbacks callbacks = {
	.yajl_null        = on_null,
	.yajl_boolean     = on_boolean,
	.yajl_number      = on_number,
	.yajl_string      = on_string,
	.yajl_start_map   = on_start_map,
	.yajl_map_key     = on_map_key,
	.yajl_end_map     = on_end,
	.yajl_start_array = on_start_array,
	.yajl_end_array   = on_end,
};

/* ---- reader ------------------------------------------------------------ */

/* new_handle makes the yajl handle: several values in a row (one per
 * line), UTF-8 checks left on. */
static cep_err
new_handle(cep_json_reader *r)
{
	if ((r->h = yajl_alloc(&callbacks, NULL, r)) == NULL) {
		return (CEP_ENOMEM);
	}
	yajl_config(r->h, yajl_allow_multiple_values, 1);
	return (CEP_OK);
}

cep_json_reader *
cep_json_reader_create(void)
{
	cep_json_reader *r = cep_zalloc(sizeof(*r));

	if (r == NULL) {
		return (NULL);
	}
	cep_buf_init(&r->num);
	if (new_handle(r) != CEP_OK) {
		cep_json_reader_destroy(r);
		return (NULL);
	}
	return (r);
}

void
cep_json_reader_destroy(cep_json_reader *r)
{
	if (r == NULL) {
		return;
	}
	if (r->h != NULL) {
		yajl_free(r->h);
	}
	cep_buf_fini(&r->num);
	cep_free(r, sizeof(*r));
}

const char *
cep_json_reader_error(const cep_json_reader *r)
{
	return (r->msg);
}

/* has_high_bytes says whether any byte is >= 0x80, eight at a time. */
static int
has_high_bytes(const char *s, size_t n)
{
	uint64_t acc = 0, w;
	size_t   i   = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, sizeof(w));
		acc |= w;
	}
	for (; i < n; i++) {
		acc |= (unsigned char) s[i];
	}
	return ((acc & 0x8080808080808080ull) != 0);
}

/* blanks counts the JSON whitespace at the start of s[0..n). */
static size_t
blanks(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n &&
	    (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) {
		i++;
	}
	return (i);
}

/* yajl_failed records yajl's own message, at the column it stopped. */
static cep_err
yajl_failed(cep_json_reader *r)
{
	unsigned char *e;
	size_t         col, n;

	/* yajl's offset is just past the byte it choked on. */
	col = r->finishing ? r->len + 1 : yajl_get_bytes_consumed(r->h);
	col = col == 0 ? 1 : col > r->len + 1 ? r->len + 1 : col;
	e   = yajl_get_error(r->h, 0, (const unsigned char *) r->text, r->len);
	snprintf(r->msg, sizeof(r->msg), "column %zu: %s", col,
	    e != NULL ? (const char *) e : "malformed JSON");
	if (e != NULL) {
		yajl_free_error(r->h, e);
	}
	n = strlen(r->msg);
	while (n > 0 && (r->msg[n - 1] == '\n' || r->msg[n - 1] == ' ')) {
		r->msg[--n] = '\0';
	}
	return (CEP_EPARSE);
}

cep_err
cep_json_parse(
    cep_json_reader *r, const char *text, size_t len, cep_builder *b)
{
	yajl_status st;
	cep_err     rv;

	cep_builder_reset(b);
	r->msg[0] = '\0';
	if (r->h == NULL && new_handle(r) != CEP_OK) {
		snprintf(r->msg, sizeof(r->msg), "out of memory");
		return (CEP_ENOMEM);
	}
	r->b         = b;
	r->text      = text;
	r->len       = len;
	r->depth     = 0;
	r->done      = 0;
	r->finishing = 0;
	r->err       = CEP_OK;
	r->high      = (uint8_t) has_high_bytes(text, len);
	st           = yajl_parse(r->h, (const unsigned char *) text, len);
	if (st == yajl_status_ok) {
		r->finishing = 1;
		st           = yajl_complete_parse(r->h);
	}
	if (st == yajl_status_ok && r->done) {
		/* In multiple-value mode yajl holds back a token cut short by
		 * the end of the text (say, a quote and a letter) instead of
		 * failing, so the text after the object is checked here. */
		size_t tail = r->end + blanks(text + r->end, len - r->end);
		if (tail == len) {
			return (CEP_OK);
		}
		snprintf(r->msg, sizeof(r->msg),
		    "column %zu: trailing data after the object", tail + 1);
		rv = CEP_EPARSE;
	} else if (r->err != CEP_OK) {
		rv = r->err;
	} else if (blanks(text, len) == len) {
		snprintf(r->msg, sizeof(r->msg), "column 1: empty text");
		rv = CEP_EPARSE;
	} else if (st != yajl_status_ok) {
		rv = yajl_failed(r);
	} else {
		snprintf(r->msg, sizeof(r->msg),
		    "column %zu: incomplete JSON text", len + 1);
		rv = CEP_EPARSE;
	}
	/* Start the next line from a fresh handle whatever state this one
	 * was left in. */
	yajl_free(r->h);
	r->h = NULL;
	return (rv);
}

/* ---- writer ------------------------------------------------------------ */

/* utf8_char returns the length of the well-formed UTF-8 character at s
 * (whose first byte is >= 0x80), or 0 when it is not one. */
static size_t
utf8_char(const unsigned char *s, size_t n)
{
	size_t k = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;

	if (k > n || !cep_utf8_valid((const char *) s, k)) {
		return (0);
	}
	return (k);
}

/* put_string writes a quoted string: quotes, backslashes and control
 * characters escaped, other characters as they are; a byte that does not
 * start a well-formed UTF-8 character becomes U+FFFD, so the output stays
 * valid JSON whatever the event holds. */
static void
put_string(cep_buf *out, const char *str, size_t len)
{
	static const char    hexd[] = "0123456789abcdef";
	const unsigned char *s, *end, *run;

	cep_buf_put_u8(out, '"');
	if (len == 0) {
		cep_buf_put_u8(out, '"');
		return;
	}
	s = run = (const unsigned char *) str;
	end     = s + len;
	while (s < end) {
		unsigned c = *s;
		size_t   k;
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			s++;
			continue;
		}
		if (c >= 0x80 && (k = utf8_char(s, (size_t) (end - s))) > 0) {
			s += k;
			continue;
		}
		cep_buf_put(out, run, (size_t) (s - run));
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char) c };
			cep_buf_put(out, esc, sizeof(esc));
		} else if (c < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0', hexd[c >> 4],
				hexd[c & 15] };
			cep_buf_put(out, esc, sizeof(esc));
		} else {
			cep_buf_put(out, "\\ufffd", 6);
		}
		run = ++s;
	}
	cep_buf_put(out, run, (size_t) (s - run));
	cep_buf_put_u8(out, '"');
}

static void
put_int(cep_buf *out, int64_t v)
{
	char     buf[24], *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? 0 - (uint64_t) v : (uint64_t) v;

	do {
		*--p = (char) ('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0) {
		*--p = '-';
	}
	cep_buf_put(out, p, (size_t) (buf + sizeof(buf) - p));
}

static void put_val(cep_buf *out, const cep_val *v);

static void
put_map(cep_buf *out, const cep_event *ev, const cep_cont *m)
{
	cep_map_iter it;
	const char  *name;
	size_t       len;
	cep_val      v     = cep_val_null();
	int          first = 1;

	cep_buf_put_u8(out, '{');
	cep_map_iter_init(&it, ev, m);
	while (cep_map_iter_next(&it, &name, &len, &v)) {
		if (!first) {
			cep_buf_put_u8(out, ',');
		}
		first = 0;
		put_string(out, name, len);
		cep_buf_put_u8(out, ':');
		put_val(out, &v);
	}
	cep_buf_put_u8(out, '}');
}

static void
put_array(cep_buf *out, const cep_event *ev, const cep_cont *a)
{
	const cep_slot *s = cep_cont_slots(a);
	cep_val         v = cep_val_null();

	cep_buf_put_u8(out, '[');
	for (uint32_t i = 0; i < a->n; i++) {
		if (i > 0) {
			cep_buf_put_u8(out, ',');
		}
		cep_slot_val(ev, &s[i], &v);
		put_val(out, &v);
	}
	cep_buf_put_u8(out, ']');
}

static void
put_val(cep_buf *out, const cep_val *v)
{
	char   buf[CEP_DOUBLE_BUF];
	size_t n;

	switch ((cep_type) v->type) {
	case CEP_T_NULL:
		cep_buf_put(out, "null", 4);
		return;
	case CEP_T_BOOL:
		cep_buf_puts(out, v->u.b ? "true" : "false");
		return;
	case CEP_T_INT:
		put_int(out, v->u.i);
		return;
	case CEP_T_DOUBLE:
		n = cep_fmt_double(v->u.d, buf);
		cep_buf_put(out, buf, n);
		return;
	case CEP_T_STR:
		put_string(out, v->u.s, v->len);
		return;
	case CEP_T_MAP:
		put_map(out, v->u.c.ev, cep_event_cont(v->u.c.ev, v->u.c.off));
		return;
	case CEP_T_ARRAY:
		put_array(
		    out, v->u.c.ev, cep_event_cont(v->u.c.ev, v->u.c.off));
		return;
	}
	cep_buf_put(out, "null", 4);
}

cep_err
cep_json_write_event(cep_buf *out, const cep_event *ev)
{
	put_map(out, ev, cep_event_root(ev));
	return (cep_buf_status(out));
}

cep_err
cep_json_write_val(cep_buf *out, const cep_val *v)
{
	put_val(out, v);
	return (cep_buf_status(out));
}

cep_err
cep_json_write_str(cep_buf *out, const char *s, size_t len)
{
	put_string(out, s, len);
	return (cep_buf_status(out));
}
