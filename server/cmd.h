/* SPDX-License-Identifier: MIT */
/*
 * cmd.h: the subcommands of the `cep` executable.
 *
 * Each subcommand is one line of SRV_COMMANDS (name, usage, help); main.c
 * builds its dispatch table and usage text from the list, so adding a
 * command is that line plus its cmd_NAME.c (listed in server/meson.build),
 * which defines srv__cmd_NAME.
 *
 * A command gets the arguments from its own name on (argv[0] is "check")
 * and returns the exit status: SRV_EXIT_OK, SRV_EXIT_FAIL (it could not do
 * its job: out of memory, a write error), or SRV_EXIT_USAGE (bad usage or
 * invalid input such as patterns that do not load).
 */
#ifndef SRV_CMD_H
#define SRV_CMD_H

#include <stdio.h>

#define SRV_COMMANDS(X)                                                      \
	X(check, "check PATTERNS [--dot]",                                   \
	    "validate pattern files; --dot draws their automata")              \
	X(run,                                                               \
	    "run -p PATTERNS [-i EVENTS] [-o MATCHES] [--max-delay D] "      \
	    "[--workers N] [--strict] [--quiet]",                            \
	    "replay events through the patterns")

#define SRV_EXIT_OK 0
#define SRV_EXIT_FAIL 1
#define SRV_EXIT_USAGE 2

#define SRV__CMD_DECL(name, usage, help) \
	int srv__cmd_##name(int argc, char **argv);
SRV_COMMANDS(SRV__CMD_DECL)
#undef SRV__CMD_DECL

/* Print "usage: cep USAGE" for one command (main.c). */
void srv__usage_of(FILE *out, const char *command);

#endif
