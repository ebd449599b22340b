/* SPDX-License-Identifier: MIT */
/*
 * job.c: building the dataflow graph of a rule set (see job.h).
 *
 * Inputs are built on demand and shared: one event-time assigner per
 * (time field, max_delay), one window chain per derived stream, however
 * many patterns read them.  Operators get stable names ("pattern:NAME",
 * "stream:NAME", "time:FIELD:DELAY") so that a reload keeps the state of
 * what did not change.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "server/job.h"

struct assigner {
	char       *field;
	int64_t     delay;
	cep_stream *out;
};

struct built {
	const srv_stream *spec;
	cep_stream       *out;
	int               building;
};

/* What a side-output sink needs. */
struct side_ctx {
	srv_job              *job;
	atomic_uint_fast64_t *counter; /* the job's total, but for no_key */
	const char           *field;   /* no_time, no_key: the field */
	const char           *owner;   /* no_key: the pattern or stream */
	atomic_uint_fast64_t  own;     /* no_key: this key_by's count */
};

struct srv_job {
	cep_flow        *flow;
	srv_job_opts     opts;
	srv_rules       *rules;
	nfa_prog       **progs;
	size_t           nprogs;
	nfa_op_stats    *pstats;
	struct assigner *asg;
	size_t           nasg;
	size_t           asg_cap;
	struct built    *built;
	size_t           nbuilt;
	struct side_ctx *sides;
	size_t           nsides;
	size_t           sides_cap;
	cep_stream      *source;
	cep_diag        *diag;

	atomic_uint_fast64_t events;
	atomic_uint_fast64_t late;
	atomic_uint_fast64_t no_time;
	atomic_uint_fast64_t published;
};

/* ---- the stream filter ------------------------------------------------- */

struct where_inst {
	const nfa_expr *e;
	nfa_scratch    *scratch;
};

static cep_err
where_create(const void *conf, int ordered, void **out)
{
	struct where_inst *w = cep_zalloc(sizeof(*w));

	(void) ordered;
	if (w == NULL) {
		return (CEP_ENOMEM);
	}
	w->e = conf;
	if ((w->scratch = nfa_scratch_create()) == NULL) {
		cep_free(w, sizeof(*w));
		return (CEP_ENOMEM);
	}
	*out = w;
	return (CEP_OK);
}

static void
where_destroy(void *inst)
{
	struct where_inst *w = inst;

	nfa_scratch_destroy(w->scratch);
	cep_free(w, sizeof(*w));
}

static cep_err
where_push(void *inst, unsigned port, const cep_record *recs, size_t n,
    cep_op_ctx *ctx)
{
	struct where_inst *w = inst;

	(void) port;
	for (size_t i = 0; i < n; i++) {
		nfa_eval_ctx ec = { recs[i].ev, NULL, NULL, w->scratch };
		cep_err      rv;
		if (recs[i].ev == NULL || !nfa_expr_test(w->e, &ec)) {
			continue;
		}
		if ((rv = cep_op_forward(ctx, &recs[i])) != CEP_OK) {
			return (rv);
		}
	}
	return (CEP_OK);
}

static uint64_t
where_fingerprint(const void *conf)
{
	const char *text = nfa_expr_text(conf);

	return (cep_hash64(text, strlen(text), 0x7768));
}

static const cep_op_class where_class = {
	.name        = "where",
	.inputs      = 1,
	.create      = where_create,
	.push        = where_push,
	.destroy     = where_destroy,
	.fingerprint = where_fingerprint,
};

/* ---- sinks ------------------------------------------------------------- */

static cep_err
count_sink(void *arg, const cep_record *r)
{
	struct side_ctx *s = arg;

	(void) r;
	atomic_fetch_add(s->counter, 1);
	return (CEP_OK);
}

static cep_err
no_time_sink(void *arg, const cep_record *r)
{
	struct side_ctx *s = arg;

	atomic_fetch_add(s->counter, 1);
	if (s->job->opts.on_no_time != NULL) {
		s->job->opts.on_no_time(
		    s->job->opts.on_no_time_arg, s->field, r->seq);
	}
	return (CEP_OK);
}

