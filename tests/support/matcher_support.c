/* SPDX-License-Identifier: MIT */
/* matcher_support.c: patterns from YAML text, match logs, conformance
 * cases and a driver that feeds a matcher as `cep run` does. */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/support/matcher_support.h"

/* ---- compiling ---------------------------------------------------------- */

static srv_rules *
load_rules(const char *yaml)
{
	cep_diag  *d = cep_diag_create();
	srv_rules *r = NULL;
	cep_err    rv;

	ck_assert_ptr_nonnull(d);
	rv = srv_rules_load_text("rules.yaml", yaml, strlen(yaml), &r, d);
	ck_assert_msg(rv == CEP_OK, "rules do not load (%s):\n%s",
	    cep_errname(rv), cep_test_diag_text(d));
	cep_diag_destroy(d);
	return (r);
}

size_t
mt_compile_all(const char *yaml, nfa_prog **progs, size_t max)
{
	srv_rules *r = load_rules(yaml);
	cep_diag  *d = cep_diag_create();
	size_t     n = 0;

	ck_assert_ptr_nonnull(d);
	for (size_t i = 0; i < r->npatterns && n < max; i++) {
		cep_err rv = nfa_prog_create(r->patterns[i], &progs[n], d);
		ck_assert_msg(rv == CEP_OK,
		    "pattern does not compile (%s):\n%s", cep_errname(rv),
		    cep_test_diag_text(d));
		r->patterns[i] = NULL; /* the program owns it now */
		n++;
	}
	cep_diag_destroy(d);
	srv_rules_destroy(r);
	return (n);
}

nfa_prog *
mt_compile(const char *yaml)
{
	nfa_prog *p = NULL;

	ck_assert_uint_eq(mt_compile_all(yaml, &p, 1), 1);
	return (p);
}

cep_err
mt_compile_try(const char *yaml, nfa_prog **out, cep_diag *d)
{
	srv_rules *r = load_rules(yaml);
	cep_err    rv;

	ck_assert_uint_eq(r->npatterns, 1);
	if ((rv = nfa_prog_create(r->patterns[0], out, d)) == CEP_OK) {
		r->patterns[0] = NULL;
	}
	srv_rules_destroy(r);
	return (rv);
}

/* ---- logging ------------------------------------------------------------ */

void
mt_log_init(mt_log *l, int flags)
{
	memset(l, 0, sizeof(*l));
	l->flags    = flags;
	l->fail_err = CEP_EIO;
}

void
mt_log_clear(mt_log *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->lines[i]);
	}
	l->n = 0;
}

void
mt_log_fini(mt_log *l)
{
	mt_log_clear(l);
	free(l->lines);
	memset(l, 0, sizeof(*l));
}

void
mt_log_add(mt_log *l, const char *line)
{
	if (l->n == l->cap) {
		l->cap   = l->cap == 0 ? 16 : 2 * l->cap;
		l->lines = realloc(l->lines, l->cap * sizeof(char *));
		ck_assert_ptr_nonnull(l->lines);
	}
	ck_assert_ptr_nonnull(l->lines[l->n] = strdup(line));
	l->n++;
}

/* A line under construction in a fixed buffer: the log must not use the
 * project's allocator, which the allocation-failure tests break. */
struct line {
	char   text[8192];
	size_t len;
};

static void put(struct line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int     w;

	va_start(ap, fmt);
	w = vsnprintf(l->text + l->len, sizeof(l->text) - l->len, fmt, ap);
	va_end(ap);
	ck_assert(w >= 0 && (size_t) w < sizeof(l->text) - l->len);
	l->len += (size_t) w;
}

static void
put_event_name(struct line *l, const cep_event *ev, uint64_t seq)
{
	cep_val v;

	if (cep_map_get(ev, cep_event_root(ev), "id", 2, &v) &&
	    v.type == CEP_T_INT) {
		put(l, "%lld", (long long) v.u.i);
	} else {
		put(l, "#%llu", (unsigned long long) seq);
	}
}

