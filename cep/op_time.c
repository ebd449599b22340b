/* SPDX-License-Identifier: MIT */
/*
 * op_time.c: event-time assignment and the watermark.
 *
 * Reads each event's time field (integer milliseconds, or a double with an
 * integral value) and keeps the watermark at the highest time seen minus
 * max_delay.  An event older than the watermark is late: it leaves through
 * side output "late", as do events without a usable time through
 * "no_time".  Lateness is decided here, once, so that what follows does
 * not depend on how records are spread among workers.
 */
#include <math.h>
#include <string.h>

#include "cep/buf.h"
#include "cep/duration.h"
#include "cep/flow_impl.h"
#include "cep/hash.h"

struct time_conf {
	cep_path field;
	int64_t  delay;
};

struct time_inst {
	const struct time_conf *conf;
	int64_t                 wm;
};

/* cep__event_time reads a time field: an int, or an integral double,
 * within CEP_TIME_LIMIT of 0. */
int
cep__event_time(const cep_path *field, const cep_event *ev, int64_t *ts)
{
	const double limit = (double) CEP_TIME_LIMIT;
	cep_val      v;

	cep_slot_val(ev, cep_event_find_path(ev, field->syms, field->n), &v);
	if (v.type == CEP_T_INT && v.u.i >= -CEP_TIME_LIMIT &&
	    v.u.i <= CEP_TIME_LIMIT) {
		*ts = v.u.i;
		return (1);
	}
	if (v.type == CEP_T_DOUBLE && v.u.d == trunc(v.u.d) &&
	    v.u.d >= -limit && v.u.d <= limit) {
		*ts = (int64_t) v.u.d;
		return (1);
	}
	return (0);
}

static cep_err
time_create(const void *conf, int ordered, void **out)
{
	struct time_inst *t = cep_zalloc(sizeof(*t));

	(void) ordered;
	if (t == NULL) {
		return (CEP_ENOMEM);
	}
	t->conf = conf;
	t->wm   = CEP_WM_MIN;
	*out    = t;
	return (CEP_OK);
}

static void
time_destroy(void *inst)
{
	cep_free(inst, sizeof(struct time_inst));
}

static cep_err
time_push(void *inst, unsigned port, const cep_record *recs, size_t n,
    cep_op_ctx *ctx)
{
	struct time_inst *t = inst;

	(void) port;
	for (size_t i = 0; i < n; i++) {
		cep_record r = recs[i];
		int64_t    wm;
		cep_err    rv;

		if (r.ev == NULL) {
			continue;
		}
		if (!cep__event_time(&t->conf->field, r.ev, &r.ts)) {
			rv = cep_op_emit_side(ctx, "no_time", &r);
		} else if (r.ts < t->wm) {
			rv = cep_op_emit_side(ctx, "late", &r);
		} else {
			wm = r.ts < CEP_WM_MIN + t->conf->delay
			    ? CEP_WM_MIN
			    : r.ts - t->conf->delay;
			if (wm > t->wm) {
				t->wm = wm;
			}
			r.wm = t->wm;
			rv   = cep_op_forward(ctx, &r);
		}
		if (rv != CEP_OK) {
			return (rv);
		}
	}
	return (CEP_OK);
}

static cep_err
time_save(void *inst, const char *ns, cep_state_out *out)
{
	const struct time_inst *t = inst;
	uint8_t                 b[8];

	for (int i = 0; i < 8; i++) {
		b[i] = (uint8_t) ((uint64_t) t->wm >> (8 * i));
	}
	return (cep_state_put(out, ns, "", 0, b, sizeof(b)));
}

static cep_err
load_wm(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct time_inst *t = arg;
	cep_rd            r;

	(void) key;
	if (klen != 0 || vlen != 8) {
		return (CEP_ECORRUPT);
	}
	cep_rd_init(&r, val, vlen);
	t->wm = cep_rd_i64(&r);
	return (CEP_OK);
}

static cep_err
time_load(void *inst, const char *ns, cep_state_in *in)
{
	return (cep_state_each(in, ns, load_wm, inst));
}

static void
time_conf_free(void *conf)
{
	struct time_conf *c = conf;

	cep_path_fini(&c->field);
	cep_free(c, sizeof(*c));
}

static uint64_t
time_fingerprint(const void *conf)
{
	const struct time_conf *c = conf;

	return (cep_hash64(
	    c->field.text, strlen(c->field.text), (uint64_t) c->delay));
}

const cep_op_class cep__op_time = {
	.name        = "time",
	.inputs      = 1,
	.create      = time_create,
	.push        = time_push,
	.save        = time_save,
	.load        = time_load,
	.destroy     = time_destroy,
	.conf_free   = time_conf_free,
	.fingerprint = time_fingerprint,
};

cep_stream *
cep_flow_time(cep_stream *in, const char *field, int64_t max_delay)
{
	struct time_conf *c;

	if (in == NULL) {
		return (NULL);
	}
	if (field == NULL || max_delay < 0 ||
	    (c = cep_zalloc(sizeof(*c))) == NULL) {
		in->f->err = in->f->err != CEP_OK ? in->f->err : CEP_EINVAL;
		return (NULL);
	}
	c->delay = max_delay;
	if (cep_path_parse(&c->field, field, strlen(field)) != CEP_OK) {
		time_conf_free(c);
		in->f->err = in->f->err != CEP_OK ? in->f->err : CEP_EINVAL;
		return (NULL);
	}
	return (cep__flow_add_op(in->f, &in, 1, &cep__op_time, c));
}
