/* SPDX-License-Identifier: MIT */
/*
 * flow_support.h: helpers for the suites of the dataflow core.
 *
 * Temporary input files, a sink that collects records as JSON text, and
 * comparisons of collected outputs: exact (one thread), or as a multiset
 * with the same order for each key (several workers, whose interleaving
 * of keys is free).
 */
#ifndef CEP_FLOW_SUPPORT_H
#define CEP_FLOW_SUPPORT_H

#include <pthread.h>
#include <stdio.h>

#include "cep/cep.h"
#include "tests/support/test_support.h"

/* A new temporary file holding text; returns its path (free it with
 * cep_test_tmp_remove, which also unlinks the file). */
char *cep_test_tmp_write(const char *text);
/* A new empty temporary file open for writing; its path goes to *path. */
FILE *cep_test_tmp_open(char **path);
void  cep_test_tmp_remove(char *path);
/* A temporary copy of the file at path with its first `skip` lines blank
 * and the rest unchanged, so that positions (sequences, match ids) stay:
 * the input left after a stop.  Free with cep_test_tmp_remove. */
char *cep_test_rest_of(const char *path, uint64_t skip);

/* One collected record. */
typedef struct cep_test_rec {
	char    *json; /* the event as compact JSON */
	char    *key;  /* the key field as JSON ("" when not asked for) */
	int64_t  ts;
	int64_t  wm;
	uint64_t seq;
} cep_test_rec;

typedef struct cep_test_out {
	cep_test_rec *r;
	size_t        n;
	size_t        cap;
	cep_path      key;    /* n == 0: keys are not collected */
	size_t    stop_after; /* cep_flow_stop after this many (0: never) */
	cep_flow *flow;       /* to stop */
	cep_err   fail_with;  /* return this from the sink at stop_after */
	/* Several sinks may collect into one: each sink's callbacks come one
	 * at a time, different sinks' at once. */
	pthread_mutex_t lock;
} cep_test_out;

/* key_field: the field naming a record's key for per-key order, or NULL. */
void cep_test_out_init(cep_test_out *o, const char *key_field);
void cep_test_out_fini(cep_test_out *o);
/* Forget collected records (keeps the key field). */
void cep_test_out_clear(cep_test_out *o);
/* A cep_sink_fn collecting into arg (a cep_test_out). */
cep_err cep_test_out_sink(void *arg, const cep_record *r);
/* The collected JSON, one record per line in arrival order or sorted
 * (static buffer, valid until the next call). */
const char *cep_test_out_text(const cep_test_out *o, int sorted);
/* Assert that a and b hold the same multiset of records and that each
 * key's records come in the same order. */
void cep_test_out_assert_same(const cep_test_out *a, const cep_test_out *b);
/* The same multiset, in whatever order. */
void cep_test_out_assert_same_set(
    const cep_test_out *a, const cep_test_out *b);

/* A stateless class moving each record's time back by its integer field
 * "back": records that fall behind the watermark reach what follows late
 * (the event itself is unchanged). */
extern const cep_op_class cep_test_shift_class;

/* A reload requested from another thread at an exact point of a run:
 * put cep_test_reloader_sink on a stream of the running flow's source
 * thread (the source itself); when it has seen `at` records it wakes the
 * reloading thread and holds the source thread until the request is
 * posted, so the reload is applied right after that batch. */
typedef struct cep_test_reloader {
	cep_flow       *running;
	cep_flow       *next;
	uint64_t        at;
	uint64_t        seen;
	cep_err         rv; /* what cep_flow_reload returned */
	pthread_t       thread;
	pthread_mutex_t lock;
	pthread_cond_t  cond;
	int             go;
} cep_test_reloader;

void cep_test_reloader_start(
    cep_test_reloader *r, cep_flow *running, cep_flow *next, uint64_t at);
cep_err cep_test_reloader_sink(void *arg, const cep_record *rec);
/* Wait for the reloading thread; returns what the reload returned. */
cep_err cep_test_reloader_join(cep_test_reloader *r);

/* Run f with n workers (batch and in_flight 0: defaults). */
cep_err cep_test_run_flow(cep_flow *f, unsigned workers, unsigned batch);

#endif