static void
put_key(struct line *l, const cep_val *k)
{
	switch ((cep_type) k->type) {
	case CEP_T_STR:
		put(l, "\"%.*s\"", (int) k->len, k->u.s);
		break;
	case CEP_T_INT:
		put(l, "%lld", (long long) k->u.i);
		break;
	case CEP_T_BOOL:
		put(l, "%s", k->u.b ? "true" : "false");
		break;
	case CEP_T_DOUBLE:
		put(l, "%.17g", k->u.d);
		break;
	case CEP_T_NULL:
	case CEP_T_MAP:
	case CEP_T_ARRAY:
		put(l, "null");
		break;
	}
}

const char *
mt_match_line(const nfa_match *m, int flags)
{
	static struct line l;
	const nfa_pattern *p     = nfa_prog_pattern(m->prog);
	int                first = 1;

	l.len = 0;
	put(&l, "%s|%s|", p->name, m->timeout ? "timeout" : "match");
	if (flags & MT_LOG_KEY) {
		put_key(&l, m->key);
		put(&l, "|");
	}
	for (size_t s = 0; s < p->nleaves; s++) {
		int opened = 0;
		for (size_t i = 0; i < m->nevents; i++) {
			if (m->events[i].step != s) {
				continue;
			}
			if (!opened) {
				put(&l, "%s%s:[", first ? "" : ";",
				    p->leaves[s]);
				first  = 0;
				opened = 1;
			} else {
				put(&l, ",");
			}
			put_event_name(&l, m->events[i].ev, m->events[i].seq);
		}
		if (opened) {
			put(&l, "]");
		}
	}
	if (flags & MT_LOG_IDS) {
		char id[33];
		nfa_match_id(m, id);
		put(&l, "|%s", id);
	}
	return (l.text);
}

cep_err
mt_log_match(void *arg, const nfa_match *m)
{
	mt_log *l = arg;

	l->calls++;
	if (l->fail_at != 0 && l->calls == l->fail_at) {
		return (l->fail_err);
	}
	mt_log_add(l, mt_match_line(m, l->flags));
	return (CEP_OK);
}

const char *
mt_log_text(const mt_log *l)
{
	static char text[1 << 16];
	size_t      len = 0;

	text[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		int w = snprintf(
		    text + len, sizeof(text) - len, "%s\n", l->lines[i]);
		if (w < 0 || (size_t) w >= sizeof(text) - len) {
			break;
		}
		len += (size_t) w;
	}
	return (text);
}

int
mt_log_equal(const mt_log *a, const mt_log *b)
{
	if (a->n != b->n) {
		return (0);
	}
	for (size_t i = 0; i < a->n; i++) {
		if (strcmp(a->lines[i], b->lines[i]) != 0) {
			return (0);
		}
	}
	return (1);
}

static int
cmp_line(const void *a, const void *b)
{
	return (strcmp(*(char *const *) a, *(char *const *) b));
}

int
mt_log_same_multiset(const mt_log *a, const mt_log *b)
{
	char **x, **y;
	int    same = a->n == b->n;

	if (!same) {
		return (0);
	}
	x = malloc((a->n + 1) * sizeof(char *));
	y = malloc((b->n + 1) * sizeof(char *));
	ck_assert(x != NULL && y != NULL);
	for (size_t i = 0; i < a->n; i++) {
		x[i] = a->lines[i];
		y[i] = b->lines[i];
	}
	qsort(x, a->n, sizeof(char *), cmp_line);
	qsort(y, b->n, sizeof(char *), cmp_line);
	for (size_t i = 0; same && i < a->n; i++) {
		same = strcmp(x[i], y[i]) == 0;
	}
	free(x);
	free(y);
	return (same);
}

/* ---- driving ------------------------------------------------------------ */

