/* SPDX-License-Identifier: MIT */
/*
 * test_cmd_run.c: `cep run` on bad input, through the real binary.
 *
 * Each test writes its rules and events to a temporary folder, runs the
 * `cep` executable (CEP_BIN) and checks the exit status, the matches on
 * standard output and the warnings on standard error.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cep/cep.h"
#include "tests/support/test_support.h"

static char dir[256];

static const char *
bin(void)
{
	const char *b = getenv("CEP_BIN");

	ck_assert_msg(b != NULL, "CEP_BIN is not set");
	return (b);
}

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cep-run-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* path gives a file of the test's folder; results stay valid for the next
 * 64 calls, enough for a test's argument lists. */
static const char *
path(const char *name)
{
	static char p[64][512];
	static int  i;

	i = (i + 1) % 64;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return (p[i]);
}

static void
write_file(const char *name, const void *data, size_t n)
{
	FILE *f = fopen(path(name), "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, n, f), n);
	fclose(f);
}

static void
write_text(const char *name, const char *text)
{
	write_file(name, text, strlen(text));
}

struct result {
	int    status;
	char  *out;
	size_t out_len;
	char  *err;
	double secs;
};

static char *
slurp(const char *p, size_t *n)
{
	FILE  *f = fopen(p, "rb");
	char  *buf;
	size_t cap = 1 << 16, len = 0, got;

	ck_assert_ptr_nonnull(f);
	buf = malloc(cap + 1);
	while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
	}
	fclose(f);
	buf[len] = '\0';
	if (n != NULL) {
		*n = len;
	}
	return (buf);
}

/* run executes cep with args (NULL-terminated), stdin from `in` (NULL:
 * /dev/null). */
static struct result
run(const char *in, const char *const *args)
{
	struct result   r;
	struct timespec a, b;
	const char     *argv[32];
	pid_t           pid;
	int             n = 0;

	argv[n++] = bin();
	for (; *args != NULL && n < 30; args++) {
		argv[n++] = *args;
	}
	argv[n] = NULL;
	clock_gettime(CLOCK_MONOTONIC, &a);
	if ((pid = fork()) == 0) {
		int fd = open(in != NULL ? in : "/dev/null", O_RDONLY);
		dup2(fd, 0);
		fd = open(path("stdout"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		fd = open(path("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		execv(argv[0], (char *const *) (uintptr_t) argv);
		_exit(127);
	}
	ck_assert_int_gt(pid, 0);
	waitpid(pid, &r.status, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	r.secs = (double) (b.tv_sec - a.tv_sec) +
	    (double) (b.tv_nsec - a.tv_nsec) / 1e9;
	r.status = WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
	r.out    = slurp(path("stdout"), &r.out_len);
	r.err    = slurp(path("stderr"), NULL);
	return (r);
}

static void
result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		n += *s == '\n';
	}
	return (n);
}

static size_t
count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++) {
		n++;
	}
	return (n);
}

static const char *const AB_RULES = "patterns:\n"
                                    "  - name: ab\n"
                                    "    key: user\n"
                                    "    sequence:\n"
                                    "      - begin: a\n"
                                    "        where: kind == \"a\"\n"
                                    "      - followed_by: b\n"
                                    "        where: kind == \"b\"\n";

START_TEST(malformed_json_lines_are_skipped_with_a_warning_each)
{
	const char   *args[] = { "run", "-p", path("r.yaml"), "-i",
		  path("e.jsonl"), NULL };
	struct result r;

	write_text("r.yaml", AB_RULES);
	write_text("e.jsonl",
	    "{\"ts\":1,\"user\":\"u\",\"kind\":\"a\"}\n"
	    "{\"ts\":2,\"user\":\n"
	    "[1,2]\n"
	    "not json at all\n"
	    "\n"
	    "{\"ts\":3,\"user\":\"u\",\"kind\":\"b\"} trailing\n"
	    "\x01\x02\xff\xfe garbage\n"
	    "{\"ts\":4,\"user\":\"u\",\"kind\":\"b\"}\n");
	r = run(NULL, args);
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_eq(count_lines(r.out), 1);
	ck_assert_ptr_nonnull(strstr(r.out, "\"pattern\":\"ab\""));
	ck_assert_ptr_nonnull(strstr(r.out, "\"ts\":4"));
	for (int line = 2; line <= 7; line++) {
		char want[600];
		if (line == 5) {
			continue; /* a blank line is no record */
		}
		snprintf(want, sizeof(want),
		    "%s:%d: warning:", path("e.jsonl"), line);
		ck_assert_msg(strstr(r.err, want) != NULL, "no '%s' in:\n%s",
		    want, r.err);
	}
	/* Lines 1 and 8 are the only events; 5 records were skipped. */
	ck_assert_ptr_nonnull(strstr(r.err, "2 events in, 5 skipped"));
	result_free(&r);
}
END_TEST

START_TEST(strict_mode_stops_at_the_first_bad_line_with_exit_1)
{
	const char   *args[] = { "run", "--strict", "-p", path("r.yaml"), "-i",
		  path("e.jsonl"), NULL };
	struct result r;

	write_text("r.yaml", AB_RULES);
	write_text("e.jsonl",
	    "{\"ts\":1,\"user\":\"u\",\"kind\":\"a\"}\n"
	    "{oops\n"
	    "{\"ts\":2,\"user\":\"u\",\"kind\":\"b\"}\n");
	r = run(NULL, args);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, ":2: error:"));
	result_free(&r);
	write_text("e.jsonl",
	    "{\"ts\":1,\"user\":\"u\",\"kind\":\"a\"}\n"
	    "{\"user\":\"u\",\"kind\":\"b\"}\n");
	r = run(NULL, args);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, ":2: error: no integer time"));
	result_free(&r);
}
END_TEST

