/* SPDX-License-Identifier: MIT */
/*
 * matcher.h: keyed, event-time matching of one compiled pattern.
 *
 * A matcher runs one nfa_prog over a stream of events: it partitions them
 * by the pattern's key, holds back events until the watermark passes them
 * and releases them in time order (equal times in ingress order), runs the
 * automaton per key with FlinkCEP's semantics (after-match skip, `within`,
 * `max_gap`, timed-out partial matches, not_followed_by completing when its
 * window closes), bounds live partial matches per key, expires idle keys,
 * and hands each match to a callback.
 *
 * Events are offered with their event time, an ingress sequence number
 * (it orders equal times and identifies the event in match ids) and the
 * watermark that holds after them: W promises that no event older than W
 * will come.  An event older than the current watermark is late: counted,
 * not matched.  Events are matched once the watermark has passed them
 * (time < W), so they may come from several channels in any interleaving
 * that respects each channel's watermark.
 *
 * The whole state can be saved to bytes and restored into a fresh matcher
 * of an equal program (same fingerprint), which then continues exactly as
 * the original would have.
 *
 * Ownership: the matcher keeps a reference to its program and copies the
 * events it must keep; the caller's event only has to live during the
 * call.  Events in an nfa_match live until the callback returns.  A
 * matcher is used by one thread at a time.  After a failure (CEP_ENOMEM,
 * or an error returned by the callback) it refuses further work with the
 * same error.
 */
#ifndef NFA_MATCHER_H
#define NFA_MATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "cep/cep.h"
#include "nfa/prog.h"

#define NFA_TIME_MIN INT64_MIN
#define NFA_TIME_MAX INT64_MAX

/* An event of a match and the leaf step that accepted it. */
typedef struct nfa_match_event {
	const cep_event *ev;
	int64_t          ts;  /* event time */
	uint64_t         seq; /* ingress sequence */
	uint16_t         step;
} nfa_match_event;

/* One match (or timed-out partial match), its events in the order they
 * were accepted. */
typedef struct nfa_match {
	const nfa_prog *prog;
	const cep_val  *key; /* null for an unkeyed pattern */
	int             timeout;
	/* When it came out: the time of the event, or of the deadline, that
	 * completed, timed out or released it; NFA_TIME_MAX for what the end
	 * of input releases.  A key's matches come out in the order of this
	 * time, which does not depend on how the watermark moved. */
	int64_t                at;
	size_t                 nevents;
	const nfa_match_event *events;
} nfa_match;

/* Receive a match.  A non-OK return stops the matcher with that error. */
typedef cep_err (*nfa_match_fn)(void *arg, const nfa_match *m);

typedef struct nfa_stats {
	uint64_t events;   /* offered and not late */
	uint64_t late;     /* older than the watermark */
	uint64_t bad_key;  /* key field missing, null, a map or an array */
	uint64_t matches;  /* emitted matches */
	uint64_t timeouts; /* emitted timed-out partial matches */
	uint64_t dropped;  /* partial matches dropped by the per-key bound */
	uint64_t expired;  /* keys expired by key_ttl */
	uint64_t partial;  /* live partial matches now */
	uint64_t keys;     /* keys holding state now */
	uint64_t buffered; /* events waiting for the watermark */
	uint64_t stored;   /* events kept for partial matches and the buffer */
	uint64_t bytes;    /* memory held, approximately */
} nfa_stats;

typedef struct nfa_matcher nfa_matcher;

/* Create a matcher for prog (which it references).  Matches go to fn. */
cep_err nfa_matcher_create(
    nfa_prog *prog, nfa_match_fn fn, void *arg, nfa_matcher **out);
void nfa_matcher_destroy(nfa_matcher *m);

/* Offer an event with its time, ingress sequence and the watermark after
 * it (non-decreasing; NFA_TIME_MIN before any).  *late (if not NULL) tells
 * whether it was late. */
cep_err nfa_matcher_push(nfa_matcher *m, const cep_event *ev, int64_t ts,
    uint64_t seq, int64_t wm, int *late);
/* Declare that events will arrive in ingress-sequence order (one input
 * channel, as when replaying a file): then an event at exactly the
 * watermark can be matched at once, since no event with the same time and
 * a smaller sequence can follow it.  Results are the same either way; this
 * only saves buffering in-order input.  Call before the first push. */
void nfa_matcher_set_ordered(nfa_matcher *m, int ordered);
/* Advance the watermark without an event. */
cep_err nfa_matcher_advance(nfa_matcher *m, int64_t wm);
/* End of input: the watermark goes to +infinity (windows close, timeouts
 * fire, not_followed_by-at-end matches complete) and matches held back by
 * the skip strategy for earlier partial matches are released, since no
 * partial match can complete any more. */
cep_err nfa_matcher_finish(nfa_matcher *m);

/* The current watermark. */
int64_t nfa_matcher_watermark(const nfa_matcher *m);
void    nfa_matcher_stats(const nfa_matcher *m, nfa_stats *out);

/* Append the matcher's whole state to out. */
cep_err nfa_matcher_save(const nfa_matcher *m, cep_buf *out);
/* Load state saved by nfa_matcher_save into a matcher that has not been
 * used yet.  CEP_ECORRUPT for damaged bytes or a program with another
 * fingerprint (the matcher is then left empty). */
cep_err nfa_matcher_restore(nfa_matcher *m, const void *data, size_t len);

/* Build the output record of a match into b (reset first; finished, see
 * cep_builder_peek), as below. */
cep_err nfa_match_record(
    const nfa_match *m, cep_builder *b, nfa_scratch *scratch);
/* Build the output record of a match (see PATTERNS.md, "Matches"):
 * {"pattern", "key", "start", "end", ["timeout": true,] "match": {step:
 * [events]}, ["emit": {...},] "id"}.  emit expressions are evaluated with
 * scratch; a failing one gives null.  The record is finished into slab
 * (NULL: cep_alloc). */
cep_err nfa_match_build(const nfa_match *m, cep_builder *b,
    nfa_scratch *scratch, cep_slab *slab, cep_event **out);
/* The match's id: 32 hex digits (plus NUL) from a 128-bit hash of the
 * pattern name, the timeout flag and the events' sequence numbers; equal
 * after a restart or a replay of the same input.  Its first 64 bits are
 * returned as a number. */
uint64_t nfa_match_id(const nfa_match *m, char out[33]);

#endif
