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
#include "apparmor/apparmor.h"
#include "core/strv.h"
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
	    "  kubernetes       a ConfigMap (script, inputs), a deny-all NetworkPolicy and a Pod\n"
	    "  spo              a Security Profiles Operator SeccompProfile resource\n"
	    "kubernetes and spo print YAML (--json: JSON). What a target cannot express is "
	    "printed\n"
	    "with it as `# note:` lines (on stderr for JSON).\n\n"
	    "The profile must allow what runc calls after loading the filter: generate it with\n"
	    "`tightbox generate --runtime tightbox,runc` (export refuses it otherwise).\n\n"
	    "Options:\n"
	    "      --format FORMAT     one of the above (required)\n"
	    "      --profile-dir DIR   where seccomp.json is (default .)\n"
	    "      --script FILE       the script, mounted read-only at /sandbox/script.py "
	    "(default\n"
	    "                          ./script.py when no command is given after --)\n"
	    "      --input PATH        also mount PATH read-only at /sandbox/input/NAME "
	    "(repeatable)\n"
	    "      --image IMG         container image (default tightbox-sandbox:latest)\n"
	    "      --name NAME         AppArmor profile / resource name (default "
	    "tightbox-sandbox)\n"
	    "      --apparmor          add the AppArmor option (default: only when this host has\n"
	    "                          AppArmor enabled)\n"
	    "      --no-apparmor       leave the AppArmor option out\n"
	    "      --json              kubernetes, spo: JSON instead of YAML\n"
	    "      --rootfs DIR        oci: the root filesystem (absolute; default rootfs beside\n"
	    "                          config.json) - `ctr run --config` needs it absolute\n"
	    "  -h, --help              this text\n\n"
	    "Exit status: 0 printed, 2 bad usage, a missing/malformed seccomp.json, a profile "
	    "runc\n"
	    "cannot start with, or a script/input that cannot be mounted.\n");
}

/* The absolute path of @path for a mount source, or NULL with a message (it must exist: the
 * printed command would fail, or docker would create an empty directory in its place). */
static char *mount_source(const char *flag, const char *path)
{
	char *abs = realpath(path, NULL);

	if (!abs)
		fprintf(stderr, "tightbox export: %s %s: %s\n", flag, path, strerror(errno));
	return abs;
}

int tb_cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, 'f'}, {"profile-dir", required_argument, NULL, 'd'},
	    {"image", required_argument, NULL, 'i'},  {"name", required_argument, NULL, 'n'},
	    {"script", required_argument, NULL, 's'}, {"input", required_argument, NULL, 'I'},
	    {"apparmor", no_argument, NULL, 'a'},     {"no-apparmor", no_argument, NULL, 'A'},
	    {"json", no_argument, NULL, 'j'},	      {"rootfs", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	struct tb_export_opts o = {0};
	_cleanup_free_ char *text = NULL, *script = NULL, *rootfs = NULL;
	char **inputs = NULL, **notes = NULL;
	const char *dir = ".", *script_arg = NULL;
	char real[PATH_MAX], why[256] = "";
	bool have_format = false;
	int apparmor = -1; /* -1: what the host has */
	struct tb_diag d;
	int c, r, ret = EXIT_BAD_INPUT;

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
				goto out;
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
		case 's':
			script_arg = optarg;
			break;
		case 'I': {
			_cleanup_free_ char *abs = mount_source("--input", optarg);

			if (!abs)
				goto out;
			if (tb_strv_add(&inputs, abs) < 0) {
				fprintf(stderr, "tightbox export: out of memory\n");
				goto out;
			}
			break;
		}
		case 'a':
			apparmor = 1;
			break;
		case 'A':
			apparmor = 0;
			break;
		case 'j':
			o.json = true;
			break;
		case 'r':
			free(rootfs);
			rootfs = mount_source("--rootfs", optarg);
			if (!rootfs)
				goto out;
			break;
		case 'h':
			usage(stdout);
			ret = 0;
			goto out;
		default:
			tb_cli_print_bad_option("tightbox export", argv, optind, longopts);
			goto out;
		}
	}
	if (!have_format) {
		fprintf(stderr, "tightbox export: --format is required\n");
		usage(stderr);
		goto out;
	}
	if (optind < argc && !strcmp(argv[optind - 1], "--"))
		o.command = argv + optind;
	else if (optind < argc) {
		fprintf(stderr,
			"tightbox export: unexpected argument '%s' (put a command after --)\n",
			argv[optind]);
		goto out;
	}
	/* The default command runs /sandbox/script.py, so the printed line must mount one. */
	if (!script_arg && !o.command)
		script_arg = "script.py";
	if (script_arg) {
		script = mount_source("--script", script_arg);
		if (!script) {
			if (!o.command)
				fprintf(stderr, "tightbox export: the default command runs "
						"/sandbox/script.py: give --script FILE, or a "
						"command after --\n");
			goto out;
		}
		o.script = script;
	}
	o.inputs = inputs;
	if (rootfs && o.format != TB_EXPORT_OCI) {
		fprintf(stderr, "tightbox export: --rootfs is for --format oci only\n");
		goto out;
	}
	o.rootfs = rootfs;
	if (apparmor < 0) {
		apparmor = tb_apparmor_enabled(why, sizeof(why));
		if (!apparmor)
			o.apparmor_off_reason = why;
	}
	o.apparmor = apparmor;
	/* The printed command must work from any directory. */
	if (!realpath(dir, real)) {
		fprintf(stderr, "tightbox export: --profile-dir %s: %s\n", dir, strerror(errno));
		goto out;
	}
	o.profile_dir = real;
	r = tb_export(&o, &text, &d);
	if (r < 0) {
		if (r == -ENOMEM)
			fprintf(stderr, "tightbox export: out of memory\n");
		else
			tb_cli_print_diag("tightbox export", &d);
		goto out;
	}
	/* JSON has no comments: its notes go to stderr (the other outputs carry them). */
	if ((o.format == TB_EXPORT_OCI || o.json) && tb_export_notes(&o, &notes) == 0)
		for (char **n = notes; n && *n; n++)
			fprintf(stderr, "tightbox export: note: %s\n", *n);
	fputs(text, stdout);
	ret = 0;
out:
	tb_strv_free(inputs);
	tb_strv_free(notes);
	return ret;
}
