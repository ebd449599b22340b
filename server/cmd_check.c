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

static void
summarize(const nfa_prog *prog, FILE *out)
{
	const nfa_pattern *p = nfa_prog_pattern(prog);
	char               within[CEP_DURATION_BUF];

	fprintf(out, "%s: %zu step%s, ", p->name, p->nsteps,
	    p->nsteps == 1 ? "" : "s");
	if (p->key.n > 0) {
		fprintf(out, "key %s, ", p->key.text);
	} else {
		fprintf(out, "global, ");
	}
	if (p->within > 0) {
		fprintf(out, "within %s, ",
		    cep_duration_format(p->within, within));
	} else {
		fprintf(out, "no within, ");
	}
	fprintf(out, "skip %s", nfa_skip_name(p->skip));
	if (p->skip_step != NULL) {
		fprintf(out, " %s", p->skip_step);
	}
	fprintf(out, ", %zu states\n", nfa_prog_nstates(prog));
}

/* compile_all turns every pattern into its automaton (the programs take
 * the patterns over); compile errors go to diag. */
static cep_err
compile_all(srv_rules *rules, nfa_prog **progs, cep_diag *diag)
{
	cep_err rv = CEP_OK;

	for (size_t i = 0; i < rules->npatterns; i++) {
		cep_err one = nfa_prog_create(rules->patterns[i], &progs[i], diag);
		if (one == CEP_OK) {
			rules->patterns[i] = NULL;
		} else if (rv == CEP_OK || one == CEP_ENOMEM) {
			rv = one;
		}
	}
	return (rv);
}

/* report prints one summary line per pattern, or with dot the automata
 * as Graphviz digraphs. */
static cep_err
report(nfa_prog **progs, size_t n, int dot)
{
	cep_buf b;
	cep_err rv = CEP_OK;

	cep_buf_init(&b);
	for (size_t i = 0; i < n && rv == CEP_OK; i++) {
		if (dot) {
			cep_buf_reset(&b);
			if ((rv = nfa_prog_dot(progs[i], &b)) == CEP_OK &&
			    fwrite(b.data, 1, b.len, stdout) != b.len) {
				rv = CEP_EIO;
			}
		} else {
			summarize(progs[i], stdout);
		}
	}
	cep_buf_fini(&b);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		rv = CEP_EIO;
	}
	return (rv);
}

int
srv__cmd_check(int argc, char **argv)
{
	const char *path = NULL;
	srv_rules  *rules = NULL;
	nfa_prog  **progs = NULL;
	cep_diag   *diag;
	cep_err     rv;
	int         status = SRV_EXIT_OK, dot = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			srv__usage_of(stdout, "check");
			return (SRV_EXIT_OK);
		}
		if (strcmp(argv[i], "--dot") == 0) {
			dot = 1;
			continue;
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
	rv = srv_rules_load(path, &rules, diag);
	if (rv == CEP_OK) {
		progs = cep_calloc(rules->npatterns + 1, sizeof(*progs));
		rv    = progs == NULL ? CEP_ENOMEM
		                      : compile_all(rules, progs, diag);
	}
	if (rv == CEP_OK) {
		rv = report(progs, rules->npatterns, dot);
		if (rv != CEP_OK) {
			fprintf(stderr, "cep check: cannot write: %s\n",
			    cep_strerror(rv));
			status = SRV_EXIT_FAIL;
		}
	} else {
		cep_diag_sort(diag);
		(void) cep_diag_print(diag, stderr);
		if (rv == CEP_ENOMEM) {
			fprintf(stderr, "cep check: %s\n", cep_strerror(rv));
		}
		status = rv == CEP_ENOMEM ? SRV_EXIT_FAIL : SRV_EXIT_USAGE;
	}
	for (size_t i = 0; progs != NULL && i < rules->npatterns; i++) {
		nfa_prog_unref(progs[i]);
	}
	if (progs != NULL) {
		cep_free(progs, (rules->npatterns + 1) * sizeof(*progs));
	}
	srv_rules_destroy(rules);
	cep_diag_destroy(diag);
	return (status);
}