START_TEST(events_without_an_integer_time_are_skipped_with_a_warning)
{
	const char   *args[] = { "run", "-p", path("r.yaml"), "-i",
		  path("e.jsonl"), NULL };
	struct result r;

	write_text("r.yaml", AB_RULES);
	write_text("e.jsonl",
	    "{\"ts\":1,\"user\":\"u\",\"kind\":\"a\"}\n"
	    "{\"user\":\"u\",\"kind\":\"b\"}\n"
	    "{\"ts\":\"2\",\"user\":\"u\",\"kind\":\"b\"}\n"
	    "{\"ts\":2.5,\"user\":\"u\",\"kind\":\"b\"}\n"
	    "{\"ts\":null,\"user\":\"u\",\"kind\":\"b\"}\n"
	    "{\"ts\":{\"ms\":3},\"user\":\"u\",\"kind\":\"b\"}\n"
	    "{\"ts\":7.0,\"user\":\"u\",\"kind\":\"b\"}\n");
	r = run(NULL, args);
	ck_assert_int_eq(r.status, 0);
	/* 7.0 is an integral double: a usable time. */
	ck_assert_uint_eq(count_lines(r.out), 1);
	ck_assert_ptr_nonnull(strstr(r.out, "\"ts\":7.0"));
	ck_assert_uint_eq(
	    count_of(r.err, "warning: no integer time field 'ts'"), 5);
	ck_assert_ptr_nonnull(strstr(r.err, "5 without time"));
	result_free(&r);
}
END_TEST

/* msgpack_event appends one event as msgpack. */
static void
msgpack_event(cep_buf *b, const char *notation)
{
	cep_event *ev = cep_test_event(notation);

	CEP_ASSERT_OK(cep_msgpack_write_event(b, ev));
	cep_event_unref(ev, NULL);
}

START_TEST(binary_garbage_in_a_msgpack_file_is_skipped)
{
	const char   *args[] = { "run", "-p", path("r.yaml"), "-i",
		  path("e.msgpack"), NULL };
	struct result r;
	cep_buf       b;
	unsigned      seed = 42;

	write_text("r.yaml", AB_RULES);
	cep_buf_init(&b);
	msgpack_event(&b, "{\"ts\":1,\"user\":\"u\",\"kind\":\"a\"}");
	for (int i = 0; i < 4096; i++) {
		seed = seed * 1103515245u + 12345u;
		/* Avoid bytes that would announce huge containers only to
		 * keep the test about skipping, not about limits. */
		cep_buf_put_u8(&b, (uint8_t) (seed >> 16));
	}
	/* A hostile header: an array32 claiming 4 billion items. */
	cep_buf_put(&b, "\xdd\xff\xff\xff\xff", 5);
	msgpack_event(&b, "{\"ts\":2,\"user\":\"u\",\"kind\":\"b\"}");
	/* Not a map at the top, then a map cut short at the end. */
	cep_buf_put(&b, "\x93\x01\x02\x03", 4);
	cep_buf_put(&b, "\x82\xa2ts", 4);
	write_file("e.msgpack", b.data, b.len);
	cep_buf_fini(&b);
	r = run(NULL, args);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "warning:"));
	ck_assert_ptr_nonnull(strstr(r.err, "truncated msgpack object"));
	ck_assert_ptr_nonnull(strstr(r.err, "events in"));
	result_free(&r);
}
END_TEST