static cep_err
no_key_sink(void *arg, const cep_record *r)
{
	struct side_ctx *s = arg;

	(void) r;
	atomic_fetch_add(&s->own, 1);
	return (CEP_OK);
}

static cep_err
publish_sink(void *arg, const cep_record *r)
{
	srv_job *j = arg;

	atomic_fetch_add(&j->published, 1);
	return (j->opts.on_match(j->opts.on_match_arg, r));
}

static struct side_ctx *
add_side_sink(srv_job *j, cep_stream *s, const char *side, cep_sink_fn fn,
    atomic_uint_fast64_t *counter, const char *field)
{
	struct side_ctx *c;

	if (s == NULL) {
		return (NULL);
	}
	/* Contexts live in an array that never moves once the graph is
	 * built: it is sized for every side sink up front. */
	if (j->nsides == j->sides_cap) {
		cep_flow_set_error(j->flow, CEP_EINTERNAL);
		return (NULL);
	}
	c          = &j->sides[j->nsides++];
	c->job     = j;
	c->counter = counter;
	c->field   = field;
	cep_flow_sink(cep_flow_side(s, side), fn, c);
	return (c);
}

/* ---- inputs ------------------------------------------------------------ */

/* name_next names the next operator of the flow. */
static void name_next(srv_job *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
name_next(srv_job *j, const char *fmt, ...)
{
	cep_buf b;
	va_list ap;
	int     n;

	cep_buf_init(&b);
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n >= 0 && cep_buf_reserve(&b, (size_t) n + 1) == CEP_OK) {
		va_start(ap, fmt);
		vsnprintf((char *) b.data, (size_t) n + 1, fmt, ap);
		va_end(ap);
		cep_flow_name_next(j->flow, (const char *) b.data);
	} else {
		cep_flow_set_error(j->flow, CEP_ENOMEM);
	}
	cep_buf_fini(&b);
}

static cep_stream *
assigner(srv_job *j, const cep_path *time, int64_t delay)
{
	struct assigner *a;

	for (size_t i = 0; i < j->nasg; i++) {
		if (strcmp(j->asg[i].field, time->text) == 0 &&
		    j->asg[i].delay == delay) {
			return (j->asg[i].out);
		}
	}
	if (cep_grow(&j->asg, &j->asg_cap, j->nasg + 1,
	        sizeof(struct assigner)) != 0) {
		cep_flow_set_error(j->flow, CEP_ENOMEM);
		return (NULL);
	}
	a        = &j->asg[j->nasg];
	a->delay = delay;
	if ((a->field = cep_strdup(time->text)) == NULL) {
		cep_flow_set_error(j->flow, CEP_ENOMEM);
		return (NULL);
	}
	j->nasg++;
	name_next(j, "time:%s:%lld", time->text, (long long) delay);
	a->out = cep_flow_time(j->source, time->text, delay);
	add_side_sink(j, a->out, "late", count_sink, &j->late, NULL);
	add_side_sink(
	    j, a->out, "no_time", no_time_sink, &j->no_time, a->field);
	return (a->out);
}

static int64_t
delay_of(const srv_job *j, int64_t own, int own_set)
{
	if (own_set) {
		return (own);
	}
	return (j->opts.max_delay_set ? j->opts.max_delay : 0);
}

static cep_stream *derived(srv_job *j, const char *name);

static cep_stream *
input_of(srv_job *j, const char *from, const cep_path *time, int64_t delay)
{
	if (from == NULL || strcmp(from, "events") == 0) {
		return (assigner(j, time, delay));
	}
	return (derived(j, from));
}

static cep_stream *
keyed(srv_job *j, cep_stream *in, const cep_path *key, const char *kind,
    const char *uid)
{
	struct side_ctx *c;
	cep_stream      *k;

	name_next(j, "key:%s:%s", kind, uid);
	k = cep_flow_key_by(in, key->n > 0 ? key->text : NULL);
	if (key->n > 0 &&
	    (c = add_side_sink(
	         j, k, "no_key", no_key_sink, NULL, key->text)) != NULL) {
		c->owner = uid;
	}
	return (k);
}

