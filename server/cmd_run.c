/* SPDX-License-Identifier: MIT */
/*
 * cmd_run.c: `cep run`: replay a bounded input through the patterns.
 *
 *	cep run -p PATTERNS [-i EVENTS] [-o MATCHES] [--max-delay D]
 *	        [--workers N] [--strict] [--quiet]
 *
 * Builds the rule set's dataflow graph (server/job.c) over the input file
 * (JSON Lines, or msgpack for *.msgpack; standard input by default) and
 * runs it until the input ends, when the watermark goes to +infinity.
 * Matches go out as JSON Lines; warnings, progress and the summary go to
 * standard error.  Exit 0 when the input was processed; 1 when it could
 * not be (a read or write error, or with --strict a bad record); 2 for bad
 * usage or patterns that do not load.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/cmd.h"
#include "server/job.h"

#define OUT_FLUSH (1u << 20)
#define PROGRESS_EVERY_S 5

struct run {
	const char     *in_name;
	const char     *out_name;
	FILE           *out;
	cep_buf         outbuf;
	srv_job        *job;
	int             quiet;
	int             strict;
	int             failed_strict; /* --strict met a bad record */
	int             write_failed;
	uint64_t        bad;
	struct timespec started;
	pthread_mutex_t lock;
	pthread_cond_t  done_cond;
	int             done;
};

static double
elapsed(const struct run *r)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((double) (now.tv_sec - r->started.tv_sec) +
	    (double) (now.tv_nsec - r->started.tv_nsec) / 1e9);
}

static cep_err
flush_out(struct run *r)
{
	if (r->outbuf.len > 0 &&
	    fwrite(r->outbuf.data, 1, r->outbuf.len, r->out) !=
	        r->outbuf.len) {
		r->write_failed = 1;
		return (CEP_EIO);
	}
	cep_buf_reset(&r->outbuf);
	return (CEP_OK);
}

/* on_match writes a match record as one JSON line (sink calls come one at
 * a time). */
static cep_err
on_match(void *arg, const cep_record *rec)
{
	struct run *r  = arg;
	cep_err     rv = cep_json_write_event(&r->outbuf, rec->ev);

	cep_buf_put_u8(&r->outbuf, '\n');
	if (rv == CEP_OK && r->outbuf.len >= OUT_FLUSH) {
		rv = flush_out(r);
	}
	return (rv != CEP_OK ? rv : cep_buf_status(&r->outbuf));
}

static void
stop_strict(struct run *r)
{
	r->failed_strict = 1;
	cep_flow_stop(srv_job_flow(r->job));
}

static void
on_bad_record(void *arg, const char *name, uint64_t pos, const char *msg)
{
	struct run *r = arg;

	r->bad++;
	fprintf(stderr, "%s:%" PRIu64 ": %s: %s\n", name, pos,
	    r->strict ? "error" : "warning", msg);
	if (r->strict) {
		stop_strict(r);
	}
}

static void
on_no_time(void *arg, const char *field, uint64_t pos)
{
	struct run *r = arg;

	if (!r->quiet || r->strict) {
		fprintf(stderr,
		    "%s:%" PRIu64 ": %s: no integer time field '%s'; skipped "
		    "by the patterns timed by it\n",
		    r->in_name, pos, r->strict ? "error" : "warning", field);
	}
	if (r->strict) {
		stop_strict(r);
	}
}

static void
print_no_key(void *arg, const char *owner, const char *field, uint64_t n)
{
	(void) arg;
	if (n > 0) {
		fprintf(stderr,
		    "cep run: %s: %" PRIu64 " %s without key '%s'\n", owner, n,
		    n == 1 ? "event" : "events", field);
	}
}

/* summary prints the counters; the final one also says, per pattern and
 * stream, how many events came without its key. */
