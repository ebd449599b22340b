/* SPDX-License-Identifier: MIT */
/*
 * buf.h: a growable byte buffer and a bounds-checked reader.
 *
 * cep_buf is how state is serialized (little-endian fixed-width integers,
 * LEB128 varints, length-prefixed bytes) and how output lines are built.
 * Writes never fail loudly: the first allocation failure makes the buffer
 * sticky-failed and cep_buf_status() reports CEP_ENOMEM at the end.
 * cep_rd reads what cep_buf wrote; reading past the end or a malformed
 * varint makes it sticky-failed (cep_rd_status() reports CEP_ECORRUPT) and
 * returns zeros, so decoders check once at the end.
 */
#ifndef CEP_BUF_H
#define CEP_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "cep/errors.h"

typedef struct cep_buf {
	uint8_t *data;
	size_t   len;
	size_t   cap;
	int      failed;
} cep_buf;

/* Initialize an empty buffer (no allocation) / free its storage. */
void cep_buf_init(cep_buf *b);
void cep_buf_fini(cep_buf *b);
/* Empty the buffer, keeping its storage; clears a failure. */
void cep_buf_reset(cep_buf *b);
/* Make room for n more bytes; CEP_ENOMEM (and sticky failure) if not. */
cep_err cep_buf_reserve(cep_buf *b, size_t n);
/* CEP_ENOMEM if any write failed since the last reset, else CEP_OK. */
cep_err cep_buf_status(const cep_buf *b);

void cep_buf_put(cep_buf *b, const void *p, size_t n);
void cep_buf_put_u8(cep_buf *b, uint8_t v);
void cep_buf_put_u16(cep_buf *b, uint16_t v);
void cep_buf_put_u32(cep_buf *b, uint32_t v);
void cep_buf_put_u64(cep_buf *b, uint64_t v);
void cep_buf_put_i64(cep_buf *b, int64_t v);
void cep_buf_put_f64(cep_buf *b, double v);
/* Unsigned LEB128. */
void cep_buf_put_varint(cep_buf *b, uint64_t v);
/* A varint length followed by the bytes. */
void cep_buf_put_blob(cep_buf *b, const void *p, size_t n);
/* Append NUL-free text; cep_buf_printf formats like printf. */
void cep_buf_puts(cep_buf *b, const char *s);
void cep_buf_printf(cep_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Pad with zero bytes until len is a multiple of align (a power of 2). */
void cep_buf_align(cep_buf *b, size_t align);

typedef struct cep_rd {
	const uint8_t *p;
	const uint8_t *end;
	int            failed;
} cep_rd;

void     cep_rd_init(cep_rd *r, const void *p, size_t n);
cep_err  cep_rd_status(const cep_rd *r);
size_t   cep_rd_left(const cep_rd *r);
uint8_t  cep_rd_u8(cep_rd *r);
uint16_t cep_rd_u16(cep_rd *r);
uint32_t cep_rd_u32(cep_rd *r);
uint64_t cep_rd_u64(cep_rd *r);
int64_t  cep_rd_i64(cep_rd *r);
double   cep_rd_f64(cep_rd *r);
uint64_t cep_rd_varint(cep_rd *r);
/* n bytes in place (NULL and failed when fewer are left). */
const void *cep_rd_bytes(cep_rd *r, size_t n);
/* A blob written by cep_buf_put_blob; its length goes to *n. */
const void *cep_rd_blob(cep_rd *r, size_t *n);

#endif
