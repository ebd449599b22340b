/* SPDX-License-Identifier: MIT */
/*
 * reader.c: framing JSON Lines and msgpack streams into records.
 *
 * Input is read in large blocks into one buffer that slides as records
 * are consumed.  JSON Lines are split at newlines (a trailing CR is
 * dropped); a line that outgrows the size limit is skipped to its end and
 * reported once.  msgpack objects are framed by cep_msgpack_parse, which
 * asks for more bytes when an object is cut by the block boundary.
 */
#include <errno.h>
#include <string.h>

#include "cep/codec.h"
#include "cep/reader.h"

#define BLOCK (1u << 20)

struct cep_reader {
	FILE               *f;
	int                 owned;
	char               *name;
	cep_format          fmt;
	cep_builder        *b;
	cep_json_reader    *json;
	cep_msgpack_reader *mp;
	char               *buf; /* holds [start, end) of unread bytes */
	size_t              cap;
	size_t              start;
	size_t              end;
	int                 eof;
	int                 skipping; /* inside an overlong line */
	uint64_t            pos;      /* records (lines/objects) seen */
	uint64_t            offset;
	char                error[256];
};

cep_format
cep_format_of(const char *path)
{
	size_t n = path != NULL ? strlen(path) : 0;

	if (n >= 8 && strcmp(path + n - 8, ".msgpack") == 0) {
		return (CEP_FORMAT_MSGPACK);
	}
	return (CEP_FORMAT_JSONL);
}

void
cep_reader_close(cep_reader *r)
{
	if (r == NULL) {
		return;
	}
	if (r->owned && r->f != NULL) {
		fclose(r->f);
	}
	cep_strfree(r->name);
	cep_builder_destroy(r->b);
	cep_json_reader_destroy(r->json);
	cep_msgpack_reader_destroy(r->mp);
	cep_free(r->buf, r->cap);
	cep_free(r, sizeof(*r));
}

cep_err
cep_reader_open_stream(
    FILE *f, const char *name, cep_format fmt, cep_reader **out)
{
	cep_reader *r = cep_zalloc(sizeof(*r));

	if (r == NULL) {
		return (CEP_ENOMEM);
	}
	r->f   = f;
	r->fmt = fmt;
	r->cap = BLOCK + CEP_EVENT_DEFAULT_MAX_BYTES;
	if ((r->name = cep_strdup(name)) == NULL ||
	    (r->b = cep_builder_create()) == NULL ||
	    (r->buf = cep_alloc(r->cap)) == NULL ||
	    (fmt == CEP_FORMAT_JSONL
	            ? (r->json = cep_json_reader_create()) == NULL
	            : (r->mp = cep_msgpack_reader_create()) == NULL)) {
		cep_reader_close(r);
		return (CEP_ENOMEM);
	}
	*out = r;
	return (CEP_OK);
}

cep_err
cep_reader_open(const char *path, cep_format fmt, cep_reader **out)
{
	FILE   *f;
	cep_err rv;

	if (path == NULL || strcmp(path, "-") == 0) {
		return (cep_reader_open_stream(stdin, "-", fmt, out));
	}
	if ((f = fopen(path, "rb")) == NULL) {
		return (CEP_EIO);
	}
	if ((rv = cep_reader_open_stream(f, path, fmt, out)) != CEP_OK) {
		fclose(f);
		return (rv);
	}
	(*out)->owned = 1;
	return (CEP_OK);
}

const char *
cep_reader_error(const cep_reader *r)
{
	return (r->error);
}

const char *
cep_reader_name(const cep_reader *r)
{
	return (r->name);
}

uint64_t
cep_reader_offset(const cep_reader *r)
{
	return (r->offset);
}

/* fill slides the unread bytes to the front and reads another block;
 * returns 0 at end of input. */
static int
fill(cep_reader *r, cep_err *err)
{
	size_t n;

	if (r->eof) {
		return (0);
	}
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		return (1); /* full: the caller handles the overlong record */
	}
	n = fread(r->buf + r->end, 1, r->cap - r->end, r->f);
	r->end += n;
	if (n == 0) {
		if (ferror(r->f)) {
			*err = CEP_EIO;
		}
		r->eof = 1;
		return (0);
	}
	return (1);
}

