/* SPDX-License-Identifier: MIT */
/*
 * cmd_run.c: `cep run`: replay a bounded input through the patterns.
 *
 *	cep run -p PATTERNS [-i EVENTS] [-o MATCHES] [--max-delay D]
 *	        [--strict] [--quiet]
 *
 * Events come from JSON Lines or a .msgpack file (standard input by
 * default); each pattern takes its event time from its time field, keeps
 * its watermark at the highest time seen minus its max_delay, and at the
 * end of the input the watermark goes to +infinity.  Matches go out as
 * JSON Lines; warnings, progress and the summary go to standard error.
 * Exit 0 when the input was processed; 1 when it could not be (a read or
 * write error, or with --strict a bad record); 2 for bad usage or patterns
 * that do not load.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/cmd.h"
#include "server/rules.h"

#define OUT_FLUSH (1u << 20)
#define PROGRESS_EVERY_NS 5000000000LL

struct pattern_run {
	nfa_prog    *prog;
	nfa_matcher *m;
	int64_t      delay;
	int64_t      wm;
	uint64_t     no_time;
	int          shadow;
};

struct run {
	const char         *out_name;
	FILE               *out;
	cep_buf             outbuf;
	cep_builder        *b;
	nfa_scratch        *scratch;
	struct pattern_run *pr;
	size_t              npr;
	uint64_t            in;
	uint64_t            bad;
	uint64_t            published;
	int                 quiet;
	int                 strict;
	struct timespec     started;
	int64_t             last_progress;
};

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec);
}

static cep_err
flush_out(struct run *r)
{
	if (r->outbuf.len > 0 &&
	    fwrite(r->outbuf.data, 1, r->outbuf.len, r->out) != r->outbuf.len) {
		return (CEP_EIO);
	}
	cep_buf_reset(&r->outbuf);
	return (CEP_OK);
}

/* on_match writes a match as one JSON line (shadow patterns are measured,
 * not published). */
static cep_err
on_match(void *arg, const nfa_match *m)
{
	struct pattern_run *pr = NULL;
	struct run         *r  = arg;
	cep_event          *ev;
	cep_err             rv;

	for (size_t i = 0; i < r->npr; i++) {
		if (r->pr[i].prog == m->prog) {
			pr = &r->pr[i];
		}
	}
	if (pr != NULL && pr->shadow) {
		return (CEP_OK);
	}
	if ((rv = nfa_match_build(m, r->b, r->scratch, NULL, &ev)) != CEP_OK) {
		return (rv);
	}
	rv = cep_json_write_event(&r->outbuf, ev);
	cep_event_unref(ev, NULL);
	cep_buf_put_u8(&r->outbuf, '\n');
	r->published++;
	if (rv == CEP_OK && r->outbuf.len >= OUT_FLUSH) {
		rv = flush_out(r);
	}
	return (rv != CEP_OK ? rv : cep_buf_status(&r->outbuf));
}

/* event_time reads a pattern's time field: an integer, or a double with an
 * integral value. */
