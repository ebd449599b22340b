/* SPDX-License-Identifier: MIT */
/*
 * match.c: turning a match into its output record, and its id.
 *
 *	{"pattern":"p","key":"c-17","start":1,"end":9,["timeout":true,]
 *	 "match":{"small":[{...},...],"big":[{...}]},["emit":{...},]
 *	 "id":"4f6c..."}
 *
 * Steps appear in pattern order, each with its events in acceptance
 * order.  emit expressions see the match's events by step (aggregates)
 * and its last event (bare field names).
 */
#include <string.h>

#include "nfa/nfa_impl.h"

/* Events of a match grouped by step, for aggregates in emit. */
struct by_step {
	const nfa_match  *m;
	const cep_event **events; /* grouped by step */
	size_t           *off;
	size_t           *count;
};

static cep_err
match_step_events(void *arg, uint32_t step, const cep_event *const **events,
    size_t *n)
{
	const struct by_step *bs = arg;

	if (step >= bs->m->prog->pattern->nleaves) {
		*events = NULL;
		*n      = 0;
		return (CEP_OK);
	}
	*events = bs->events + bs->off[step];
	*n      = bs->count[step];
	return (CEP_OK);
}

static cep_err
group_by_step(const nfa_match *m, struct by_step *bs)
{
	size_t nleaves = m->prog->pattern->nleaves, off = 0;
	size_t *pos;

	bs->m      = m;
	bs->events = cep_calloc(m->nevents + 1, sizeof(*bs->events));
	bs->off    = cep_calloc(nleaves + 1, sizeof(size_t));
	bs->count  = cep_calloc(nleaves + 1, sizeof(size_t));
	pos        = cep_calloc(nleaves + 1, sizeof(size_t));
	if (bs->events == NULL || bs->off == NULL || bs->count == NULL ||
	    pos == NULL) {
		cep_free(pos, (nleaves + 1) * sizeof(size_t));
		return (CEP_ENOMEM);
	}
	for (size_t i = 0; i < m->nevents; i++) {
		bs->count[m->events[i].step]++;
	}
	for (size_t s = 0; s < nleaves; s++) {
		bs->off[s] = pos[s] = off;
		off += bs->count[s];
	}
	for (size_t i = 0; i < m->nevents; i++) {
		bs->events[pos[m->events[i].step]++] = m->events[i].ev;
	}
	cep_free(pos, (nleaves + 1) * sizeof(size_t));
	return (CEP_OK);
}

static void
by_step_fini(const nfa_match *m, struct by_step *bs)
{
	size_t nleaves = m->prog->pattern->nleaves;

	cep_free(bs->events, (m->nevents + 1) * sizeof(*bs->events));
	cep_free(bs->off, (nleaves + 1) * sizeof(size_t));
	cep_free(bs->count, (nleaves + 1) * sizeof(size_t));
}

/* nfa_match_id hashes the pattern name, a NUL, the timeout flag, then
 * each event's sequence (8 bytes) and step (2 bytes), little-endian.  It
 * is fed to the hash in pieces: building the input in a buffer could fail
 * for want of memory, and an id cannot. */
uint64_t
nfa_match_id(const nfa_match *m, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	cep_hash128_state st;
	const char       *name = m->prog->pattern->name;
	uint64_t          hi, lo;
	uint8_t           bytes[16];

	cep_hash128_init(&st);
	cep_hash128_add(&st, name, strlen(name) + 1);
	bytes[0] = (uint8_t) (m->timeout != 0);
	cep_hash128_add(&st, bytes, 1);
	for (size_t i = 0; i < m->nevents; i++) {
		uint64_t seq = m->events[i].seq;
		for (int k = 0; k < 8; k++) {
			bytes[k] = (uint8_t) (seq >> (8 * k));
		}
		bytes[8] = (uint8_t) m->events[i].step;
		bytes[9] = (uint8_t) (m->events[i].step >> 8);
		cep_hash128_add(&st, bytes, 10);
	}
	cep_hash128_digest(&st, &hi, &lo);
	for (int i = 0; i < 8; i++) {
		bytes[i]     = (uint8_t) (hi >> (56 - 8 * i));
		bytes[8 + i] = (uint8_t) (lo >> (56 - 8 * i));
	}
	for (int i = 0; i < 16; i++) {
		out[2 * i]     = hex[bytes[i] >> 4];
		out[2 * i + 1] = hex[bytes[i] & 15];
	}
	out[32] = '\0';
	return (hi);
}