static void
summary(struct run *r, int final)
{
	srv_job_stats st;
	double        secs = elapsed(r);
	uint64_t      out;

	srv_job_stats_get(r->job, &st);
	out = final ? st.matches + st.timeouts : st.published;
	fprintf(stderr,
	    "cep run: %s%" PRIu64 " events in, %" PRIu64 " skipped, %" PRIu64
	    " late, %" PRIu64 " without time, %" PRIu64 " %s out",
	    final ? "" : "progress: ", st.events, r->bad, st.late, st.no_time,
	    out, out == 1 ? "match" : "matches");
	if (final) {
		fprintf(stderr,
		    " (%" PRIu64 " timed out, %" PRIu64 " published), %" PRIu64
		    " partial matches dropped",
		    st.timeouts, st.published, st.dropped);
	}
	fprintf(stderr, ", %.0f events/s\n",
	    secs > 0 ? (double) st.events / secs : 0.0);
	if (final) {
		srv_job_each_no_key(r->job, print_no_key, NULL);
	}
}

/* progress prints the counters every few seconds until the run is done. */
static void *
progress(void *arg)
{
	struct run     *r = arg;
	struct timespec until;

	pthread_mutex_lock(&r->lock);
	while (!r->done) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += PROGRESS_EVERY_S;
		if (pthread_cond_timedwait(&r->done_cond, &r->lock, &until) ==
		        ETIMEDOUT &&
		    !r->done) {
			summary(r, 0);
		}
	}
	pthread_mutex_unlock(&r->lock);
	return (NULL);
}

static int
usage(void)
{
	srv__usage_of(stderr, "run");
	return (SRV_EXIT_USAGE);
}

struct args {
	const char *patterns;
	const char *input;
	const char *output;
	int64_t     max_delay;
	int         delay_set;
	unsigned    workers;
};

static int
parse_args(int argc, char **argv, struct args *a, struct run *r)
{
	static const struct option opts[] = {
		{ "patterns", required_argument, NULL, 'p' },
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "max-delay", required_argument, NULL, 'd' },
		{ "workers", required_argument, NULL, 'w' },
		{ "strict", no_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long  n;
	int   c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:i:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			a->patterns = optarg;
			break;
		case 'i':
			a->input = optarg;
			break;
		case 'o':
			a->output = optarg;
			break;
		case 'd':
			if (cep_duration_parse(optarg, strlen(optarg),
			        &a->max_delay) != CEP_OK) {
				fprintf(stderr,
				    "cep run: --max-delay: '%s' is not a "
				    "duration (like 250ms or 5s)\n",
				    optarg);
				return (SRV_EXIT_USAGE);
			}
			a->delay_set = 1;
			break;
		case 'w':
			n = strtol(optarg, &end, 10);
			if (*end != '\0' || n < 1 || n > 256) {
				fprintf(stderr,
				    "cep run: --workers: '%s' is not a number "
				    "from 1 to 256\n",
				    optarg);
				return (SRV_EXIT_USAGE);
			}
			a->workers = (unsigned) n;
			break;
		case 's':
			r->strict = 1;
			break;
		case 'q':
			r->quiet = 1;
			break;
		case 'h':
			srv__usage_of(stdout, "run");
			return (SRV_EXIT_OK);
		default:
			return (usage());
		}
	}
	if (a->patterns == NULL || optind != argc) {
		return (usage());
	}
	return (-1);
}

