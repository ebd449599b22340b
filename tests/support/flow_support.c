/* SPDX-License-Identifier: MIT */
/* flow_support.c: temporary files and collecting sinks for flow suites. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cep/flow_impl.h"
#include "tests/support/flow_support.h"

FILE *
cep_test_tmp_open(char **path)
{
	const char *dir = getenv("TMPDIR");
	char       *p;
	size_t      n;
	int         fd;
	FILE       *f;

	if (dir == NULL || dir[0] == '\0') {
		dir = "/tmp";
	}
	n = strlen(dir) + 32;
	p = malloc(n);
	ck_assert_ptr_nonnull(p);
	snprintf(p, n, "%s/cepflowXXXXXX", dir);
	fd = mkstemp(p);
	ck_assert_msg(fd >= 0, "mkstemp %s", p);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	*path = p;
	return (f);
}

char *
cep_test_tmp_write(const char *text)
{
	char *path;
	FILE *f = cep_test_tmp_open(&path);

	ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	ck_assert_int_eq(fclose(f), 0);
	return (path);
}

void
cep_test_tmp_remove(char *path)
{
	if (path != NULL) {
		unlink(path);
		free(path);
	}
}

void
cep_test_out_init(cep_test_out *o, const char *key_field)
{
	memset(o, 0, sizeof(*o));
	pthread_mutex_init(&o->lock, NULL);
	if (key_field != NULL) {
		CEP_ASSERT_OK(
		    cep_path_parse(&o->key, key_field, strlen(key_field)));
	}
}

void
cep_test_out_clear(cep_test_out *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->r[i].json);
		free(o->r[i].key);
	}
	o->n = 0;
}

void
cep_test_out_fini(cep_test_out *o)
{
	cep_test_out_clear(o);
	free(o->r);
	cep_path_fini(&o->key);
	pthread_mutex_destroy(&o->lock);
	memset(o, 0, sizeof(*o));
}

/* text_of returns a malloc'ed copy of a buffer's bytes. */
static char *
text_of(const cep_buf *b)
{
	char *s = malloc(b->len + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, b->data, b->len);
	s[b->len] = '\0';
	return (s);
}

cep_err
cep_test_out_sink(void *arg, const cep_record *r)
{
	cep_test_out *o = arg;
	cep_test_rec *rec;
	cep_buf       b;
	cep_err       rv = CEP_OK;

	pthread_mutex_lock(&o->lock);
	if (o->n == o->cap) {
		o->cap = o->cap == 0 ? 64 : 2 * o->cap;
		o->r   = realloc(o->r, o->cap * sizeof(*o->r));
		ck_assert_ptr_nonnull(o->r);
	}
	rec = &o->r[o->n++];
	cep_buf_init(&b);
	CEP_ASSERT_OK(cep_json_write_event(&b, r->ev));
	rec->json = text_of(&b);
	cep_buf_reset(&b);
	if (o->key.n > 0) {
		cep_val v;
		cep_slot_val(r->ev,
		    cep_event_find_path(r->ev, o->key.syms, o->key.n), &v);
		CEP_ASSERT_OK(cep_json_write_val(&b, &v));
	}
	rec->key = text_of(&b);
	cep_buf_fini(&b);
	rec->ts  = r->ts;
	rec->wm  = r->wm;
	rec->seq = r->seq;
	if (o->stop_after != 0 && o->n == o->stop_after) {
		if (o->fail_with != CEP_OK) {
			rv = o->fail_with;
		} else {
			cep_flow_stop(o->flow);
		}
	}
	pthread_mutex_unlock(&o->lock);
	return (rv);
}

static int
by_json(const void *a, const void *b)
{
	const cep_test_rec *x = *(const cep_test_rec *const *) a;
	const cep_test_rec *y = *(const cep_test_rec *const *) b;

	return (strcmp(x->json, y->json));
}

/* by_key orders by key, then by arrival (the records' addresses). */
static int
by_key(const void *a, const void *b)
{
	const cep_test_rec *x = *(const cep_test_rec *const *) a;
	const cep_test_rec *y = *(const cep_test_rec *const *) b;
	int                 c = strcmp(x->key, y->key);

	return (c != 0 ? c : (x > y) - (x < y));
}

static const cep_test_rec **
sorted(const cep_test_out *o, int (*cmp)(const void *, const void *))
{
	const cep_test_rec **v = calloc(o->n + 1, sizeof(*v));

	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < o->n; i++) {
		v[i] = &o->r[i];
	}
	if (cmp != NULL) {
		qsort(v, o->n, sizeof(*v), cmp);
	}
	return (v);
}

const char *
cep_test_out_text(const cep_test_out *o, int sort)
{
	static char         *text;
	const cep_test_rec **v   = sorted(o, sort ? by_json : NULL);
	size_t               len = 1;

	for (size_t i = 0; i < o->n; i++) {
		len += strlen(v[i]->json) + 1;
	}
	free(text);
	text = malloc(len);
	ck_assert_ptr_nonnull(text);
	len = 0;
	for (size_t i = 0; i < o->n; i++) {
		size_t n = strlen(v[i]->json);
		memcpy(text + len, v[i]->json, n);
		len += n;
		text[len++] = '\n';
	}
	text[len] = '\0';
	free(v);
	return (text);
}

