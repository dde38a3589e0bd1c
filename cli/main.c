/* SPDX-License-Identifier: Apache-2.0 */
/* tightbox: one binary, subcommands dispatched from a table (as crun does). */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

struct tb_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct tb_command commands[] = {
	{"run", tb_cmd_run, "run a command in the hardened sandbox"},
	{"record", tb_cmd_record, "record the syscalls, files and networks a command uses"},
	{"generate", tb_cmd_generate, "generate seccomp, AppArmor and Landlock policies from recordings"},
	{"export", tb_cmd_export, "print docker/podman/OCI/Kubernetes wiring for generated profiles"},
	{"audit", tb_cmd_audit, "lint a seccomp profile and predict what it breaks"},
	{"diff", tb_cmd_diff, "compare two seccomp profiles"},
	{"explain", tb_cmd_explain, "run a command and name every syscall its profile denied"},
	{"serve", tb_cmd_serve, "an HTTP/JSON API that runs code in the sandbox (see serve --help)"},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: tightbox COMMAND [OPTIONS]\n\n"
		   "Run untrusted code under measured, minimal policies.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'tightbox COMMAND --help' for the options of a command.\n"
		   "Exit codes of run/record/explain follow docker run: the command's own code, 128+N\n"
		   "when killed by signal N, 124 timeout, 125 tightbox failed, 126 cannot execute, 127 not\n"
		   "found. generate/audit/diff/export: 0 ok, 1 findings (audit --fail-on), 2 bad input.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("tightbox %s\n", TB_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "tightbox: unknown command '%s' (see 'tightbox --help')\n", argv[1]);
	return 2;
}