START_TEST(empty_files_give_no_matches_and_exit_0)
{
	const char   *json[] = { "run", "-p", path("r.yaml"), "-i",
		  path("e.jsonl"), NULL };
	const char   *mp[]   = { "run", "-p", path("r.yaml"), "-i",
		    path("e.msgpack"), NULL };
	struct result r;

	write_text("r.yaml", AB_RULES);
	write_text("e.jsonl", "");
	write_text("e.msgpack", "");
	r = run(NULL, json);
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_eq(r.out_len, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "0 events in"));
	result_free(&r);
	r = run(NULL, mp);
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_eq(r.out_len, 0);
	result_free(&r);
}
END_TEST

START_TEST(a_key_that_is_a_map_is_not_matched_and_is_counted)
{
	const char   *args[] = { "run", "-p", path("r.yaml"), "-i",
		  path("e.jsonl"), NULL };
	struct result r;

	write_text("r.yaml", AB_RULES);
	write_text("e.jsonl",
	    "{\"ts\":1,\"user\":{\"id\":\"u\"},\"kind\":\"a\"}\n"
	    "{\"ts\":2,\"user\":{\"id\":\"u\"},\"kind\":\"b\"}\n"
	    "{\"ts\":3,\"user\":[\"u\"],\"kind\":\"a\"}\n"
	    "{\"ts\":4,\"kind\":\"b\"}\n");
	r = run(NULL, args);
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_eq(r.out_len, 0);
	ck_assert_ptr_nonnull(
	    strstr(r.err, "ab: 4 events without key 'user'"));
	result_free(&r);
}
END_TEST

START_TEST(ten_million_partial_matches_on_one_key_stay_bounded)
{
	const char   *args[] = { "run", "-p", path("r.yaml"), "-i",
		  path("e.jsonl"), NULL };
	struct result r;
	cep_buf       b;

	/* Every `a` doubles the partial matches (allow_combinations):
	 * 2^30 would be reached by the last one without a bound. */
	write_text("r.yaml",
	    "patterns:\n"
	    "  - name: boom\n"
	    "    key: user\n"
	    "    max_partial_matches: 1000\n"
	    "    sequence:\n"
	    "      - begin: a\n"
	    "        where: kind == \"a\"\n"
	    "        one_or_more: true\n"
	    "        allow_combinations: true\n"
	    "      - followed_by: b\n"
	    "        where: kind == \"b\"\n");
	cep_buf_init(&b);
	for (int i = 1; i <= 30; i++) {
		cep_buf_printf(
		    &b, "{\"ts\":%d,\"user\":\"u\",\"kind\":\"a\"}\n", i);
	}
	cep_buf_puts(&b, "{\"ts\":31,\"user\":\"u\",\"kind\":\"b\"}\n");
	write_file("e.jsonl", b.data, b.len);
	cep_buf_fini(&b);
	r = run(NULL, args);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(r.secs < 20.0, "took %.1f s", r.secs);
	/* At most the bound of matches complete on the `b`. */
	ck_assert_uint_le(count_lines(r.out), 1000);
	ck_assert_uint_gt(count_lines(r.out), 0);
	ck_assert_ptr_null(strstr(r.err, " 0 partial matches dropped"));
	result_free(&r);
}
END_TEST

START_TEST(invalid_patterns_exit_2_and_write_no_match)
{
	const char   *args[] = { "run", "-p", path("r.yaml"), "-i",
		  path("e.jsonl"), NULL };
	struct result r;

	write_text("r.yaml",
	    "patterns:\n  - name: p\n    sequence:\n"
	    "      - begin: a\n        where: x ==\n");
	write_text("e.jsonl", "{\"ts\":1}\n");
	r = run(NULL, args);
	ck_assert_int_eq(r.status, 2);
	ck_assert_uint_eq(r.out_len, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "r.yaml:5:"));
	ck_assert_ptr_nonnull(strstr(r.err, ": error: "));
	result_free(&r);
}
END_TEST

START_TEST(unreadable_input_or_unwritable_output_exit_1)
{
	const char   *in[]  = { "run", "-p", path("r.yaml"), "-i",
		   path("missing.jsonl"), NULL };
	const char   *out[] = { "run", "-p", path("r.yaml"), "-i",
		  path("e.jsonl"), "-o", "/nonexistent/dir/m.jsonl", NULL };
	struct result r;

	write_text("r.yaml", AB_RULES);
	write_text("e.jsonl", "{\"ts\":1}\n");
	r = run(NULL, in);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "cannot read"));
	result_free(&r);
	r = run(NULL, out);
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "cannot write"));
	result_free(&r);
}
END_TEST

