/* SPDX-License-Identifier: MIT */
/*
 * reader.h: events from a file of JSON Lines or of msgpack maps.
 *
 * A reader decodes one record at a time into its own builder and hands out
 * the event in place (valid until the next call), with its position: the
 * line number for JSON Lines, the object number for msgpack.  A record that
 * does not decode is reported as CEP_EPARSE with a message and position;
 * the caller chooses to skip it (call next again) or stop.  Blank lines are
 * skipped.  Lines longer than the event size limit are refused without
 * reading them into memory whole.  Not thread-safe.
 */
#ifndef CEP_READER_H
#define CEP_READER_H

#include <stdint.h>
#include <stdio.h>

#include "cep/event.h"

typedef enum cep_format {
	CEP_FORMAT_JSONL,
	CEP_FORMAT_MSGPACK,
} cep_format;

typedef struct cep_reader cep_reader;

/* The format a path names: msgpack for "*.msgpack", else JSON Lines. */
cep_format cep_format_of(const char *path);

/* Open a file ("-" or NULL: standard input, named "-").  CEP_EIO when it
 * cannot be opened (errno tells why). */
cep_err cep_reader_open(const char *path, cep_format fmt, cep_reader **out);
/* Read from an open stream (not closed by the reader). */
cep_err cep_reader_open_stream(
    FILE *f, const char *name, cep_format fmt, cep_reader **out);
void cep_reader_close(cep_reader *r);

/* The next event.  CEP_OK: *ev and *pos set.  CEP_ECLOSED: end of input.
 * CEP_EPARSE: a bad record at *pos (see cep_reader_error); the next call
 * goes on after it.  CEP_EIO: a read error (errno). */
cep_err cep_reader_next(cep_reader *r, const cep_event **ev, uint64_t *pos);
/* What was wrong with the last bad record. */
const char *cep_reader_error(const cep_reader *r);
/* The name given at open ("-" for standard input). */
const char *cep_reader_name(const cep_reader *r);
/* Bytes consumed so far. */
uint64_t cep_reader_offset(const cep_reader *r);

#endif
