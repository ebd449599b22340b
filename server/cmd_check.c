/* SPDX-License-Identifier: MIT */
/*
 * cmd_check.c: `cep check PATTERNS`: load a rule file or directory and
 * print one summary line per pattern, or every error.
 *
 *	card-testing: 2 steps, key card_id, within 10m, skip no_skip
 *
 * Exit SRV_EXIT_OK when every pattern loads; SRV_EXIT_USAGE with every
 * diagnostic on stderr (FILE:LINE:COL: error: MESSAGE) when not.
 */
#include <stdio.h>
#include <string.h>

#include "server/cmd.h"
#include "server/rules.h"

/* fmt_ms writes a duration in its largest exact unit (600000 is 10m). */
static const char *
fmt_ms(int64_t ms, char *buf, size_t cap)
{
	static const struct {
		const char *unit;
		int64_t     ms;
	} units[] = {
		{ "d", 86400000 },
		{ "h", 3600000 },
		{ "m", 60000 },
		{ "s", 1000 },
	};

	for (size_t i = 0; ms > 0 && i < sizeof(units) / sizeof(units[0]);
	     i++) {
		if (ms % units[i].ms == 0) {
			snprintf(buf, cap, "%lld%s",
			    (long long) (ms / units[i].ms), units[i].unit);
			return (buf);
		}
	}
	snprintf(buf, cap, "%lldms", (long long) ms);
	return (buf);
}

static void
summarize(const nfa_pattern *p, FILE *out)
{
	char within[32];

	fprintf(out, "%s: %zu step%s, ", p->name, p->nsteps,
	    p->nsteps == 1 ? "" : "s");
	if (p->key.n > 0) {
		fprintf(out, "key %s, ", p->key.text);
	} else {
		fprintf(out, "global, ");
	}
	if (p->within > 0) {
		fprintf(out, "within %s, ",
		    fmt_ms(p->within, within, sizeof(within)));
	} else {
		fprintf(out, "no within, ");
	}
	fprintf(out, "skip %s", nfa_skip_name(p->skip));
	if (p->skip_step != NULL) {
		fprintf(out, " %s", p->skip_step);
	}
	fputc('\n', out);
}

int
srv__cmd_check(int argc, char **argv)
{
	const char *path = NULL;
	srv_rules  *rules;
	cep_diag   *diag;
	cep_err     rv;
	int         status = SRV_EXIT_OK;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			srv__usage_of(stdout, "check");
			return (SRV_EXIT_OK);
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "cep check: unknown option '%s'\n",
			    argv[i]);
			srv__usage_of(stderr, "check");
			return (SRV_EXIT_USAGE);
		}
		if (path != NULL) {
			fprintf(stderr, "cep check: one PATTERNS path only\n");
			srv__usage_of(stderr, "check");
			return (SRV_EXIT_USAGE);
		}
		path = argv[i];
	}
	if (path == NULL) {
		srv__usage_of(stderr, "check");
		return (SRV_EXIT_USAGE);
	}
	if ((diag = cep_diag_create()) == NULL) {
		fprintf(stderr, "cep check: %s\n", cep_strerror(CEP_ENOMEM));
		return (SRV_EXIT_FAIL);
	}
	if ((rv = srv_rules_load(path, &rules, diag)) != CEP_OK) {
		(void) cep_diag_print(diag, stderr);
		if (rv == CEP_ENOMEM) {
			fprintf(stderr, "cep check: %s\n", cep_strerror(rv));
			status = SRV_EXIT_FAIL;
		} else {
			status = SRV_EXIT_USAGE;
		}
		cep_diag_destroy(diag);
		return (status);
	}
	for (size_t i = 0; i < rules->npatterns; i++) {
		summarize(rules->patterns[i], stdout);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "cep check: cannot write the summary\n");
		status = SRV_EXIT_FAIL;
	}
	srv_rules_destroy(rules);
	cep_diag_destroy(diag);
	return (status);
}
