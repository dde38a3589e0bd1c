/* SPDX-License-Identifier: Apache-2.0 */
/* tightbox export: docker/podman/OCI/Kubernetes/SPO wiring for a generated profile directory. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/util.h"
#include "generator/generate.h"

#define EXIT_BAD_INPUT 2

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: tightbox export --format FORMAT [OPTIONS] [-- CMD [ARG...]]\n\n"
	    "Print how to deploy the profiles `tightbox generate` wrote, with the hardened limits\n"
	    "(no network, read-only root, noexec /tmp 50m, 256m memory, 0.5 CPU, 64 pids, no\n"
	    "capabilities, no-new-privileges, nofile 64, nproc 32, uid 65534):\n"
	    "  docker, podman   the full `docker run` / `podman run` command line\n"
	    "  oci              an OCI runtime config.json (process, root, mounts, linux.seccomp,\n"
	    "                   linux.resources) for runc\n"
	    "  kubernetes       a Pod manifest (JSON; kubectl accepts it)\n"
	    "  spo              a Security Profiles Operator SeccompProfile resource\n\n"
	    "Options:\n"
	    "      --format FORMAT     one of the above (required)\n"
	    "      --profile-dir DIR   where seccomp.json is (default .)\n"
	    "      --image IMG         container image (default tightbox-sandbox:latest)\n"
	    "      --name NAME         AppArmor profile / resource name (default "
	    "tightbox-sandbox)\n"
	    "      --no-apparmor       leave the AppArmor option out (hosts without AppArmor)\n"
	    "  -h, --help              this text\n\n"
	    "Exit status: 0 printed, 2 bad usage or a missing/malformed seccomp.json.\n");
}

int tb_cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"profile-dir", required_argument, NULL, 'd'},
	    {"image", required_argument, NULL, 'i'},
	    {"name", required_argument, NULL, 'n'},
	    {"no-apparmor", no_argument, NULL, 'A'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct tb_export_opts o = {.apparmor = true};
	_cleanup_free_ char *text = NULL;
	const char *dir = ".";
	char real[PATH_MAX];
	bool have_format = false;
	struct tb_diag d;
	int c, r;

	tb_diag_clear(&d);
	optind = 1;
	opterr = 0; /* tb_cli_print_bad_option says why, with a "did you mean" */
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (tb_export_format_parse(optarg, &o.format) < 0) {
				fprintf(stderr,
					"tightbox export: --format: expected docker, podman, "
					"oci, kubernetes or spo, not '%s'\n",
					optarg);
				return EXIT_BAD_INPUT;
			}
			have_format = true;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'i':
			o.image = optarg;
			break;
		case 'n':
			o.name = optarg;
			break;
		case 'A':
			o.apparmor = false;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			tb_cli_print_bad_option("tightbox export", argv, optind, longopts);
			return EXIT_BAD_INPUT;
		}
	}
	if (!have_format) {
		fprintf(stderr, "tightbox export: --format is required\n");
		usage(stderr);
		return EXIT_BAD_INPUT;
	}
	if (optind < argc && !strcmp(argv[optind - 1], "--"))
		o.command = argv + optind;
	else if (optind < argc) {
		fprintf(stderr,
			"tightbox export: unexpected argument '%s' (put a command after --)\n",
			argv[optind]);
		return EXIT_BAD_INPUT;
	}
	/* The printed command must work from any directory. */
	if (!realpath(dir, real)) {
		fprintf(stderr, "tightbox export: --profile-dir %s: %s\n", dir, strerror(errno));
		return EXIT_BAD_INPUT;
	}
	o.profile_dir = real;
	r = tb_export(&o, &text, &d);
	if (r < 0) {
		tb_cli_print_diag("tightbox export", &d);
		return EXIT_BAD_INPUT;
	}
	fputs(text, stdout);
	return 0;
}