static int
event_time(const nfa_pattern *p, const cep_event *ev, int64_t *ts)
{
	cep_val v;

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

static void
summary(const struct run *r, FILE *f, int final)
{
	double   secs = (double) (now_ns() - ((int64_t) r->started.tv_sec *
	                                       1000000000 +
	                                   r->started.tv_nsec)) /
	              1e9;
	uint64_t late = 0, bad_key = 0, matches = 0, timeouts = 0, dropped = 0,
	         no_time = 0;

	for (size_t i = 0; i < r->npr; i++) {
		nfa_stats st;
		nfa_matcher_stats(r->pr[i].m, &st);
		late += st.late;
		bad_key += st.bad_key;
		matches += st.matches;
		timeouts += st.timeouts;
		dropped += st.dropped;
		no_time += r->pr[i].no_time;
	}
	fprintf(f,
	    "cep run: %s%" PRIu64 " events in, %" PRIu64 " skipped, %" PRIu64
	    " late, %" PRIu64 " without key, %" PRIu64 " without time, %" PRIu64
	    " matches out (%" PRIu64 " timed out), %" PRIu64
	    " partial matches dropped, %.0f events/s\n",
	    final ? "" : "progress: ", r->in, r->bad, late, bad_key, no_time,
	    matches + timeouts, timeouts, dropped,
	    secs > 0 ? (double) r->in / secs : 0.0);
}

static void
progress(struct run *r)
{
	int64_t t = now_ns();

	if (r->quiet || t - r->last_progress < PROGRESS_EVERY_NS) {
		return;
	}
	r->last_progress = t;
	summary(r, stderr, 0);
}

/* feed offers one event to every pattern. */
static cep_err
feed(struct run *r, const cep_event *ev, uint64_t seq, const char *name,
    uint64_t pos)
{
	int warned = 0;

	for (size_t i = 0; i < r->npr; i++) {
		struct pattern_run *pr = &r->pr[i];
		const nfa_pattern  *p  = nfa_prog_pattern(pr->prog);
		int64_t             ts, wm;
		cep_err             rv;

		if (!event_time(p, ev, &ts)) {
			pr->no_time++;
			if (!warned && (!r->quiet || r->strict)) {
				fprintf(stderr,
				    "%s:%" PRIu64 ": %s: no integer time field "
				    "'%s'; skipped by pattern '%s'\n",
				    name, pos, r->strict ? "error" : "warning",
				    p->time.text, p->name);
				warned = 1;
			}
			if (r->strict) {
				return (CEP_EPARSE);
			}
			continue;
		}
		wm = ts < NFA_TIME_MIN + pr->delay ? NFA_TIME_MIN
		                                   : ts - pr->delay;
		if (wm > pr->wm) {
			pr->wm = wm;
		}
		if ((rv = nfa_matcher_push(pr->m, ev, ts, seq, pr->wm, NULL)) !=
		    CEP_OK) {
			return (rv);
		}
	}
	return (CEP_OK);
}

static int
usage(void)
{
	srv__usage_of(stderr, "run");
	return (SRV_EXIT_USAGE);
}

static void
run_fini(struct run *r)
{
	for (size_t i = 0; i < r->npr; i++) {
		nfa_matcher_destroy(r->pr[i].m);
		nfa_prog_unref(r->pr[i].prog);
	}
	cep_free(r->pr, r->npr * sizeof(*r->pr));
	cep_builder_destroy(r->b);
	nfa_scratch_destroy(r->scratch);
	cep_buf_fini(&r->outbuf);
}

/* compile turns every loaded pattern into a program and a matcher; the
 * programs take the patterns over from the rule set. */
static cep_err
compile(struct run *r, srv_rules *rules, int64_t max_delay, int delay_set,
    cep_diag *diag)
{
	cep_err rv;

	if ((r->pr = cep_calloc(rules->npatterns + 1, sizeof(*r->pr))) ==
	    NULL) {
		return (CEP_ENOMEM);
	}
	for (size_t i = 0; i < rules->npatterns; i++) {
		struct pattern_run *pr = &r->pr[r->npr];
		nfa_pattern        *p  = rules->patterns[i];

		if (!p->max_delay_set && delay_set) {
			p->max_delay = max_delay;
		}
		if ((rv = nfa_prog_create(p, &pr->prog, diag)) != CEP_OK) {
			return (rv);
		}
		rules->patterns[i] = NULL;
		pr->delay          = p->max_delay;
		pr->wm             = NFA_TIME_MIN;
		pr->shadow         = p->shadow;
		r->npr++;
		if ((rv = nfa_matcher_create(pr->prog, on_match, r, &pr->m)) !=
		    CEP_OK) {
			return (rv);
		}
		/* One file, read in order: sequence order is arrival order. */
		nfa_matcher_set_ordered(pr->m, 1);
	}
	return (CEP_OK);
}

static int
replay(struct run *r, cep_reader *in)
{
	const cep_event *ev;
	uint64_t         pos;
	cep_err          rv;

	for (;;) {
		rv = cep_reader_next(in, &ev, &pos);
		if (rv == CEP_ECLOSED) {
			break;
		}
		if (rv == CEP_EPARSE) {
			r->bad++;
			fprintf(stderr, "%s:%" PRIu64 ": %s: %s\n",
			    cep_reader_name(in), pos,
			    r->strict ? "error" : "warning", cep_reader_error(in));
			if (r->strict) {
				return (SRV_EXIT_FAIL);
			}
			continue;
		}
		if (rv != CEP_OK) {
			fprintf(stderr, "cep run: reading %s: %s\n",
			    cep_reader_name(in),
			    rv == CEP_EIO ? strerror(errno) : cep_strerror(rv));
			return (SRV_EXIT_FAIL);
		}
		r->in++;
		if ((rv = feed(r, ev, pos, cep_reader_name(in), pos)) !=
		    CEP_OK) {
			if (rv == CEP_EPARSE) {
				return (SRV_EXIT_FAIL);
			}
			fprintf(stderr, "cep run: %s\n", rv == CEP_EIO
			                                      ? strerror(errno)
			                                      : cep_strerror(rv));
			return (SRV_EXIT_FAIL);
		}
		if ((r->in & 0xffff) == 0) {
			progress(r);
		}
	}
	for (size_t i = 0; i < r->npr; i++) {
		if ((rv = nfa_matcher_finish(r->pr[i].m)) != CEP_OK) {
			fprintf(stderr, "cep run: %s\n", cep_strerror(rv));
			return (SRV_EXIT_FAIL);
		}
	}
	if (flush_out(r) != CEP_OK || fflush(r->out) != 0) {
		fprintf(stderr, "cep run: writing %s: %s\n", r->out_name,
		    strerror(errno));
		return (SRV_EXIT_FAIL);
	}
	if (!r->quiet) {
		summary(r, stderr, 1);
	}
	return (SRV_EXIT_OK);
}

int
srv__cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "patterns", required_argument, NULL, 'p' },
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "max-delay", required_argument, NULL, 'd' },
		{ "strict", no_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *patterns = NULL, *input = NULL, *output = NULL;
	int64_t     max_delay = 0;
	int         delay_set = 0, c, status;
	struct run  r;
	srv_rules  *rules = NULL;
	cep_reader *in    = NULL;
	cep_diag   *diag;
	cep_err     rv;

	memset(&r, 0, sizeof(r));
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:i:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			patterns = optarg;
			break;
		case 'i':
			input = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'd':
			if (cep_duration_parse(optarg, strlen(optarg),
			        &max_delay) != CEP_OK) {
				fprintf(stderr,
				    "cep run: --max-delay: '%s' is not a "
				    "duration (like 250ms or 5s)\n",
				    optarg);
				return (SRV_EXIT_USAGE);
			}
			delay_set = 1;
			break;
		case 's':
			r.strict = 1;
			break;
		case 'q':
			r.quiet = 1;
			break;
		case 'h':
			srv__usage_of(stdout, "run");
			return (SRV_EXIT_OK);
		default:
			return (usage());
		}
	}
	if (patterns == NULL || optind != argc) {
		return (usage());
	}
	if ((diag = cep_diag_create()) == NULL) {
		return (SRV_EXIT_FAIL);
	}
	rv = srv_rules_load(patterns, &rules, diag);
	if (rv == CEP_OK) {
		cep_buf_init(&r.outbuf);
		r.b       = cep_builder_create();
		r.scratch = nfa_scratch_create();
		rv = r.b == NULL || r.scratch == NULL
		         ? CEP_ENOMEM
		         : compile(&r, rules, max_delay, delay_set, diag);
	}
	if (rv != CEP_OK) {
		cep_diag_sort(diag);
		cep_diag_print(diag, stderr);
		if (rv == CEP_ENOMEM) {
			fprintf(stderr, "cep run: %s\n", cep_strerror(rv));
		}
		status = rv == CEP_ENOMEM || rv == CEP_EIO ? SRV_EXIT_FAIL
		                                           : SRV_EXIT_USAGE;
		goto out;
	}
	if (cep_reader_open(input, cep_format_of(input), &in) != CEP_OK) {
		fprintf(stderr, "cep run: cannot read %s: %s\n", input,
		    strerror(errno));
		status = SRV_EXIT_FAIL;
		goto out;
	}
	r.out_name = output == NULL ? "-" : output;
	r.out      = output == NULL || strcmp(output, "-") == 0
	                 ? stdout
	                 : fopen(output, "wb");
	if (r.out == NULL) {
		fprintf(stderr, "cep run: cannot write %s: %s\n", output,
		    strerror(errno));
		status = SRV_EXIT_FAIL;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &r.started);
	r.last_progress = now_ns();
	status          = replay(&r, in);
	if (r.out != stdout && fclose(r.out) != 0 && status == SRV_EXIT_OK) {
		fprintf(stderr, "cep run: writing %s: %s\n", output,
		    strerror(errno));
		status = SRV_EXIT_FAIL;
	}
out:
	cep_reader_close(in);
	run_fini(&r);
	srv_rules_destroy(rules);
	cep_diag_destroy(diag);
	return (status);
}
