/* SPDX-License-Identifier: MIT */
/*
 * pattern.h: a pattern as written, before compilation.
 *
 * The rule loader (server/rules.c) fills these structures from YAML; an
 * embedder may fill them by hand.  nfa_pattern_validate enforces every rule
 * FlinkCEP's pattern API and compiler enforce (see PATTERNS.md and
 * FLINKCEP.md section 2.2), reporting each violation at the location of the
 * offending key.  The NFA compiler (nfa_prog_create) takes a validated
 * pattern.
 *
 * Ownership: a pattern owns every string, expression and step it points to;
 * nfa_pattern_destroy frees them all.  Locations borrow their file name
 * from the loader's rule set, which outlives the pattern's diagnostics.
 */
#ifndef NFA_PATTERN_H
#define NFA_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cep/cep.h"
#include "nfa/expr.h"

/* How a step attaches to the step before it (FlinkCEP's consuming
 * strategy of the step). */
typedef enum nfa_join {
	NFA_JOIN_BEGIN,           /* begin: the first step */
	NFA_JOIN_NEXT,            /* next: strict contiguity */
	NFA_JOIN_FOLLOWED_BY,     /* followed_by: relaxed */
	NFA_JOIN_FOLLOWED_BY_ANY, /* followed_by_any: non-deterministic */
	NFA_JOIN_NOT_NEXT,        /* not_next */
	NFA_JOIN_NOT_FOLLOWED_BY, /* not_followed_by */
} nfa_join;

/* The quantifier as written (at most one per step). */
typedef enum nfa_quant {
	NFA_QUANT_ONE,           /* none: exactly once */
	NFA_QUANT_TIMES,         /* times: N or [N, M] */
	NFA_QUANT_ONE_OR_MORE,   /* one_or_more: true */
	NFA_QUANT_TIMES_OR_MORE, /* times_or_more: N */
} nfa_quant;

typedef enum nfa_skip {
	NFA_SKIP_NO_SKIP,
	NFA_SKIP_TO_NEXT,
	NFA_SKIP_PAST_LAST_EVENT,
	NFA_SKIP_TO_FIRST,
	NFA_SKIP_TO_LAST,
} nfa_skip;

typedef enum nfa_overflow {
	NFA_OVERFLOW_DROP_OLDEST,
	NFA_OVERFLOW_DROP_NEWEST,
	NFA_OVERFLOW_REJECT_START,
} nfa_overflow;

/* Where each key of a step was written; zero when absent. */
typedef struct nfa_step_locs {
	cep_loc step; /* the step's kind key (begin:, next:, ...) */
	cep_loc where;
	cep_loc until;
	cep_loc quant; /* times / one_or_more / times_or_more */
	cep_loc optional;
	cep_loc greedy;
	cep_loc consecutive;
	cep_loc allow_combinations;
	cep_loc max_gap;
	cep_loc sequence; /* a group's inner sequence */
} nfa_step_locs;

typedef struct nfa_step nfa_step;

struct nfa_step {
	char     *name;
	nfa_join  join;
	nfa_expr *where; /* NULL: true */
	nfa_expr *until; /* NULL: none */

	nfa_quant quant;
	uint32_t  times_min; /* TIMES: N (or 0 in [0, M]); TIMES_OR_MORE: N */
	uint32_t  times_max; /* TIMES: M (N for `times: N`) */
	bool      optional;
	bool      greedy;
	bool      consecutive;
	bool      allow_combinations;
	int64_t   max_gap; /* milliseconds; 0: none */

	nfa_step *group; /* a group's inner steps, or NULL */
	size_t    ngroup;

	uint32_t      leaf; /* index in nfa_pattern.leaves (plain steps) */
	nfa_step_locs locs;
};

/* An emit entry: an output field computed on each match. */
typedef struct nfa_emit {
	char     *name;
	nfa_expr *expr;
	cep_loc   loc;
} nfa_emit;

typedef struct nfa_pattern_locs {
	cep_loc name;
	cep_loc key;
	cep_loc time;
	cep_loc max_delay;
	cep_loc from;
	cep_loc within;
	cep_loc skip;
	cep_loc sequence;
	cep_loc max_partial_matches;
	cep_loc key_ttl;
} nfa_pattern_locs;

#define NFA_DEFAULT_MAX_PARTIAL_MATCHES 100000u

typedef struct nfa_pattern {
	char    *name;
	char    *description; /* NULL when absent */
	cep_path key;         /* n == 0: one global partition */
	cep_path time;        /* default "ts" */
	int64_t  max_delay;   /* milliseconds */
	bool     max_delay_set;
	char    *from;   /* input stream, default "events" */
	int64_t  within; /* milliseconds; 0: none */
	nfa_skip skip;
	char    *skip_step; /* TO_FIRST / TO_LAST: the step's name */
	bool     timeouts;

	nfa_step *steps;
	size_t    nsteps;
	char    **leaves; /* leaf step names by index (groups flattened) */
	size_t    nleaves;

	nfa_emit *emit;
	size_t    nemit;

	uint64_t     max_partial_matches; /* per key; 0: unbounded */
	nfa_overflow overflow;
	int64_t      key_ttl; /* milliseconds; 0: keys never expire */
	bool         shadow;

	nfa_pattern_locs locs;
} nfa_pattern;

/* A zeroed pattern with the defaults (time "ts", from "events", the default
 * bound on partial matches); NULL when out of memory. */
nfa_pattern *nfa_pattern_create(void);
void         nfa_pattern_destroy(nfa_pattern *p);
/* Free what a step owns (not the step itself); for builders of steps. */
void nfa_step_fini(nfa_step *s);

/* Check every FlinkCEP rule on a filled pattern; each violation goes to
 * diag at the offending key.  CEP_OK, or CEP_EINVAL when anything is
 * wrong.  Expressions are compiled already (their own errors are the
 * loader's). */
cep_err nfa_pattern_validate(const nfa_pattern *p, cep_diag *diag);

/* "no_skip", "skip_to_next", ...; "drop_oldest", ... */
const char *nfa_skip_name(nfa_skip s);
const char *nfa_overflow_name(nfa_overflow o);
const char *nfa_join_name(nfa_join j);

#endif