void
mt_driver_init(mt_driver *d, nfa_prog *prog, mt_log *log, int ordered)
{
	memset(d, 0, sizeof(*d));
	d->prog = prog;
	d->wm   = NFA_TIME_MIN;
	CEP_ASSERT_OK(nfa_matcher_create(prog, mt_log_match, log, &d->m));
	nfa_matcher_set_ordered(d->m, ordered);
}

void
mt_driver_fini(mt_driver *d)
{
	nfa_matcher_destroy(d->m);
	d->m = NULL;
}

int
mt_event_time(const nfa_prog *prog, const cep_event *ev, int64_t *ts)
{
	const nfa_pattern *p = nfa_prog_pattern(prog);
	cep_val            v;

	cep_slot_val(ev, cep_event_find_path(ev, p->time.syms, p->time.n), &v);
	if (v.type == CEP_T_INT) {
		*ts = v.u.i;
		return (1);
	}
	if (v.type == CEP_T_DOUBLE && v.u.d == trunc(v.u.d) &&
	    v.u.d >= -9.2e18 && v.u.d <= 9.2e18) {
		*ts = (int64_t) v.u.d;
		return (1);
	}
	return (0);
}

cep_err
mt_drive(mt_driver *d, const cep_event *ev, uint64_t seq)
{
	int64_t delay = nfa_prog_pattern(d->prog)->max_delay;
	int64_t ts, wm;

	if (!mt_event_time(d->prog, ev, &ts)) {
		d->no_time++;
		return (CEP_OK);
	}
	wm = ts < NFA_TIME_MIN + delay ? NFA_TIME_MIN : ts - delay;
	if (wm > d->wm) {
		d->wm = wm;
	}
	return (nfa_matcher_push(d->m, ev, ts, seq, d->wm, NULL));
}

/* ---- conformance cases -------------------------------------------------- */

static int
cmp_name(const void *a, const void *b)
{
	return (strcmp(*(char *const *) a, *(char *const *) b));
}

size_t
mt_case_names(char ***names)
{
	DIR           *dir = opendir(CEP_CONFORMANCE_DIR);
	struct dirent *de;
	char         **v = NULL;
	size_t         n = 0, cap = 0;

	ck_assert_msg(dir != NULL, "cannot open %s", CEP_CONFORMANCE_DIR);
	while ((de = readdir(dir)) != NULL) {
		char        path[4096];
		struct stat st;
		if (de->d_name[0] == '.') {
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s/patterns.yaml",
		    CEP_CONFORMANCE_DIR, de->d_name);
		if (stat(path, &st) != 0) {
			continue;
		}
		if (n == cap) {
			cap = cap == 0 ? 128 : 2 * cap;
			v   = realloc(v, cap * sizeof(char *));
			ck_assert_ptr_nonnull(v);
		}
		ck_assert_ptr_nonnull(v[n++] = strdup(de->d_name));
	}
	closedir(dir);
	qsort(v, n, sizeof(char *), cmp_name);
	*names = v;
	return (n);
}

void
mt_case_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
	}
	free(names);
}

static char *
case_file(const char *name, const char *file)
{
	char path[4096];

	snprintf(
	    path, sizeof(path), "%s/%s/%s", CEP_CONFORMANCE_DIR, name, file);
	return (cep_test_slurp(path, NULL));
}

