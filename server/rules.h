/* SPDX-License-Identifier: MIT */
/*
 * rules.h: loading rule files (YAML, libfyaml) into patterns.
 *
 * A rule set is one YAML file or a directory of *.yaml / *.yml files (the
 * union of their patterns; names unique across all).  Loading reports
 * every problem it finds, each as FILE:LINE:COL at the offending node, and
 * a set with any error loads nothing.
 *
 * Input is checked before libfyaml sees it: at most SRV_RULES_MAX_BYTES
 * per file, valid UTF-8, no control bytes but tab, newline and carriage
 * return (libfyaml 0.7.12 has public fuzz findings on malformed input).
 */
#ifndef SRV_RULES_H
#define SRV_RULES_H

#include <stddef.h>

#include "cep/cep.h"
#include "nfa/nfa.h"

#define SRV_RULES_MAX_BYTES (4u << 20)
#define SRV_RULES_MAX_FILES 4096u

/* An aggregate of a derived stream: `name: kind(field)`. */
typedef struct srv_agg {
	char        *name;
	cep_agg_kind kind;
	char        *field; /* NULL for count() */
	cep_loc      loc;
} srv_agg;

/* A derived stream (`streams:` in PATTERNS.md): windowed aggregates of
 * its input, keyed, after an optional filter. */
typedef struct srv_stream {
	char      *name;
	cep_loc    loc;
	char      *from;  /* "events" or another stream */
	cep_loc    from_loc;
	nfa_expr  *where; /* NULL: every event */
	cep_path   key;   /* n == 0: one global key */
	cep_path   time;  /* of its input, and of its output events */
	int64_t    max_delay;
	bool       max_delay_set;
	cep_window window;
	srv_agg   *aggs;
	size_t     naggs;
} srv_stream;

typedef struct srv_rules {
	nfa_pattern **patterns; /* owned */
	size_t        npatterns;
	srv_stream  **streams; /* owned; every `from` names one or "events",
	                          and streams form no cycle */
	size_t        nstreams;
	char        **files; /* the files read, owned; locations point here */
	size_t        nfiles;
} srv_rules;

/* Load a file or a directory.  CEP_OK: *out holds the rules.  Otherwise
 * diag holds every error and nothing is returned: CEP_EINVAL (invalid
 * rules), CEP_EIO (unreadable), CEP_ENOMEM. */
cep_err srv_rules_load(const char *path, srv_rules **out, cep_diag *diag);
/* Load YAML text; `name` is the file name used in locations. */
cep_err srv_rules_load_text(const char *name, const char *text, size_t len,
    srv_rules **out, cep_diag *diag);
void srv_rules_destroy(srv_rules *r);

#endif
