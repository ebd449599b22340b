/* SPDX-License-Identifier: MIT */
/*
 * job.h: the dataflow graph of a rule set.
 *
 * A job turns loaded rules into a flow (cep/flow.h): a source of events,
 * one event-time assigner per distinct (time field, max_delay), each
 * derived stream as filter -> key_by -> window, and each pattern as
 * key_by -> CEP operator -> the match sink (shadow patterns are measured,
 * not published).  `cep run` runs it over a file; the service will run the
 * same graph over the bus.  Side outputs are counted: late events, events
 * without a usable time or key.
 */
#ifndef SRV_JOB_H
#define SRV_JOB_H

#include <stdatomic.h>

#include "cep/cep.h"
#include "nfa/nfa.h"
#include "server/rules.h"

typedef struct srv_job_opts {
	const char *input; /* events file, "-" for standard input */
	cep_format  format;
	int64_t     max_delay; /* for patterns and streams without one */
	int         max_delay_set;
	/* Where published match records go (called one at a time). */
	cep_sink_fn on_match;
	void       *on_match_arg;
	/* Publish in one order for any number of workers: by the time each
	 * match came out, then pattern and key, each key's matches in the
	 * matcher's order.  Matches wait for the watermark: for replays. */
	int ordered;
	/* Records of the input that do not decode. */
	cep_bad_record_fn on_bad_record;
	void             *on_bad_record_arg;
	/* Events a pattern cannot time: name of the time field, pattern(s)
	 * using it, the record's position. */
	void (*on_no_time)(void *arg, const char *field, uint64_t pos);
	void *on_no_time_arg;
} srv_job_opts;

typedef struct srv_job_stats {
	uint64_t events;    /* records read from the input */
	uint64_t late;      /* dropped as late, over all assigners */
	uint64_t no_time;   /* (event, assigner) pairs without a time */
	uint64_t matches;   /* completed matches, shadow ones included */
	uint64_t timeouts;  /* timed-out partial matches */
	uint64_t dropped;   /* partial matches over max_partial_matches */
	uint64_t published; /* records handed to on_match */
} srv_job_stats;

typedef struct srv_job srv_job;

/* Compile every pattern (the job takes them over from rules, which must
 * outlive the job) and build the flow.  Compile errors go to diag. */
cep_err srv_job_create(
    srv_rules *rules, const srv_job_opts *opts, srv_job **out, cep_diag *diag);
void srv_job_destroy(srv_job *j);
/* The flow to run (owned by the job). */
cep_flow *srv_job_flow(srv_job *j);
/* Counters so far (thread-safe). */
void srv_job_stats_get(srv_job *j, srv_job_stats *out);
/* Calls fn for each pattern and stream with a key: its name, its key
 * field, and the events it received without a usable key so far. */
void srv_job_each_no_key(srv_job *j,
    void (*fn)(void *arg, const char *owner, const char *field, uint64_t n),
    void *arg);

#endif
