/* SPDX-License-Identifier: MIT */
/*
 * diag.h: diagnostics with source locations.
 *
 * Loading a pattern file collects every problem it finds into a cep_diag,
 * each with FILE:LINE:COL, and prints them all at once, in file order:
 *
 *	rules.yaml:12:9: error: unknown step 'smal' in count()
 *
 * A cep_diag owns copies of its file names and messages.  Not thread-safe.
 */
#ifndef CEP_DIAG_H
#define CEP_DIAG_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "cep/errors.h"

/* A position in a source file; lines and columns count from 1, 0 = unknown.
 * `file` is borrowed: whoever fills a cep_loc keeps the string alive. */
typedef struct cep_loc {
	const char *file;
	uint32_t    line;
	uint32_t    col;
} cep_loc;

typedef enum cep_severity {
	CEP_SEV_ERROR,
	CEP_SEV_WARNING,
	CEP_SEV_NOTE,
} cep_severity;

typedef struct cep_diag_item {
	cep_severity severity;
	cep_loc      loc;     /* file points into the diag's own storage */
	char        *message; /* owned by the diag */
} cep_diag_item;

typedef struct cep_diag cep_diag;

/* Create an empty diagnostics list; NULL when out of memory. */
cep_diag *cep_diag_create(void);
/* Free the list and everything it holds; NULL is a no-op. */
void cep_diag_destroy(cep_diag *d);
/* Forget every item (the list stays usable). */
void cep_diag_clear(cep_diag *d);

/* Append an item.  A NULL diag is allowed and ignores the call.  Running
 * out of memory here marks the list as incomplete (see cep_diag_lost). */
void cep_diag_add(cep_diag *d, cep_severity sev, cep_loc loc, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
void cep_diag_vadd(
    cep_diag *d, cep_severity sev, cep_loc loc, const char *fmt, va_list ap);
/* Shorthand for cep_diag_add(d, CEP_SEV_ERROR, ...). */
void cep_diag_error(cep_diag *d, cep_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Number of items of a severity, or of all severities with sev < 0. */
size_t cep_diag_count(const cep_diag *d, int sev);
/* Item i (0 <= i < cep_diag_count(d, -1)), valid until the next change. */
const cep_diag_item *cep_diag_get(const cep_diag *d, size_t i);
/* True when an item could not be recorded for lack of memory. */
int cep_diag_lost(const cep_diag *d);
/* Order the items by file, line and column (stable). */
void cep_diag_sort(cep_diag *d);
/* Print every item as "FILE:LINE:COL: error: MESSAGE\n" (the position part
 * shrinks when unknown).  Returns CEP_EIO on a write error. */
cep_err cep_diag_print(const cep_diag *d, FILE *out);
/* Format one item into buf (always NUL-terminated); returns its length. */
size_t cep_diag_format(const cep_diag_item *it, char *buf, size_t cap);

#endif