/* execute runs the job and reports. */
static int
execute(struct run *r, const struct args *a)
{
	cep_flow_opts opts = { a->workers, 0, 0 };
	pthread_t     tid;
	int           have_progress = 0;
	cep_err       rv;

	clock_gettime(CLOCK_MONOTONIC, &r->started);
	if (!r->quiet) {
		have_progress = pthread_create(&tid, NULL, progress, r) == 0;
	}
	rv = cep_flow_run(srv_job_flow(r->job), &opts);
	pthread_mutex_lock(&r->lock);
	r->done = 1;
	pthread_cond_broadcast(&r->done_cond);
	pthread_mutex_unlock(&r->lock);
	if (have_progress) {
		pthread_join(tid, NULL);
	}
	if (r->failed_strict) {
		return (SRV_EXIT_FAIL);
	}
	if (rv != CEP_OK) {
		fprintf(stderr, "cep run: %s\n",
		    rv == CEP_EIO && !r->write_failed
		        ? "cannot read the events"
		        : r->write_failed ? strerror(errno)
		                          : cep_strerror(rv));
		return (SRV_EXIT_FAIL);
	}
	if (flush_out(r) != CEP_OK || fflush(r->out) != 0) {
		fprintf(stderr, "cep run: writing %s: %s\n", r->out_name,
		    strerror(errno));
		return (SRV_EXIT_FAIL);
	}
	if (!r->quiet) {
		summary(r, 1);
	}
	return (SRV_EXIT_OK);
}

int
srv__cmd_run(int argc, char **argv)
{
	struct args  a;
	struct run   r;
	srv_job_opts jo;
	srv_rules   *rules = NULL;
	cep_diag    *diag;
	FILE        *probe;
	cep_err      rv;
	int          status;

	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	if ((status = parse_args(argc, argv, &a, &r)) >= 0) {
		return (status);
	}
	if ((diag = cep_diag_create()) == NULL) {
		return (SRV_EXIT_FAIL);
	}
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.done_cond, NULL);
	cep_buf_init(&r.outbuf);
	memset(&jo, 0, sizeof(jo));
	jo.input             = a.input != NULL ? a.input : "-";
	r.in_name            = jo.input;
	jo.format            = cep_format_of(a.input);
	jo.max_delay         = a.max_delay;
	jo.max_delay_set     = a.delay_set;
	jo.on_match          = on_match;
	jo.on_match_arg      = &r;
	jo.ordered           = 1;
	jo.on_bad_record     = on_bad_record;
	jo.on_bad_record_arg = &r;
	jo.on_no_time        = on_no_time;
	jo.on_no_time_arg    = &r;
	if ((rv = srv_rules_load(a.patterns, &rules, diag)) == CEP_OK) {
		rv = srv_job_create(rules, &jo, &r.job, diag);
	}
	if (rv != CEP_OK) {
		cep_diag_sort(diag);
		cep_diag_print(diag, stderr);
		if (rv == CEP_ENOMEM || cep_diag_count(diag, -1) == 0) {
			fprintf(stderr, "cep run: %s\n", cep_strerror(rv));
		}
		status = rv == CEP_ENOMEM || rv == CEP_EIO ? SRV_EXIT_FAIL
		                                           : SRV_EXIT_USAGE;
		goto out;
	}
	/* Fail early and clearly on an input that cannot be opened. */
	if (a.input != NULL && strcmp(a.input, "-") != 0) {
		if ((probe = fopen(a.input, "rb")) == NULL) {
			fprintf(stderr, "cep run: cannot read %s: %s\n",
			    a.input, strerror(errno));
			status = SRV_EXIT_FAIL;
			goto out;
		}
		fclose(probe);
	}
	r.out_name = a.output == NULL ? "-" : a.output;
	r.out      = a.output == NULL || strcmp(a.output, "-") == 0
	         ? stdout
	         : fopen(a.output, "wb");
	if (r.out == NULL) {
		fprintf(stderr, "cep run: cannot write %s: %s\n", a.output,
		    strerror(errno));
		status = SRV_EXIT_FAIL;
		goto out;
	}
	status = execute(&r, &a);
	if (r.out != stdout && fclose(r.out) != 0 && status == SRV_EXIT_OK) {
		fprintf(stderr, "cep run: writing %s: %s\n", a.output,
		    strerror(errno));
		status = SRV_EXIT_FAIL;
	}
out:
	srv_job_destroy(r.job);
	srv_rules_destroy(rules);
	cep_buf_fini(&r.outbuf);
	pthread_mutex_destroy(&r.lock);
	pthread_cond_destroy(&r.done_cond);
	cep_diag_destroy(diag);
	return (status);
}
