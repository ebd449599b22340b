/* SPDX-License-Identifier: MIT */
/*
 * flood.c: the C API of the dataflow core and of the pattern engine, in
 * one small program.
 *
 *	flood [EVENTS.jsonl]
 *
 * Reads events (JSON Lines; by default the sample next to this file),
 * keeps the HTTP requests, counts them per source in one-second tumbling
 * windows, and reports each source that sent more than THRESHOLD requests
 * in each of three consecutive seconds: one JSON line per alert, the match
 * record of the pattern with the three windows in it.
 *
 *	file -> filter(http) -> time(ts) -> key_by(src) -> window(1 s, count)
 *	     -> key_by(src) -> pattern(hot x3, consecutive) -> print
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cep/cep.h"
#include "nfa/nfa.h"

#define THRESHOLD "5"  /* requests per second */
#define MAX_DELAY 1000 /* ms of disorder the input may have */

/* Fail with a message; the error code says what went wrong. */
static void
die(const char *what, cep_err err)
{
	fprintf(stderr, "flood: %s: %s\n", what, cep_strerror(err));
	exit(1);
}

/* The filter: events whose "kind" is "http".  Filters (like map and
 * flat_map functions) may run on several threads at once. */
static int
is_http(void *arg, const cep_event *ev)
{
	cep_val kind;

	(void) arg;
	cep_slot_val(
	    ev, cep_event_find(ev, cep_sym_intern_str("kind")), &kind);
	return (kind.type == CEP_T_STR && strcmp(kind.u.s, "http") == 0);
}

/* The sink: each match record as a JSON line.  Sinks are called one at a
 * time; the event lives until the call returns. */
static cep_err
print_alert(void *arg, const cep_record *r)
{
	cep_buf *line = arg;
	cep_err  rv;

	cep_buf_reset(line);
	if ((rv = cep_json_write_event(line, r->ev)) != CEP_OK) {
		return (rv);
	}
	cep_buf_put_u8(line, '\n');
	fwrite(line->data, 1, line->len, stdout);
	return (cep_buf_status(line));
}

/* flood_pattern builds, by hand, what this YAML would load:
 *
 *	name: flood
 *	key: src
 *	skip: skip_past_last_event
 *	sequence:
 *	  - begin: hot
 *	    where: requests > 5
 *	    times: 3
 *	    consecutive: true
 */
static nfa_prog *
flood_pattern(void)
{
	static const char *const leaves[]  = { "hot" };
	const char              *where     = "requests > " THRESHOLD;
	const uint8_t            visible[] = { 1 }; /* hot loops: its events */
	nfa_pattern             *p         = nfa_pattern_create();
	cep_diag                *diag      = cep_diag_create();
	nfa_scope                scope = { leaves, 1, visible, "hot", { 0 } };
	nfa_prog                *prog  = NULL;
	nfa_step                *hot;
	cep_err                  rv;

	if (p == NULL || diag == NULL ||
	    (p->name = cep_strdup("flood")) == NULL ||
	    (p->steps = cep_calloc(1, sizeof(nfa_step))) == NULL ||
	    (p->leaves = cep_calloc(1, sizeof(char *))) == NULL ||
	    (p->leaves[0] = cep_strdup("hot")) == NULL) {
		die("pattern", CEP_ENOMEM);
	}
	p->nsteps  = 1;
	p->nleaves = 1;
	p->skip    = NFA_SKIP_PAST_LAST_EVENT;
	if ((rv = cep_path_parse(&p->key, "src", 3)) != CEP_OK) {
		die("pattern key", rv);
	}
	/* One step: three consecutive windows over the threshold. */
	hot              = &p->steps[0];
	hot->join        = NFA_JOIN_BEGIN;
	hot->quant       = NFA_QUANT_TIMES;
	hot->times_min   = 3;
	hot->times_max   = 3;
	hot->consecutive = true;
	hot->leaf        = 0;
	if ((hot->name = cep_strdup("hot")) == NULL) {
		die("pattern", CEP_ENOMEM);
	}
	/* Conditions are compiled against the pattern's step names. */
	rv = nfa_expr_compile(where, strlen(where), &scope, &hot->where, diag);
	/* Then the pattern is checked against FlinkCEP's rules, and
	 * compiled; the program owns the pattern from here on. */
	if (rv == CEP_OK) {
		rv = nfa_pattern_validate(p, diag);
	}
	if (rv == CEP_OK) {
		rv = nfa_prog_create(p, &prog, diag);
	}
	if (rv != CEP_OK) {
		cep_diag_print(diag, stderr);
		die("pattern", rv);
	}
	cep_diag_destroy(diag);
	return (prog);
}

int
main(int argc, char **argv)
{
	const char      *path   = argc > 1 ? argv[1] : FLOOD_SAMPLE;
	const cep_window second = { CEP_WINDOW_TUMBLE, 1000, 0 };
	const cep_agg    count  = { "requests", CEP_AGG_COUNT, NULL };
	nfa_prog        *prog   = flood_pattern();
	cep_flow        *flow   = NULL;
	cep_stream      *s;
	cep_buf          line;
	cep_err          rv;

	cep_buf_init(&line);
	if ((rv = cep_flow_create(&flow)) != CEP_OK) {
		die("flow", rv);
	}
	/* Build the graph.  A builder given NULL returns NULL and the first
	 * error sticks in the flow, so the chain is checked once, below. */
	s = cep_flow_file(flow, path, CEP_FORMAT_JSONL);
	s = cep_flow_filter(s, is_http, NULL);
	s = cep_flow_time(s, "ts", MAX_DELAY);
	s = cep_flow_key_by(s, "src");
	s = cep_flow_window(s, &second, &count, 1, "ts");
	s = cep_flow_key_by(s, "src");
	s = nfa_flow_pattern(s, prog, NULL); /* takes its own reference */
	cep_flow_sink(s, print_alert, &line);
	if ((rv = cep_flow_error(flow)) != CEP_OK) {
		die("building the flow", rv);
	}
	/* Run until the file ends; its end closes every window. */
	if ((rv = cep_flow_run(flow, NULL)) != CEP_OK) {
		die(path, rv);
	}
	cep_flow_destroy(flow);
	nfa_prog_unref(prog);
	cep_buf_fini(&line);
	return (0);
}
