/* SPDX-License-Identifier: MIT */
/*
 * runner.c: the conformance driver.
 *
 *	runner [--workers N] CEP_BINARY CASES_DIR [CASE...]
 *	runner [--workers N] --patterns RULES CEP_BINARY SAMPLES_DIR [NAME...]
 *
 * Every folder of CASES_DIR holding patterns.yaml, events.jsonl and
 * expected.jsonl is a case (see README.md there): `cep run -p patterns.yaml
 * -i events.jsonl` must exit 0 and print exactly the expected matches, as
 * a multiset of (pattern, timeout, step -> event ids), order of lines
 * aside.  When an expected line has "emit", its values are compared too.
 * With --patterns, every NAME.jsonl of SAMPLES_DIR that has a
 * NAME.expected.jsonl beside it is a case run against the rule file or
 * directory RULES (the example rules and their samples).
 * Prints one line per case and a final "N passed, M failed".
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cep/cep.h"

#define PATH_MAX_LEN 4096

struct lines {
	char **v;
	size_t n;
	size_t cap;
};

static void
lines_add(struct lines *l, char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 16 : l->cap * 2;
		l->v   = realloc(l->v, l->cap * sizeof(char *));
		if (l->v == NULL) {
			perror("runner");
			exit(2);
		}
	}
	l->v[l->n++] = s;
}

static void
lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i]);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* join writes "a/b" to out, exiting on an overlong path. */
static void
join(char *out, const char *a, const char *b)
{
	if (snprintf(out, PATH_MAX_LEN, "%s/%s", a, b) >= PATH_MAX_LEN) {
		fprintf(stderr, "runner: path too long: %s/%s\n", a, b);
		exit(2);
	}
}

static int
cmp_str(const void *a, const void *b)
{
	return (strcmp(*(char *const *) a, *(char *const *) b));
}

/* The id of an event: its "id" field, or the whole event as JSON. */
static void
put_event_id(cep_buf *out, const cep_val *ev)
{
	cep_val id;

	if (ev->type == CEP_T_MAP &&
	    cep_map_get(ev->u.c.ev, cep_event_cont(ev->u.c.ev, ev->u.c.off),
	        "id", 2, &id)) {
		cep_json_write_val(out, &id);
	} else if (ev->type == CEP_T_INT) {
		cep_buf_printf(out, "%lld", (long long) ev->u.i);
	} else {
		cep_json_write_val(out, ev);
	}
}

struct step {
	char  *name;
	char  *ids;
};

static int
cmp_step(const void *a, const void *b)
{
	return (strcmp(((const struct step *) a)->name,
	    ((const struct step *) b)->name));
}

/* put_emit appends the emit map's fields sorted by name, as JSON. */
static void
put_emit(cep_buf *out, const cep_event *ev, const cep_val *emit)
{
	struct step  fields[64];
	size_t       n = 0;
	cep_map_iter it;
	const char  *name;
	size_t       nlen;
	cep_val      v;

	cep_map_iter_init(&it, ev, cep_event_cont(ev, emit->u.c.off));
	while (cep_map_iter_next(&it, &name, &nlen, &v) && n < 64) {
		cep_buf json;
		cep_buf_init(&json);
		cep_json_write_val(&json, &v);
		cep_buf_put_u8(&json, 0);
		fields[n].name = strndup(name, nlen);
		fields[n].ids  = strdup((const char *) json.data);
		n++;
		cep_buf_fini(&json);
	}
	qsort(fields, n, sizeof(fields[0]), cmp_step);
	cep_buf_puts(out, "|emit:");
	for (size_t i = 0; i < n; i++) {
		cep_buf_printf(out, "%s%s=%s", i > 0 ? "," : "", fields[i].name,
		    fields[i].ids);
		free(fields[i].name);
		free(fields[i].ids);
	}
}

/* canonical turns a match line (actual or expected) into
 * "pattern|timeout|step:ids;step:ids[|emit:...]" with steps sorted by
 * name. */
