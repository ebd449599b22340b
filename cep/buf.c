/* SPDX-License-Identifier: MIT */
/* buf.c: growable byte buffer and bounds-checked reader. */
#include <stdio.h>
#include <string.h>

#include "cep/alloc.h"
#include "cep/buf.h"

void
cep_buf_init(cep_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
cep_buf_fini(cep_buf *b)
{
	cep_free(b->data, b->cap);
	memset(b, 0, sizeof(*b));
}

void
cep_buf_reset(cep_buf *b)
{
	b->len    = 0;
	b->failed = 0;
}

cep_err
cep_buf_reserve(cep_buf *b, size_t n)
{
	if (b->failed) {
		return (CEP_ENOMEM);
	}
	if (n > SIZE_MAX - b->len ||
	    cep_grow(&b->data, &b->cap, b->len + n, 1) != 0) {
		b->failed = 1;
		return (CEP_ENOMEM);
	}
	return (CEP_OK);
}

cep_err
cep_buf_status(const cep_buf *b)
{
	return (b->failed ? CEP_ENOMEM : CEP_OK);
}

void
cep_buf_put(cep_buf *b, const void *p, size_t n)
{
	if (n <= b->cap - b->len && !b->failed) {
		if (n > 0) {
			memcpy(b->data + b->len, p, n);
			b->len += n;
		}
		return;
	}
	if (n == 0 || cep_buf_reserve(b, n) != CEP_OK) {
		return;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
cep_buf_put_u8(cep_buf *b, uint8_t v)
{
	if (b->len < b->cap && !b->failed) {
		b->data[b->len++] = v;
		return;
	}
	cep_buf_put(b, &v, 1);
}

void
cep_buf_put_u16(cep_buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t) v, (uint8_t) (v >> 8) };

	cep_buf_put(b, x, sizeof(x));
}

void
cep_buf_put_u32(cep_buf *b, uint32_t v)
{
	uint8_t x[4];

	for (int i = 0; i < 4; i++) {
		x[i] = (uint8_t) (v >> (8 * i));
	}
	cep_buf_put(b, x, sizeof(x));
}

void
cep_buf_put_u64(cep_buf *b, uint64_t v)
{
	uint8_t x[8];

	for (int i = 0; i < 8; i++) {
		x[i] = (uint8_t) (v >> (8 * i));
	}
	cep_buf_put(b, x, sizeof(x));
}

void
cep_buf_put_i64(cep_buf *b, int64_t v)
{
	cep_buf_put_u64(b, (uint64_t) v);
}

void
cep_buf_put_f64(cep_buf *b, double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	cep_buf_put_u64(b, u);
}

void
cep_buf_put_varint(cep_buf *b, uint64_t v)
{
	uint8_t x[10];
	size_t  n = 0;

	do {
		x[n] = (uint8_t) (v & 0x7f);
		v >>= 7;
		if (v != 0) {
			x[n] |= 0x80;
		}
		n++;
	} while (v != 0);
	cep_buf_put(b, x, n);
}

void
cep_buf_put_blob(cep_buf *b, const void *p, size_t n)
{
	cep_buf_put_varint(b, n);
	cep_buf_put(b, p, n);
}

void
cep_buf_puts(cep_buf *b, const char *s)
{
	cep_buf_put(b, s, strlen(s));
}

void
cep_buf_printf(cep_buf *b, const char *fmt, ...)
{
	va_list ap;
	int     n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || cep_buf_reserve(b, (size_t) n + 1) != CEP_OK) {
		b->failed = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf((char *) b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

void
cep_buf_align(cep_buf *b, size_t align)
{
	static const uint8_t zeros[16];
	size_t pad = (align - (b->len & (align - 1))) & (align - 1);

	cep_buf_put(b, zeros, pad);
}

void
cep_rd_init(cep_rd *r, const void *p, size_t n)
{
	r->p      = p;
	r->end    = r->p + n;
	r->failed = 0;
}

cep_err
cep_rd_status(const cep_rd *r)
{
	return (r->failed ? CEP_ECORRUPT : CEP_OK);
}

size_t
cep_rd_left(const cep_rd *r)
{
	return ((size_t) (r->end - r->p));
}

const void *
cep_rd_bytes(cep_rd *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->failed || n > cep_rd_left(r)) {
		r->failed = 1;
		return (NULL);
	}
	r->p += n;
	return (p);
}

uint8_t
cep_rd_u8(cep_rd *r)
{
	const uint8_t *p = cep_rd_bytes(r, 1);

	return (p == NULL ? 0 : p[0]);
}

uint16_t
cep_rd_u16(cep_rd *r)
{
	const uint8_t *p = cep_rd_bytes(r, 2);

	return (p == NULL ? 0 : (uint16_t) (p[0] | (p[1] << 8)));
}

uint32_t
cep_rd_u32(cep_rd *r)
{
	const uint8_t *p = cep_rd_bytes(r, 4);
	uint32_t       v = 0;

	for (int i = 0; p != NULL && i < 4; i++) {
		v |= (uint32_t) p[i] << (8 * i);
	}
	return (v);
}

uint64_t
cep_rd_u64(cep_rd *r)
{
	const uint8_t *p = cep_rd_bytes(r, 8);
	uint64_t       v = 0;

	for (int i = 0; p != NULL && i < 8; i++) {
		v |= (uint64_t) p[i] << (8 * i);
	}
	return (v);
}

int64_t
cep_rd_i64(cep_rd *r)
{
	return ((int64_t) cep_rd_u64(r));
}

double
cep_rd_f64(cep_rd *r)
{
	uint64_t u = cep_rd_u64(r);
	double   d;

	memcpy(&d, &u, sizeof(d));
	return (d);
}

uint64_t
cep_rd_varint(cep_rd *r)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t byte = cep_rd_u8(r);
		if (r->failed) {
			return (0);
		}
		v |= (uint64_t) (byte & 0x7f) << shift;
		if ((byte & 0x80) == 0) {
			return (v);
		}
	}
	r->failed = 1;
	return (0);
}

const void *
cep_rd_blob(cep_rd *r, size_t *n)
{
	uint64_t len = cep_rd_varint(r);

	if (r->failed || len > cep_rd_left(r)) {
		r->failed = 1;
		*n        = 0;
		return (NULL);
	}
	*n = (size_t) len;
	return (cep_rd_bytes(r, (size_t) len));
}
