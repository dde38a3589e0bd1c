/* SPDX-License-Identifier: Apache-2.0 */
/* tightbox: one binary, subcommands dispatched from a table (as crun does). */
#include <jansson.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

#include "apparmor/apparmor.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "core/fileio.h"
#include "core/util.h"
#include "tracer/record.h"

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
	{"scan", tb_cmd_scan, "list the syscalls ELF files or a Python interpreter can reach"},
	{"serve", tb_cmd_serve, "an HTTP/JSON API that runs code in the sandbox (see serve --help)"},
};

static const struct tb_command *find_command(const char *name)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

static int unknown_command(const char *name)
{
	const char *names[TB_ARRAY_SIZE(commands) + 1];
	const char *near;

	for (size_t i = 0; i < TB_ARRAY_SIZE(commands); i++)
		names[i] = commands[i].name;
	names[TB_ARRAY_SIZE(commands)] = "help";
	near = tb_cli_closest(name, names, TB_ARRAY_SIZE(names));
	if (near)
		fprintf(stderr, "tightbox: unknown command '%s' (did you mean '%s'?)\n", name, near);
	else
		fprintf(stderr, "tightbox: unknown command '%s' (see 'tightbox --help')\n", name);
	return 2;
}

/* What this build has (TB_FEATURES from CMake: the optional parts that were compiled in) and
 * what this machine lets it use. */
static void version(void)
{
	const struct scmp_version *sv = seccomp_version();
	char why[256], path[4096];

	printf("tightbox %s\n", TB_VERSION);
	printf("built with: %s\n", TB_FEATURES);
	printf("libraries: libseccomp %u.%u.%u, jansson %s\n", sv->major, sv->minor, sv->micro,
	       jansson_version_str());
	printf("record backends: ptrace");
	if (tb_ptrace_available(why, sizeof(why)) < 0)
		printf(" (unavailable here: %s)", why);
	printf(", bpf");
	if (tb_bpf_available(why, sizeof(why)) < 0)
		printf(" (unavailable here: %s)", why);
	if (tb_apparmor_enabled(why, sizeof(why)))
		printf("\napparmor: enforced here");
	else
		printf("\napparmor: not here: %s", why);
	printf("\nprofiles: %s\n",
	       tb_data_path("default.json", path, sizeof(path)) == 0 ? path : "not installed");
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: tightbox COMMAND [OPTIONS]\n\n"
		   "Run untrusted code under measured, minimal policies.\n\nCommands:\n");
	fprintf(f, "  %-10s %s\n", "help", "show a command's options (tightbox help run)");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'tightbox help COMMAND' or 'tightbox COMMAND --help' for the options of a\n"
		   "command, 'man tightbox-COMMAND' for its manual, 'tightbox --version' for what this\n"
		   "build supports.\n"
		   "Exit codes of run/record/explain follow docker run: the command's own code, 128+N\n"
		   "when killed by signal N, 124 timeout, 125 tightbox failed, 126 cannot execute, 127 not\n"
		   "found. generate/audit/diff/export: 0 ok, 1 findings (audit --fail-on), 2 bad input.\n");
}

int main(int argc, char **argv)
{
	const struct tb_command *cmd;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    (!strcmp(argv[1], "help") && argc == 2)) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "help")) {
		char *help_argv[] = {argv[2], "--help", NULL};

		if (argc > 3) {
			fprintf(stderr, "tightbox help: expected one command\n");
			return 2;
		}
		cmd = find_command(argv[2]);
		return cmd ? cmd->fn(2, help_argv) : unknown_command(argv[2]);
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		version();
		return 0;
	}
	if (argv[1][0] == '-') {
		static const char *const top[] = {"--help", "--version"};
		const char *near = tb_cli_closest(argv[1], top, TB_ARRAY_SIZE(top));

		fprintf(stderr, "tightbox: unknown option '%s'%s%s%s (see 'tightbox --help')\n", argv[1],
			near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
		return 2;
	}
	cmd = find_command(argv[1]);
	return cmd ? cmd->fn(argc - 1, argv + 1) : unknown_command(argv[1]);
}