static int
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
			return (0);
		}
	}
	return (1);
}

static cep_err
next_line(cep_reader *r, const cep_event **ev, uint64_t *pos)
{
	cep_err rv = CEP_OK;

	for (;;) {
		char  *line  = r->buf + r->start;
		size_t avail = r->end - r->start;
		char  *nl    = memchr(line, '\n', avail);
		size_t len;

		if (nl == NULL && !r->eof && avail < r->cap) {
			if (!fill(r, &rv) && rv != CEP_OK) {
				return (rv);
			}
			if (!r->eof || r->end > r->start) {
				continue;
			}
		}
		if (nl == NULL && avail == 0) {
			return (r->eof ? CEP_ECLOSED : rv);
		}
		if (nl == NULL && avail == r->cap - r->start && !r->eof) {
			/* No newline in a full buffer: an overlong line. */
			if (!r->skipping) {
				r->pos++;
				r->skipping = 1;
				*pos        = r->pos;
				snprintf(r->error, sizeof(r->error),
				    "line longer than %u bytes",
				    CEP_EVENT_DEFAULT_MAX_BYTES);
				r->offset += avail;
				r->start = r->end;
				return (CEP_EPARSE);
			}
			r->offset += avail;
			r->start = r->end;
			continue;
		}
		len = nl != NULL ? (size_t) (nl - line) : avail;
		r->start += len + (nl != NULL);
		r->offset += len + (nl != NULL);
		if (r->skipping) {
			r->skipping = 0;
			continue;
		}
		r->pos++;
		if (len > 0 && line[len - 1] == '\r') {
			len--;
		}
		if (blank(line, len)) {
			continue;
		}
		*pos = r->pos;
		if ((rv = cep_json_parse(r->json, line, len, r->b)) !=
		    CEP_OK) {
			snprintf(r->error, sizeof(r->error), "%s",
			    cep_json_reader_error(r->json));
			return (rv == CEP_ENOMEM ? rv : CEP_EPARSE);
		}
		*ev = cep_builder_peek(r->b);
		return (*ev != NULL ? CEP_OK : CEP_ENOMEM);
	}
}

static cep_err
next_object(cep_reader *r, const cep_event **ev, uint64_t *pos)
{
	cep_err rv = CEP_OK;

	for (;;) {
		size_t avail = r->end - r->start, used = 0;

		if (avail == 0) {
			if (!fill(r, &rv)) {
				return (rv != CEP_OK ? rv : CEP_ECLOSED);
			}
			continue;
		}
		rv = cep_msgpack_parse(
		    r->mp, r->buf + r->start, avail, &used, r->b);
		if (rv == CEP_EAGAIN) {
			if (r->eof || (r->start == 0 && r->end == r->cap)) {
				/* Cut short by the end of input, or bigger
				 * than the limit: drop what is left. */
				r->pos++;
				*pos = r->pos;
				snprintf(r->error, sizeof(r->error), "%s",
				    r->eof
				        ? "truncated msgpack object at end of "
				          "input"
				        : "msgpack object too large");
				r->offset += avail;
				r->start = r->end;
				return (CEP_EPARSE);
			}
			rv = CEP_OK;
			if (!fill(r, &rv) && rv != CEP_OK) {
				return (rv);
			}
			continue;
		}
		r->pos++;
		*pos = r->pos;
		r->start += used;
		r->offset += used;
		if (rv != CEP_OK) {
			snprintf(r->error, sizeof(r->error), "%s",
			    cep_msgpack_reader_error(r->mp));
			return (rv == CEP_ENOMEM ? rv : CEP_EPARSE);
		}
		*ev = cep_builder_peek(r->b);
		return (*ev != NULL ? CEP_OK : CEP_ENOMEM);
	}
}

cep_err
cep_reader_next(cep_reader *r, const cep_event **ev, uint64_t *pos)
{
	*ev = NULL;
	return (r->fmt == CEP_FORMAT_JSONL ? next_line(r, ev, pos)
	                                   : next_object(r, ev, pos));
}