/* derived builds a derived stream (once) and returns its output. */
static cep_stream *
derived(srv_job *j, const char *name)
{
	struct built     *b = NULL;
	const srv_stream *s;
	cep_stream       *in;
	cep_agg          *aggs;
	char             *uid;

	for (size_t i = 0; i < j->nbuilt; i++) {
		if (strcmp(j->built[i].spec->name, name) == 0) {
			b = &j->built[i];
		}
	}
	if (b == NULL || b->building) {
		/* The loader refuses unknown streams and cycles. */
		cep_flow_set_error(j->flow, CEP_EINTERNAL);
		return (NULL);
	}
	if (b->out != NULL) {
		return (b->out);
	}
	s           = b->spec;
	b->building = 1;
	in          = input_of(
	             j, s->from, &s->time, delay_of(j, s->max_delay, s->max_delay_set));
	if (s->where != NULL && in != NULL) {
		name_next(j, "where:%s", s->name);
		in = cep_flow_op(&in, 1, &where_class, s->where);
	}
	uid  = s->name;
	in   = keyed(j, in, &s->key, "stream", uid);
	aggs = cep_calloc(s->naggs + 1, sizeof(cep_agg));
	if (aggs == NULL) {
		cep_flow_set_error(j->flow, CEP_ENOMEM);
		return (NULL);
	}
	for (size_t i = 0; i < s->naggs; i++) {
		aggs[i].name  = s->aggs[i].name;
		aggs[i].kind  = s->aggs[i].kind;
		aggs[i].field = s->aggs[i].field;
	}
	name_next(j, "stream:%s", uid);
	b->out = cep_flow_window(in, &s->window, aggs, s->naggs, s->time.text);
	cep_free(aggs, (s->naggs + 1) * sizeof(cep_agg));
	add_side_sink(j, b->out, "late", count_sink, &j->late, NULL);
	b->building = 0;
	return (b->out);
}

/* ---- the job ----------------------------------------------------------- */

static cep_err
compile(srv_job *j, cep_diag *diag)
{
	srv_rules *r = j->rules;
	cep_err    rv;

	j->progs  = cep_calloc(r->npatterns + 1, sizeof(nfa_prog *));
	j->pstats = cep_calloc(r->npatterns + 1, sizeof(nfa_op_stats));
	if (j->progs == NULL || j->pstats == NULL) {
		return (CEP_ENOMEM);
	}
	for (size_t i = 0; i < r->npatterns; i++) {
		nfa_pattern *p = r->patterns[i];
		if (!p->max_delay_set && j->opts.max_delay_set) {
			p->max_delay = j->opts.max_delay;
		}
		if ((rv = nfa_prog_create(p, &j->progs[i], diag)) != CEP_OK) {
			return (rv);
		}
		r->patterns[i] = NULL;
		j->nprogs++;
	}
	return (CEP_OK);
}

static void
build(srv_job *j)
{
	cep_flow_name_next(j->flow, "source");
	j->source = cep_flow_file(j->flow, j->opts.input, j->opts.format);
	if (j->source != NULL) {
		struct side_ctx *c = &j->sides[j->nsides++];
		c->job             = j;
		c->counter         = &j->events;
		cep_flow_sink(j->source, count_sink, c);
	}
	cep_flow_on_bad_record(
	    j->flow, j->opts.on_bad_record, j->opts.on_bad_record_arg);
	cep_stream *published = NULL;

	for (size_t i = 0; i < j->nprogs; i++) {
		const nfa_pattern *p = nfa_prog_pattern(j->progs[i]);
		cep_stream        *in, *out;

		in = input_of(j, p->from, &p->time,
		    delay_of(j, p->max_delay, p->max_delay_set));
		in = keyed(j, in, &p->key, "pattern", p->name);
		name_next(j, "pattern:%s", p->name);
		out = nfa_flow_pattern(in, j->progs[i], &j->pstats[i]);
		add_side_sink(j, out, "late", count_sink, &j->late, NULL);
		if (out == NULL || p->shadow || j->opts.on_match == NULL) {
			continue;
		}
		if (!j->opts.ordered) {
			cep_flow_sink(out, publish_sink, j);
		} else if (published == NULL) {
			published = out;
		} else {
			name_next(j, "published:%s", p->name);
			published = cep_flow_union(published, out);
		}
	}
	if (published != NULL) {
		cep_flow_sink_ordered(published, publish_sink, j);
	}
}

