/* SPDX-License-Identifier: MIT */
/*
 * sym.h: interned field names.
 *
 * Every field name of every event, and every name a rule refers to, is a
 * cep_sym: a small integer from one process-wide table, so that a rule's
 * field lookups compare integers.  Names are never freed while the process
 * runs.  The table holds at most CEP_SYM_MAX names of at most
 * CEP_SYM_MAX_LEN bytes; past that cep_sym_intern returns CEP_SYM_NONE and
 * the event keeps such a name inline instead (a hostile stream of random
 * keys cannot grow the table without bound).
 *
 * Thread-safety: cep_sym_intern and cep_sym_lookup lock a mutex (callers on
 * a hot path keep a cache, as cep_builder does); cep_sym_name is lock-free.
 */
#ifndef CEP_SYM_H
#define CEP_SYM_H

#include <stddef.h>
#include <stdint.h>

#include "cep/errors.h"

typedef uint32_t cep_sym;

#define CEP_SYM_NONE ((cep_sym) 0)
#define CEP_SYM_MAX (1u << 20)
#define CEP_SYM_MAX_LEN 256u

/* The symbol for the n bytes at s, created if new; CEP_SYM_NONE when the
 * table is full, the name too long, or memory is short. */
cep_sym cep_sym_intern(const char *s, size_t n);
/* The symbol for a NUL-terminated name (see cep_sym_intern). */
cep_sym cep_sym_intern_str(const char *s);
/* The symbol for a name if it exists, else CEP_SYM_NONE; never inserts. */
cep_sym cep_sym_lookup(const char *s, size_t n);
/* The name of a symbol (NUL-terminated; its length in *len if len is not
 * NULL), or NULL for CEP_SYM_NONE and unknown symbols.  The string lives
 * as long as the process. */
const char *cep_sym_name(cep_sym sym, size_t *len);
/* Number of symbols interned so far. */
size_t cep_sym_count(void);

/* A field reference such as `card_id` or `src.ip`: interned names. */
typedef struct cep_path {
	cep_sym *syms;
	size_t   n;    /* 0: no field */
	char    *text; /* as written, for messages and output */
} cep_path;

/* Parse "a.b.c" into a path of interned names (CEP_EINVAL when empty or a
 * segment is empty; CEP_ELIMIT when a name cannot be interned). */
cep_err cep_path_parse(cep_path *p, const char *text, size_t len);
/* Free a path's storage (a zeroed path is fine). */
void cep_path_fini(cep_path *p);

#endif