START_TEST(standard_input_and_output_files_work_and_quiet_is_quiet)
{
	const char   *args[] = { "run", "--quiet", "-p", path("r.yaml"), "-o",
		  path("m.jsonl"), NULL };
	struct result r;
	char         *m;

	write_text("r.yaml", AB_RULES);
	write_text("e.jsonl",
	    "{\"ts\":1,\"user\":\"u\",\"kind\":\"a\"}\n"
	    "{\"ts\":2,\"user\":\"u\",\"kind\":\"b\"}\n");
	r = run(path("e.jsonl"), args);
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_eq(r.out_len, 0);
	ck_assert_str_eq(r.err, "");
	m = slurp(path("m.jsonl"), NULL);
	ck_assert_uint_eq(count_lines(m), 1);
	free(m);
	result_free(&r);
}
END_TEST

START_TEST(a_line_longer_than_the_limit_is_skipped)
{
	const char   *args[] = { "run", "-p", path("r.yaml"), "-i",
		  path("e.jsonl"), NULL };
	struct result r;
	size_t        big  = (size_t) 5 << 20;
	char         *text = malloc(big + 200);
	size_t        n    = 0;

	write_text("r.yaml", AB_RULES);
	n += (size_t) sprintf(
	    text, "{\"ts\":1,\"user\":\"u\",\"kind\":\"a\"}\n");
	n += (size_t) sprintf(text + n, "{\"ts\":2,\"pad\":\"");
	memset(text + n, 'x', big);
	n += big;
	n += (size_t) sprintf(text + n,
	    "\"}\n{\"ts\":3,\"user\":\"u\","
	    "\"kind\":\"b\"}\n");
	write_file("e.jsonl", text, n);
	free(text);
	r = run(NULL, args);
	ck_assert_int_eq(r.status, 0);
	ck_assert_uint_eq(count_lines(r.out), 1);
	ck_assert_ptr_nonnull(strstr(r.err, ":2: warning: line longer than"));
	result_free(&r);
}
END_TEST

START_TEST(a_stream_and_a_pattern_may_share_a_name)
{
	const char   *args[] = { "run", "-p", path("r.yaml"), "-i",
		  path("e.jsonl"), NULL };
	struct result r;

	write_text("r.yaml",
	    "streams:\n"
	    "  - name: x\n"
	    "    key: k\n"
	    "    window: {tumble: 1s}\n"
	    "    aggregate: {n: count()}\n"
	    "patterns:\n"
	    "  - name: x\n"
	    "    from: x\n"
	    "    key: k\n"
	    "    sequence:\n"
	    "      - begin: a\n"
	    "        where: n > 1\n");
	write_text("e.jsonl",
	    "{\"ts\":2000,\"k\":\"a\"}\n{\"ts\":2001,\"k\":\"a\"}\n");
	r = run(NULL, args);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\"window_end\":3000"));
	result_free(&r);
}
END_TEST

START_TEST(usage_errors_exit_2)
{
	const char   *none[]  = { "run", NULL };
	const char   *delay[] = { "run", "-p", "x", "--max-delay", "soon",
		  NULL };
	const char   *work[]  = { "run", "-p", "x", "--workers", "0", NULL };
	struct result r;

	r = run(NULL, none);
	ck_assert_int_eq(r.status, 2);
	result_free(&r);
	r = run(NULL, delay);
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--max-delay"));
	result_free(&r);
	r = run(NULL, work);
	ck_assert_int_eq(r.status, 2);
	result_free(&r);
}
END_TEST

static Suite *
cmd_run_suite(void)
{
	Suite *s = suite_create("cmd_run");
	TCase *t = tcase_create("bad input");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 120);
	tcase_add_test(
	    t, malformed_json_lines_are_skipped_with_a_warning_each);
	tcase_add_test(t, strict_mode_stops_at_the_first_bad_line_with_exit_1);
	tcase_add_test(
	    t, events_without_an_integer_time_are_skipped_with_a_warning);
	tcase_add_test(t, binary_garbage_in_a_msgpack_file_is_skipped);
	tcase_add_test(t, empty_files_give_no_matches_and_exit_0);
	tcase_add_test(t, a_key_that_is_a_map_is_not_matched_and_is_counted);
	tcase_add_test(t, ten_million_partial_matches_on_one_key_stay_bounded);
	tcase_add_test(t, invalid_patterns_exit_2_and_write_no_match);
	tcase_add_test(t, unreadable_input_or_unwritable_output_exit_1);
	tcase_add_test(
	    t, standard_input_and_output_files_work_and_quiet_is_quiet);
	tcase_add_test(t, a_line_longer_than_the_limit_is_skipped);
	tcase_add_test(t, a_stream_and_a_pattern_may_share_a_name);
	tcase_add_test(t, usage_errors_exit_2);
	suite_add_tcase(s, t);
	return (s);
}

CEP_TEST_MAIN(cmd_run_suite)