void
cep_test_out_assert_same_set(const cep_test_out *a, const cep_test_out *b)
{
	const cep_test_rec **x, **y;

	ck_assert_uint_eq(a->n, b->n);
	x = sorted(a, by_json);
	y = sorted(b, by_json);
	for (size_t i = 0; i < a->n; i++) {
		ck_assert_msg(strcmp(x[i]->json, y[i]->json) == 0,
		    "multisets differ at %zu:\n  %s\n  %s", i, x[i]->json,
		    y[i]->json);
	}
	free(x);
	free(y);
}

void
cep_test_out_assert_same(const cep_test_out *a, const cep_test_out *b)
{
	const cep_test_rec **x, **y;

	cep_test_out_assert_same_set(a, b);
	x = sorted(a, by_key);
	y = sorted(b, by_key);
	for (size_t i = 0; i < a->n; i++) {
		ck_assert_msg(strcmp(x[i]->json, y[i]->json) == 0,
		    "order of key %s differs at %zu:\n  %s\n  %s", x[i]->key,
		    i, x[i]->json, y[i]->json);
	}
	free(x);
	free(y);
}

cep_err
cep_test_run_flow(cep_flow *f, unsigned workers, unsigned batch)
{
	cep_flow_opts opts = { workers, batch, 0 };

	return (cep_flow_run(f, &opts));
}

static cep_err
shift_push(void *inst, unsigned port, const cep_record *recs, size_t n,
    cep_op_ctx *ctx)
{
	(void) inst;
	(void) port;
	for (size_t i = 0; i < n; i++) {
		cep_record r = recs[i];
		cep_val    v;
		cep_err    rv;
		if (r.ev == NULL) {
			continue;
		}
		cep_slot_val(r.ev,
		    cep_event_find(r.ev, cep_sym_intern_str("back")), &v);
		r.ts -= v.type == CEP_T_INT ? v.u.i : 0;
		if ((rv = cep_op_forward(ctx, &r)) != CEP_OK) {
			return (rv);
		}
	}
	return (CEP_OK);
}

static cep_err
shift_create(const void *conf, int ordered, void **inst)
{
	(void) conf;
	(void) ordered;
	*inst = NULL;
	return (CEP_OK);
}

static void
shift_destroy(void *inst)
{
	(void) inst;
}

const cep_op_class cep_test_shift_class = {
	.name    = "shift",
	.inputs  = 1,
	.create  = shift_create,
	.push    = shift_push,
	.destroy = shift_destroy,
};

/* ---- reloading at a given point ---------------------------------------- */

static void *
reloader_main(void *arg)
{
	cep_test_reloader *r = arg;

	pthread_mutex_lock(&r->lock);
	while (!r->go) {
		pthread_cond_wait(&r->cond, &r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	r->rv = cep_flow_reload(r->running, r->next);
	return (NULL);
}

void
cep_test_reloader_start(
    cep_test_reloader *r, cep_flow *running, cep_flow *next, uint64_t at)
{
	memset(r, 0, sizeof(*r));
	r->running = running;
	r->next    = next;
	r->at      = at;
	r->rv      = CEP_EINTERNAL;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	ck_assert_int_eq(
	    pthread_create(&r->thread, NULL, reloader_main, r), 0);
}

cep_err
cep_test_reloader_sink(void *arg, const cep_record *rec)
{
	cep_test_reloader *r      = arg;
	int                posted = 0;

	(void) rec;
	if (++r->seen != r->at) {
		return (CEP_OK);
	}
	pthread_mutex_lock(&r->lock);
	r->go = 1;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	/* The request is served by this (the source) thread once the sink
	 * returns: wait until it has been posted. */
	while (!posted) {
		pthread_mutex_lock(&r->running->lock);
		posted = r->running->reload_next != NULL;
		pthread_mutex_unlock(&r->running->lock);
		if (!posted) {
			sched_yield();
		}
	}
	return (CEP_OK);
}

cep_err
cep_test_reloader_join(cep_test_reloader *r)
{
	pthread_mutex_lock(&r->lock);
	r->go = 1; /* never reached: reload after the run, which fails */
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	return (r->rv);
}

char *
cep_test_rest_of(const char *path, uint64_t skip)
{
	size_t len;
	char  *text = cep_test_slurp(path, &len);
	char  *p    = text;
	FILE  *fp;
	char  *out;

	fp = cep_test_tmp_open(&out);
	for (uint64_t line = 0; *p != '\0'; line++) {
		char *nl = strchr(p, '\n');
		ck_assert_ptr_nonnull(nl);
		if (line < skip) {
			fputc('\n', fp);
		} else {
			fwrite(p, 1, (size_t) (nl - p) + 1, fp);
		}
		p = nl + 1;
	}
	ck_assert_int_eq(fclose(fp), 0);
	free(text);
	return (out);
}