cep_err
srv_job_create(
    srv_rules *rules, const srv_job_opts *opts, srv_job **out, cep_diag *diag)
{
	srv_job *j = cep_zalloc(sizeof(*j));
	cep_err  rv;

	if (j == NULL) {
		return (CEP_ENOMEM);
	}
	j->opts  = *opts;
	j->rules = rules;
	/* Side sinks: one for the source, two per assigner (at most one
	 * per pattern and stream), one per key_by and per window/pattern. */
	j->sides_cap = 1 + 4 * (rules->npatterns + rules->nstreams);
	j->sides     = cep_calloc(j->sides_cap, sizeof(struct side_ctx));
	j->built     = cep_calloc(rules->nstreams + 1, sizeof(struct built));
	if (j->sides == NULL || j->built == NULL ||
	    cep_flow_create(&j->flow) != CEP_OK) {
		srv_job_destroy(j);
		return (CEP_ENOMEM);
	}
	for (size_t i = 0; i < rules->nstreams; i++) {
		j->built[j->nbuilt++].spec = rules->streams[i];
	}
	if ((rv = compile(j, diag)) != CEP_OK) {
		srv_job_destroy(j);
		return (rv);
	}
	build(j);
	if ((rv = cep_flow_error(j->flow)) != CEP_OK) {
		srv_job_destroy(j);
		return (rv);
	}
	*out = j;
	return (CEP_OK);
}

void
srv_job_destroy(srv_job *j)
{
	if (j == NULL) {
		return;
	}
	cep_flow_destroy(j->flow);
	for (size_t i = 0; i < j->nprogs; i++) {
		nfa_prog_unref(j->progs[i]);
	}
	cep_free(j->progs, (j->rules->npatterns + 1) * sizeof(nfa_prog *));
	cep_free(j->pstats, (j->rules->npatterns + 1) * sizeof(nfa_op_stats));
	for (size_t i = 0; i < j->nasg; i++) {
		cep_strfree(j->asg[i].field);
	}
	cep_free(j->asg, j->asg_cap * sizeof(struct assigner));
	cep_free(j->built, (j->rules->nstreams + 1) * sizeof(struct built));
	cep_free(j->sides, j->sides_cap * sizeof(struct side_ctx));
	cep_free(j, sizeof(*j));
}

cep_flow *
srv_job_flow(srv_job *j)
{
	return (j->flow);
}

void
srv_job_each_no_key(srv_job *j,
    void (*fn)(void *arg, const char *owner, const char *field, uint64_t n),
    void *arg)
{
	for (size_t i = 0; i < j->nsides; i++) {
		if (j->sides[i].owner != NULL) {
			fn(arg, j->sides[i].owner, j->sides[i].field,
			    atomic_load(&j->sides[i].own));
		}
	}
}

void
srv_job_stats_get(srv_job *j, srv_job_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->events    = atomic_load(&j->events);
	out->late      = atomic_load(&j->late);
	out->no_time   = atomic_load(&j->no_time);
	out->published = atomic_load(&j->published);
	for (size_t i = 0; i < j->nprogs; i++) {
		out->late += atomic_load(&j->pstats[i].late);
		out->matches += atomic_load(&j->pstats[i].matches);
		out->timeouts += atomic_load(&j->pstats[i].timeouts);
		out->dropped += atomic_load(&j->pstats[i].dropped);
	}
}
