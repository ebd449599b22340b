/* SPDX-License-Identifier: MIT */
/*
 * main.c: the `cep` executable: argv and subcommand dispatch.
 *
 * The table of subcommands comes from SRV_COMMANDS (server/cmd.h).  Usage
 * errors exit with SRV_EXIT_USAGE and a short usage text on stderr;
 * --help prints it on stdout.
 */
#include <stdio.h>
#include <string.h>

#include "server/cmd.h"

#ifndef CEP_VERSION
#define CEP_VERSION "unknown"
#endif

typedef struct command {
	const char *name;
	const char *usage;
	const char *help;
	int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
#define SRV__CMD_ENTRY(name, usage, help) \
	{ #name, usage, help, srv__cmd_##name },
	SRV_COMMANDS(SRV__CMD_ENTRY)
#undef SRV__CMD_ENTRY
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: cep COMMAND [ARGS]\n"
	    "       cep --help | --version\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		fprintf(
		    out, "  %-24s %s\n", commands[i].usage, commands[i].help);
	}
}

void
srv__usage_of(FILE *out, const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(commands[i].name, name) == 0) {
			fprintf(out, "usage: cep %s\n", commands[i].usage);
			return;
		}
	}
}

int
main(int argc, char **argv)
{
	const char *arg;

	if (argc < 2) {
		usage(stderr);
		return (SRV_EXIT_USAGE);
	}
	arg = argv[1];
	if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
		usage(stdout);
		return (SRV_EXIT_OK);
	}
	if (strcmp(arg, "--version") == 0) {
		printf("cep %s\n", CEP_VERSION);
		return (SRV_EXIT_OK);
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(commands[i].name, arg) == 0) {
			/* getopt names the program by argv[0] in its messages. */
			char name[32];
			snprintf(name, sizeof(name), "cep %s", arg);
			argv[1] = name;
			return (commands[i].run(argc - 1, argv + 1));
		}
	}
	fprintf(stderr, "cep: unknown %s '%s'\n",
	    arg[0] == '-' ? "option" : "command", arg);
	usage(stderr);
	return (SRV_EXIT_USAGE);
}
