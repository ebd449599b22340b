/* SPDX-License-Identifier: MIT */
/*
 * codec.h: JSON and msgpack, in and out.
 *
 * Decoders turn one JSON text or one msgpack object into an event through
 * a cep_builder (the caller then places the block with
 * cep_builder_finish).  JSON is parsed by YAJL (libyajl, Debian's yajl):
 * its callback interface builds the event with no allocation per event.
 * msgpack is decoded by our own reader in one pass that checks the bytes
 * and drives the builder directly: msgpack-c 4.0's C API has no visitor
 * decoder, only object trees that allocate whatever a length prefix
 * claims, and the bounds walk we needed against that was already a full
 * parse.  Every length is held against the bytes left and the builder's
 * size limit before it is used, so hostile prefixes fail at once without
 * allocating.  msgpack-c remains the encoder (and the tests' oracle).
 *
 * Number rules (both formats): integers that fit in 64 bits signed are
 * ints; larger integers (up to any number of digits in JSON, uint64 in
 * msgpack) become doubles; JSON numbers beyond the double range are an
 * error.  Strings must be valid UTF-8 (msgpack bin is accepted as a string
 * when it is valid UTF-8); msgpack ext types and non-string map keys are
 * refused.  The top level must be a map/object.
 *
 * Encoders append to a cep_buf.  JSON output is compact, one object per
 * call, doubles in their shortest exact form with a '.' (2.0), non-finite
 * doubles as null, map fields in stored order without overridden repeats.
 *
 * Readers are not thread-safe; use one per thread.
 */
#ifndef CEP_CODEC_H
#define CEP_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "cep/buf.h"
#include "cep/event.h"

/* ---- JSON ----------------------------------------------------------------
 */

typedef struct cep_json_reader cep_json_reader;

cep_json_reader *cep_json_reader_create(void);
void             cep_json_reader_destroy(cep_json_reader *r);

/* Parse one JSON text (a line without its newline) into b, which is reset
 * first.  CEP_OK: b holds a finished event.  CEP_EPARSE: not JSON, not an
 * object, trailing data, invalid UTF-8; CEP_ELIMIT: too deep or too big
 * (the builder's limits); CEP_ERANGE: a number beyond the double range.
 * On error cep_json_reader_error() describes it ("column 12: ..."). */
cep_err cep_json_parse(
    cep_json_reader *r, const char *text, size_t len, cep_builder *b);
/* The message of the last error, valid until the next parse. */
const char *cep_json_reader_error(const cep_json_reader *r);

/* Append an event as a JSON object / a value / an escaped, quoted string. */
cep_err cep_json_write_event(cep_buf *out, const cep_event *ev);
cep_err cep_json_write_val(cep_buf *out, const cep_val *v);
cep_err cep_json_write_str(cep_buf *out, const char *s, size_t len);

/* ---- msgpack -------------------------------------------------------------
 */

typedef struct cep_msgpack_reader cep_msgpack_reader;

cep_msgpack_reader *cep_msgpack_reader_create(void);
void                cep_msgpack_reader_destroy(cep_msgpack_reader *r);

/* Parse the msgpack object at the start of data[0..len) into b (reset
 * first); *used gets its size.  CEP_OK: b holds a finished event.
 * CEP_EAGAIN: the bytes end inside the object (read more, call again with
 * them all); *used is 0 and b holds no event.  CEP_EPARSE / CEP_ELIMIT:
 * malformed, not a map, too deep or too big; *used then says how many
 * bytes to drop to resynchronize (at least 1): the whole object when its
 * extent is known, else 1.  CEP_ENOMEM: out of memory; *used is the
 * object's size when that was reached, else 0.  Nesting is capped
 * at the builder's depth limit (CEP_EVENT_DEFAULT_MAX_DEPTH, 64, unless
 * set), as for JSON. */
cep_err cep_msgpack_parse(cep_msgpack_reader *r, const void *data, size_t len,
    size_t *used, cep_builder *b);
const char *cep_msgpack_reader_error(const cep_msgpack_reader *r);

/* Append an event as a msgpack map / a value as msgpack. */
cep_err cep_msgpack_write_event(cep_buf *out, const cep_event *ev);
cep_err cep_msgpack_write_val(cep_buf *out, const cep_val *v);

#endif