/* expected_line turns an expected.jsonl line into a canonical line. */
static void
expected_line(mt_case *c, const char *text)
{
	cep_event         *ev = cep_test_event(text);
	const nfa_pattern *p  = NULL;
	cep_val            name, match, timeout;
	cep_buf            b;
	int                first = 1;

	ck_assert(cep_map_get(ev, cep_event_root(ev), "pattern", 7, &name));
	ck_assert(cep_map_get(ev, cep_event_root(ev), "match", 5, &match));
	ck_assert_int_eq(match.type, CEP_T_MAP);
	for (size_t i = 0; i < c->nprogs; i++) {
		const nfa_pattern *q = nfa_prog_pattern(c->progs[i]);
		if (strlen(q->name) == name.len &&
		    memcmp(q->name, name.u.s, name.len) == 0) {
			p = q;
		}
	}
	ck_assert_msg(p != NULL, "%s: no pattern %.*s", c->name,
	    (int) name.len, name.u.s);
	if (!cep_map_get(ev, cep_event_root(ev), "timeout", 7, &timeout)) {
		timeout = cep_val_bool(0);
	}
	cep_buf_init(&b);
	cep_buf_printf(&b, "%s|%s|", p->name,
	    timeout.type == CEP_T_BOOL && timeout.u.b ? "timeout" : "match");
	for (size_t s = 0; s < p->nleaves; s++) {
		cep_val ids;
		if (!cep_map_get(ev, cep_event_cont(ev, match.u.c.off),
		        p->leaves[s], strlen(p->leaves[s]), &ids)) {
			continue;
		}
		ck_assert_int_eq(ids.type, CEP_T_ARRAY);
		cep_buf_printf(&b, "%s%s:[", first ? "" : ";", p->leaves[s]);
		first = 0;
		for (uint32_t i = 0; i < ids.len; i++) {
			const cep_slot *sl = &cep_cont_slots(
			    cep_event_cont(ev, ids.u.c.off))[i];
			ck_assert_int_eq(sl->type, CEP_T_INT);
			cep_buf_printf(&b, "%s%lld", i > 0 ? "," : "",
			    (long long) sl->u.i);
		}
		cep_buf_put_u8(&b, ']');
	}
	cep_buf_put_u8(&b, 0);
	mt_log_add(&c->expected, (const char *) b.data);
	cep_buf_fini(&b);
	cep_event_unref(ev, NULL);
}

/* each_line calls fn for every non-blank line of text. */
static void
each_line(char *text, mt_case *c, void (*fn)(mt_case *c, const char *line))
{
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line != NULL;
	     line       = strtok_r(NULL, "\n", &save)) {
		if (strspn(line, " \t\r") != strlen(line)) {
			fn(c, line);
		}
	}
}

static void
add_event(mt_case *c, const char *line)
{
	c->events = realloc(c->events, (c->nevents + 1) * sizeof(cep_event *));
	ck_assert_ptr_nonnull(c->events);
	c->events[c->nevents++] = cep_test_event(line);
}

void
mt_case_load(const char *name, mt_case *c)
{
	char *yaml = case_file(name, "patterns.yaml");
	char *text;

	memset(c, 0, sizeof(*c));
	mt_log_init(&c->expected, 0);
	ck_assert_ptr_nonnull(c->name = strdup(name));
	c->nprogs = mt_compile_all(yaml, c->progs, MT_MAX_PATTERNS);
	free(yaml);
	text = case_file(name, "events.jsonl");
	each_line(text, c, add_event);
	free(text);
	text = case_file(name, "expected.jsonl");
	each_line(text, c, expected_line);
	free(text);
}

void
mt_case_fini(mt_case *c)
{
	for (size_t i = 0; i < c->nprogs; i++) {
		nfa_prog_unref(c->progs[i]);
	}
	for (size_t i = 0; i < c->nevents; i++) {
		cep_event_unref(c->events[i], NULL);
	}
	free(c->events);
	free(c->name);
	mt_log_fini(&c->expected);
	memset(c, 0, sizeof(*c));
}

void
mt_case_run(const mt_case *c, int ordered, mt_log *log)
{
	for (size_t p = 0; p < c->nprogs; p++) {
		mt_driver d;
		mt_driver_init(&d, c->progs[p], log, ordered);
		for (size_t i = 0; i < c->nevents; i++) {
			CEP_ASSERT_OK(mt_drive(&d, c->events[i], i + 1));
		}
		CEP_ASSERT_OK(nfa_matcher_finish(d.m));
		mt_driver_fini(&d);
	}
}

uint64_t
mt_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return (x * 0x2545f4914f6cdd1dull);
}