static char *
canonical(cep_json_reader *jr, cep_builder *b, const char *line, size_t len,
    int with_emit, char *why, size_t why_len)
{
	const cep_event *ev;
	cep_val          pattern, timeout, match, emit, v;
	cep_buf          out;
	struct step      steps[64];
	size_t           nsteps = 0;
	cep_map_iter     it;
	const char      *name;
	size_t           nlen;
	char            *s;

	if (cep_json_parse(jr, line, len, b) != CEP_OK ||
	    (ev = cep_builder_peek(b)) == NULL) {
		snprintf(why, why_len, "not JSON: %s",
		    cep_json_reader_error(jr));
		return (NULL);
	}
	if (!cep_map_get(ev, cep_event_root(ev), "pattern", 7, &pattern) ||
	    pattern.type != CEP_T_STR ||
	    !cep_map_get(ev, cep_event_root(ev), "match", 5, &match) ||
	    match.type != CEP_T_MAP) {
		snprintf(why, why_len, "no pattern or match: %.*s", (int) len,
		    line);
		return (NULL);
	}
	if (!cep_map_get(ev, cep_event_root(ev), "timeout", 7, &timeout)) {
		timeout = cep_val_bool(0);
	}
	cep_map_iter_init(&it, ev, cep_event_cont(ev, match.u.c.off));
	while (cep_map_iter_next(&it, &name, &nlen, &v) && nsteps < 64) {
		cep_buf ids;
		cep_buf_init(&ids);
		if (v.type == CEP_T_ARRAY) {
			const cep_slot *slots = cep_cont_slots(
			    cep_event_cont(ev, v.u.c.off));
			for (uint32_t i = 0; i < v.len; i++) {
				cep_val e;
				cep_slot_val(ev, &slots[i], &e);
				if (i > 0) {
					cep_buf_put_u8(&ids, ',');
				}
				put_event_id(&ids, &e);
			}
		}
		cep_buf_put_u8(&ids, 0);
		steps[nsteps].name = strndup(name, nlen);
		steps[nsteps].ids  = strdup((const char *) ids.data);
		nsteps++;
		cep_buf_fini(&ids);
	}
	qsort(steps, nsteps, sizeof(steps[0]), cmp_step);
	cep_buf_init(&out);
	cep_buf_printf(&out, "%s|%s|", pattern.u.s,
	    timeout.type == CEP_T_BOOL && timeout.u.b ? "timeout" : "match");
	for (size_t i = 0; i < nsteps; i++) {
		cep_buf_printf(&out, "%s%s:[%s]", i > 0 ? ";" : "",
		    steps[i].name, steps[i].ids);
		free(steps[i].name);
		free(steps[i].ids);
	}
	if (with_emit &&
	    cep_map_get(ev, cep_event_root(ev), "emit", 4, &emit) &&
	    emit.type == CEP_T_MAP) {
		put_emit(&out, ev, &emit);
	}
	cep_buf_put_u8(&out, 0);
	s = strdup((const char *) out.data);
	cep_buf_fini(&out);
	return (s);
}

/* parse_lines canonicalizes every non-blank line of text. */
static int
parse_lines(const char *text, size_t len, int with_emit, struct lines *out,
    char *why, size_t why_len)
{
	cep_json_reader *jr = cep_json_reader_create();
	cep_builder     *b  = cep_builder_create();
	const char      *p = text, *end = text + len;
	int              ok = 1;

	while (ok && p < end) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		size_t      n  = nl != NULL ? (size_t) (nl - p) : (size_t) (end - p);
		if (n > 0 && strspn(p, " \t\r") < n) {
			char *c = canonical(jr, b, p, n, with_emit, why,
			    why_len);
			if (c == NULL) {
				ok = 0;
			} else {
				lines_add(out, c);
			}
		}
		p += n + 1;
	}
	cep_json_reader_destroy(jr);
	cep_builder_destroy(b);
	if (out->n > 1) {
		qsort(out->v, out->n, sizeof(char *), cmp_str);
	}
	return (ok);
}

