/* SPDX-License-Identifier: MIT */
/*
 * operator.h: the CEP operator of the dataflow core.
 *
 * nfa_flow_pattern adds a pattern's matcher to a flow (cep/flow.h) as a
 * keyed operator: one matcher per worker, fed the keyed stream's records
 * with their event times and watermarks.  Its output is the match records
 * (PATTERNS.md, "Matches") with the time of their last event; events the
 * matcher finds late leave through side output "late".  When the input
 * ends (watermark +infinity) the matcher finishes.
 */
#ifndef NFA_OPERATOR_H
#define NFA_OPERATOR_H

#include <stdatomic.h>

#include "cep/cep.h"
#include "nfa/matcher.h"

/* Counters summed over the operator's instances as they finish. */
typedef struct nfa_op_stats {
	atomic_uint_fast64_t events;
	atomic_uint_fast64_t late;
	atomic_uint_fast64_t bad_key;
	atomic_uint_fast64_t matches;
	atomic_uint_fast64_t timeouts;
	atomic_uint_fast64_t dropped;
	atomic_uint_fast64_t expired;
} nfa_op_stats;

/* Add the CEP operator for prog (referenced) over a keyed stream (a
 * key_by on the pattern's key, or on no field for an unkeyed pattern).
 * stats, if not NULL, must outlive the flow. */
cep_stream *nfa_flow_pattern(cep_stream *keyed, nfa_prog *prog,
    nfa_op_stats *stats);

#endif