static cep_err
put_events(cep_builder *b, const nfa_match *m)
{
	const nfa_pattern *p  = m->prog->pattern;
	cep_err            rv = CEP_OK;

	for (size_t s = 0; rv == CEP_OK && s < p->nleaves; s++) {
		int opened = 0;
		for (size_t i = 0; rv == CEP_OK && i < m->nevents; i++) {
			if (m->events[i].step != s) {
				continue;
			}
			if (!opened) {
				rv = cep_builder_key(b, p->leaves[s],
				    strlen(p->leaves[s]));
				if (rv == CEP_OK) {
					rv = cep_builder_array_begin(b);
				}
				opened = 1;
			}
			if (rv == CEP_OK) {
				rv = cep_builder_event(b, m->events[i].ev);
			}
		}
		if (opened && rv == CEP_OK) {
			rv = cep_builder_end(b);
		}
	}
	return (rv);
}

static cep_err
put_emit(cep_builder *b, const nfa_match *m, nfa_scratch *scratch)
{
	const nfa_pattern *p = m->prog->pattern;
	struct by_step     bs;
	nfa_eval_ctx       ctx;
	cep_err            rv;

	if ((rv = group_by_step(m, &bs)) != CEP_OK) {
		by_step_fini(m, &bs);
		return (rv);
	}
	ctx.event       = m->nevents > 0 ? m->events[m->nevents - 1].ev : NULL;
	ctx.step_events = match_step_events;
	ctx.arg         = &bs;
	ctx.scratch     = scratch;
	rv              = cep_builder_key(b, "emit", 4);
	if (rv == CEP_OK) {
		rv = cep_builder_map_begin(b);
	}
	for (size_t i = 0; rv == CEP_OK && i < p->nemit; i++) {
		cep_val v;
		if (nfa_expr_eval(p->emit[i].expr, &ctx, &v) != CEP_OK) {
			v = cep_val_null();
		}
		rv = cep_builder_key(b, p->emit[i].name, strlen(p->emit[i].name));
		if (rv == CEP_OK) {
			rv = cep_builder_val(b, &v);
		}
		nfa_scratch_reset(scratch);
	}
	if (rv == CEP_OK) {
		rv = cep_builder_end(b);
	}
	by_step_fini(m, &bs);
	return (rv);
}

cep_err
nfa_match_record(const nfa_match *m, cep_builder *b, nfa_scratch *scratch)
{
	const nfa_pattern *p = m->prog->pattern;
	char               id[33];
	cep_err            rv;

	cep_builder_reset(b);
	nfa_match_id(m, id);
	rv = cep_builder_map_begin(b);
#define PUT(call)                                                            \
	do {                                                                 \
		if (rv == CEP_OK) {                                          \
			rv = (call);                                         \
		}                                                            \
	} while (0)
	PUT(cep_builder_key(b, "pattern", 7));
	PUT(cep_builder_str(b, p->name, strlen(p->name)));
	PUT(cep_builder_key(b, "key", 3));
	PUT(cep_builder_val(b, m->key));
	PUT(cep_builder_key(b, "start", 5));
	PUT(m->nevents > 0 ? cep_builder_int(b, m->events[0].ts)
	                   : cep_builder_null(b));
	PUT(cep_builder_key(b, "end", 3));
	PUT(m->nevents > 0 ? cep_builder_int(b, m->events[m->nevents - 1].ts)
	                   : cep_builder_null(b));
	if (m->timeout) {
		PUT(cep_builder_key(b, "timeout", 7));
		PUT(cep_builder_bool(b, 1));
	}
	PUT(cep_builder_key(b, "match", 5));
	PUT(cep_builder_map_begin(b));
	PUT(put_events(b, m));
	PUT(cep_builder_end(b));
	if (p->nemit > 0) {
		PUT(put_emit(b, m, scratch));
	}
	PUT(cep_builder_key(b, "id", 2));
	PUT(cep_builder_str(b, id, 32));
	PUT(cep_builder_end(b));
#undef PUT
	if (rv != CEP_OK) {
		cep_builder_reset(b);
	}
	return (rv);
}

cep_err
nfa_match_build(const nfa_match *m, cep_builder *b, nfa_scratch *scratch,
    cep_slab *slab, cep_event **out)
{
	cep_err rv = nfa_match_record(m, b, scratch);

	return (rv != CEP_OK ? rv : cep_builder_finish(b, slab, out));
}