static char *
slurp_fd(int fd, size_t *len)
{
	size_t  cap = 65536, n = 0;
	char   *buf = malloc(cap);
	ssize_t got;

	while (buf != NULL && (got = read(fd, buf + n, cap - n)) > 0) {
		n += (size_t) got;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	if (buf == NULL) {
		perror("runner");
		exit(2);
	}
	*len = n;
	return (buf);
}

static char *
slurp_path(const char *path, size_t *len)
{
	FILE  *f = fopen(path, "rb");
	char  *buf;
	long   n;

	if (f == NULL) {
		return (NULL);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if ((buf = malloc((size_t) n + 1)) == NULL) {
		perror("runner");
		exit(2);
	}
	*len      = fread(buf, 1, (size_t) n, f);
	buf[*len] = '\0';
	fclose(f);
	return (buf);
}

/* The worker count to run with ("" for cep's default). */
static const char *workers = NULL;

/* The files of one case. */
struct case_files {
	char patterns[PATH_MAX_LEN];
	char events[PATH_MAX_LEN];
	char expected[PATH_MAX_LEN];
};

/* run_cep runs the binary on a case; returns its stdout and exit status. */
static char *
run_cep(const char *cep, const struct case_files *cf, size_t *len,
    int *status, char **err, size_t *err_len)
{
	const char *patterns = cf->patterns, *events = cf->events;
	int         out[2], errp[2];
	pid_t       pid;
	char       *text;

	if (pipe(out) != 0 || pipe(errp) != 0) {
		perror("runner: pipe");
		exit(2);
	}
	if ((pid = fork()) == 0) {
		dup2(out[1], 1);
		dup2(errp[1], 2);
		close(out[0]);
		close(errp[0]);
		if (workers != NULL) {
			execl(cep, cep, "run", "--quiet", "--workers", workers,
			    "-p", patterns, "-i", events, (char *) NULL);
		} else {
			execl(cep, cep, "run", "--quiet", "-p", patterns, "-i",
			    events, (char *) NULL);
		}
		fprintf(stderr, "exec %s: %s\n", cep, strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(errp[1]);
	/* Outputs are small: read stdout, then stderr. */
	text = slurp_fd(out[0], len);
	*err = slurp_fd(errp[0], err_len);
	close(out[0]);
	close(errp[0]);
	waitpid(pid, status, 0);
	return (text);
}

static void
show(const char *title, const struct lines *l)
{
	printf("    %s (%zu):\n", title, l->n);
	for (size_t i = 0; i < l->n; i++) {
		printf("      %s\n", l->v[i]);
	}
}

static int
run_case(const char *cep, const struct case_files *cf, const char *name)
{
	char         why[512] = "";
	size_t       elen, alen, errlen;
	char        *expected, *actual, *err;
	struct lines want = { 0 }, got = { 0 };
	int          status, ok, with_emit;

	if ((expected = slurp_path(cf->expected, &elen)) == NULL) {
		printf("FAIL %s: cannot read %s\n", name, cf->expected);
		return (0);
	}
	actual = run_cep(cep, cf, &alen, &status, &err, &errlen);
	/* Compare emit values only for cases that state them. */
	with_emit = strstr(expected, "\"emit\"") != NULL;
	ok        = parse_lines(expected, elen, with_emit, &want, why,
	           sizeof(why));
	if (!ok) {
		printf("FAIL %s: expected.jsonl: %s\n", name, why);
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("FAIL %s: cep run exited with %d: %.*s\n", name,
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1, (int) errlen,
		    err);
		ok = 0;
	} else if (!parse_lines(actual, alen, with_emit, &got, why,
	               sizeof(why))) {
		printf("FAIL %s: output: %s\n", name, why);
		ok = 0;
	} else {
		ok = want.n == got.n;
		for (size_t i = 0; ok && i < want.n; i++) {
			ok = strcmp(want.v[i], got.v[i]) == 0;
		}
		if (!ok) {
			printf("FAIL %s\n", name);
			show("expected", &want);
			show("got", &got);
		} else {
			printf("ok   %s (%zu matches)\n", name, got.n);
		}
	}
	free(expected);
	free(actual);
	free(err);
	lines_free(&want);
	lines_free(&got);
	return (ok);
}

/* The rules every sample runs against (--patterns), or NULL for case
 * folders. */
static const char *rules = NULL;

#define SAMPLE_EXT ".jsonl"
#define EXPECTED_EXT ".expected.jsonl"

/* join_ext writes "dir/name" + ext to out, exiting on an overlong path. */
static void
join_ext(char *out, const char *dir, const char *name, const char *ext)
{
	if (snprintf(out, PATH_MAX_LEN, "%s/%s%s", dir, name, ext) >=
	    PATH_MAX_LEN) {
		fprintf(stderr, "runner: path too long: %s/%s%s\n", dir, name,
		    ext);
		exit(2);
	}
}

/* case_of fills the files of case `name` of dir. */
static void
case_of(const char *dir, const char *name, struct case_files *cf)
{
	char base[PATH_MAX_LEN];

	if (rules == NULL) {
		join(base, dir, name);
		join(cf->patterns, base, "patterns.yaml");
		join(cf->events, base, "events.jsonl");
		join(cf->expected, base, "expected.jsonl");
		return;
	}
	if (snprintf(cf->patterns, PATH_MAX_LEN, "%s", rules) >=
	    PATH_MAX_LEN) {
		fprintf(stderr, "runner: path too long: %s\n", rules);
		exit(2);
	}
	join_ext(cf->events, dir, name, SAMPLE_EXT);
	join_ext(cf->expected, dir, name, EXPECTED_EXT);
}

/* is_case: a folder with patterns.yaml, or with --patterns a sample
 * NAME.jsonl (not NAME.expected.jsonl) with its expected file; *name
 * gets the case's name (allocated). */
static int
is_case(const char *dir, const char *entry, char **name)
{
	struct case_files cf;
	struct stat       st;
	size_t            n = strlen(entry), ext = strlen(SAMPLE_EXT);

	if (entry[0] == '.') {
		return (0);
	}
	if (rules != NULL) {
		if (n <= ext || strcmp(entry + n - ext, SAMPLE_EXT) != 0 ||
		    (n > strlen(EXPECTED_EXT) &&
		        strcmp(entry + n - strlen(EXPECTED_EXT),
		            EXPECTED_EXT) == 0)) {
			return (0);
		}
		*name = strndup(entry, n - ext);
	} else {
		*name = strdup(entry);
	}
	if (*name == NULL) {
		perror("runner");
		exit(2);
	}
	case_of(dir, *name, &cf);
	if (stat(rules != NULL ? cf.expected : cf.patterns, &st) != 0) {
		free(*name);
		return (0);
	}
	return (1);
}

int
main(int argc, char **argv)
{
	struct lines names = { 0 };
	size_t       passed = 0, failed = 0;
	DIR         *d;
	struct dirent *de;

	while (argc > 2 && (strcmp(argv[1], "--workers") == 0 ||
	                       strcmp(argv[1], "--patterns") == 0)) {
		if (strcmp(argv[1], "--workers") == 0) {
			workers = argv[2];
		} else {
			rules = argv[2];
		}
		argv += 2;
		argc -= 2;
	}
	if (argc < 3) {
		fprintf(stderr,
		    "usage: runner [--workers N] [--patterns RULES] CEP "
		    "CASES_DIR [CASE...]\n");
		return (2);
	}
	if (argc > 3) {
		for (int i = 3; i < argc; i++) {
			lines_add(&names, strdup(argv[i]));
		}
	} else {
		if ((d = opendir(argv[2])) == NULL) {
			perror(argv[2]);
			return (2);
		}
		while ((de = readdir(d)) != NULL) {
			char *name;
			if (is_case(argv[2], de->d_name, &name)) {
				lines_add(&names, name);
			}
		}
		closedir(d);
		if (names.n > 1) {
			qsort(names.v, names.n, sizeof(char *), cmp_str);
		}
	}
	for (size_t i = 0; i < names.n; i++) {
		struct case_files cf;
		case_of(argv[2], names.v[i], &cf);
		if (run_case(argv[1], &cf, names.v[i])) {
			passed++;
		} else {
			failed++;
		}
	}
	lines_free(&names);
	printf("%zu passed, %zu failed\n", passed, failed);
	return (failed == 0 && passed > 0 ? 0 : 1);
}
