/* SPDX-License-Identifier: MIT */
/*
 * operator.c: the CEP operator: a matcher as a keyed dataflow operator.
 *
 * Each instance owns a matcher of the shared, immutable program.  Records
 * go to nfa_matcher_push with their time, sequence and watermark; bare
 * watermarks advance it; the last one (+infinity) finishes it.  Matches are
 * built into the instance's builder and emitted as records timed when they
 * came out (nfa_match.at), never behind the watermark, and sequenced by
 * their pattern and key: an ordered sink puts the matches of one time in
 * one order however the keys are spread over workers, and keeps each
 * key's in the order the matcher gave them.
 */
#include <string.h>

#include "nfa/nfa_impl.h"
#include "nfa/operator.h"

struct op_conf {
	nfa_prog     *prog;
	nfa_op_stats *stats;
};

struct op_inst {
	const struct op_conf *c;
	nfa_matcher          *m;
	nfa_scratch          *scratch;
	cep_op_ctx           *ctx; /* during push */
	nfa_stats             reported; /* counters added to c->stats so far */
	int                   finished;
};

static cep_err
on_match(void *arg, const nfa_match *match)
{
	struct op_inst *o   = arg;
	cep_builder    *b   = cep_op_builder(o->ctx);
	uint64_t        seq = nfa_prog_fingerprint(match->prog);
	cep_err         rv;

	if (match->key != NULL) {
		seq = cep_val_hash(match->key, seq);
	}
	if ((rv = nfa_match_record(match, b, o->scratch)) != CEP_OK) {
		return (rv);
	}
	return (cep_op_emit_built(o->ctx, b, match->at, CEP_WM_MIN, seq));
}

static cep_err
op_create(const void *conf, int ordered, void **out)
{
	const struct op_conf *c = conf;
	struct op_inst       *o = cep_zalloc(sizeof(*o));
	cep_err               rv;

	if (o == NULL) {
		return (CEP_ENOMEM);
	}
	o->c = c;
	if ((o->scratch = nfa_scratch_create()) == NULL) {
		cep_free(o, sizeof(*o));
		return (CEP_ENOMEM);
	}
	if ((rv = nfa_matcher_create(c->prog, on_match, o, &o->m)) != CEP_OK) {
		nfa_scratch_destroy(o->scratch);
		cep_free(o, sizeof(*o));
		return (rv);
	}
	nfa_matcher_set_ordered(o->m, ordered);
	*out = o;
	return (CEP_OK);
}

/* add_stats folds what an instance counted since the last call into the
 * operator's counters, after each batch, so that they are current while
 * the flow runs. */
static void
add_stats(struct op_inst *o)
{
	nfa_op_stats *s = o->c->stats;
	nfa_stats    *r = &o->reported;
	nfa_stats     st;

	if (s == NULL) {
		return;
	}
	nfa_matcher_stats(o->m, &st);
	atomic_fetch_add(&s->events, st.events - r->events);
	atomic_fetch_add(&s->late, st.late - r->late);
	atomic_fetch_add(&s->bad_key, st.bad_key - r->bad_key);
	atomic_fetch_add(&s->matches, st.matches - r->matches);
	atomic_fetch_add(&s->timeouts, st.timeouts - r->timeouts);
	atomic_fetch_add(&s->dropped, st.dropped - r->dropped);
	atomic_fetch_add(&s->expired, st.expired - r->expired);
	*r = st;
}

static void
op_destroy(void *inst)
{
	struct op_inst *o = inst;

	nfa_matcher_destroy(o->m);
	nfa_scratch_destroy(o->scratch);
	cep_free(o, sizeof(*o));
}

static cep_err
op_push(void *inst, unsigned port, const cep_record *recs, size_t n,
    cep_op_ctx *ctx)
{
	struct op_inst *o  = inst;
	cep_err         rv = CEP_OK;

	(void) port;
	o->ctx = ctx;
	for (size_t i = 0; i < n && rv == CEP_OK && !o->finished; i++) {
		const cep_record *r = &recs[i];
		int               late;
		if (r->ev == NULL) {
			rv = nfa_matcher_advance(o->m, r->wm);
		} else if ((rv = nfa_matcher_push(o->m, r->ev, r->ts, r->seq,
		                r->wm, &late)) == CEP_OK &&
		    late) {
			rv = cep_op_emit_side(ctx, "late", r);
		}
		if (rv == CEP_OK && r->wm == CEP_WM_MAX) {
			rv          = nfa_matcher_finish(o->m);
			o->finished = 1;
		}
	}
	add_stats(o);
	o->ctx = NULL;
	return (rv);
}

static cep_err
op_save(void *inst, const char *ns, cep_state_out *out)
{
	struct op_inst *o = inst;
	cep_buf         b;
	cep_err         rv;

	cep_buf_init(&b);
	if ((rv = nfa_matcher_save(o->m, &b)) == CEP_OK) {
		rv = cep_state_put(out, ns, "", 0, b.data, b.len);
	}
	cep_buf_fini(&b);
	return (rv);
}

static cep_err
load_entry(
    void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct op_inst *o = arg;

	(void) key;
	if (klen != 0) {
		return (CEP_ECORRUPT);
	}
	return (nfa_matcher_restore(o->m, val, vlen));
}

static cep_err
op_load(void *inst, const char *ns, cep_state_in *in)
{
	return (cep_state_each(in, ns, load_entry, inst));
}

static void
op_conf_free(void *conf)
{
	struct op_conf *c = conf;

	nfa_prog_unref(c->prog);
	cep_free(c, sizeof(*c));
}

static uint64_t
op_fingerprint(const void *conf)
{
	const struct op_conf *c = conf;

	return (nfa_prog_fingerprint(c->prog));
}

static const cep_op_class pattern_class = {
	.name        = "cep",
	.flags       = CEP_OP_KEYED,
	.inputs      = 1,
	.create      = op_create,
	.push        = op_push,
	.save        = op_save,
	.load        = op_load,
	.destroy     = op_destroy,
	.conf_free   = op_conf_free,
	.fingerprint = op_fingerprint,
};

cep_stream *
nfa_flow_pattern(cep_stream *keyed, nfa_prog *prog, nfa_op_stats *stats)
{
	struct op_conf *c;

	if (keyed == NULL) {
		return (NULL);
	}
	if ((c = cep_zalloc(sizeof(*c))) == NULL) {
		cep_flow_set_error(cep_stream_flow(keyed), CEP_ENOMEM);
		return (NULL);
	}
	nfa_prog_ref(prog);
	c->prog  = prog;
	c->stats = stats;
	return (cep_flow_op(&keyed, 1, &pattern_class, c));
}
