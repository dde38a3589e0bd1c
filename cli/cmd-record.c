/* SPDX-License-Identifier: Apache-2.0 */
/* tightbox record: run a command in the sandbox under a recorder, or merge recordings. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/run-options.h"
#include "core/recording.h"
#include "tracer/record.h"

struct record_flags {
	struct tb_record_opts opts;
	const char *output;
};

static void usage(FILE *f)
{
	fputs("Usage: tightbox record [RUN OPTIONS] [--backend ptrace|bpf|auto] [-o FILE]\n"
	      "                       [--name WORKLOAD] [--enforce] [--] CMD [ARG...]\n"
	      "       tightbox record [RUN OPTIONS] ... --script FILE\n"
	      "       tightbox record --merge A.json B.json ... [-o ALL.json]\n\n"
	      "Run CMD in the same hardened sandbox as 'tightbox run' (without its seccomp profile\n"
	      "unless --enforce) and record every syscall (per architecture, with the filterable\n"
	      "arguments), the files it touched and whether that worked, the programs it executed and\n"
	      "the socket families it used (docs/recording-format.md). The dangerous set and fileless\n"
	      "exec are always refused with EPERM and listed under \"denied\".\n\n"
	      "Record options:\n"
	      "      --backend B               ptrace (any kernel >= 5.3), bpf (eBPF, cheaper), or\n"
	      "                                auto: bpf when available, else ptrace (default auto)\n"
	      "  -o, --output FILE             where to write the recording (default recording.json;\n"
	      "                                '-' for stdout); written atomically\n"
	      "      --name WORKLOAD           workload name (default: script or command basename)\n"
	      "      --enforce                 also load the seccomp profile (denied calls are not\n"
	      "                                recorded: they never reach the tracer)\n"
	      "      --phase all|user          Python: run under the two-phase bootstrap (with\n"
	      "                                --preload; phase 2 allows everything) and record the\n"
	      "                                whole run (all) or only what follows phase 2's stack\n"
	      "                                (user), for generate --phases; ptrace backend\n"
	      "      --no-python-context       run a Python program as given: no Python context in\n"
	      "                                the recording (by default, with ptrace, the first use\n"
	      "                                of each syscall has its import chain, user line and\n"
	      "                                phase, and each top-level import its syscalls)\n"
	      "      --merge FILE...           union of recordings instead of running anything\n\n",
	      f);
	tb_run_cli_help(f);
	fputs("\nExit status: as 'tightbox run' (the command's code, 128+N on signal N, 124 timeout,\n"
	      "125 tightbox failed or bad option, 126/127 cannot execute / not found). A command that\n"
	      "crashed or timed out still yields a recording, marked in its provenance.\n"
	      "--merge: 0 ok, 2 an input is unreadable or not a recording (FILE:LINE:COL: problem).\n",
	      f);
}

static int extra_opt(int argc, char **argv, int i, void *data, struct tb_diag *d)
{
	struct record_flags *f = data;
	const char *a = argv[i];
	const char *val = NULL;
	size_t n;

	if (!strcmp(a, "--enforce")) {
		f->opts.enforce = true;
		return 1;
	}
	for (const char *const *o = (const char *const[]){"--backend", "--output", "-o", "--name",
							  "--phase", NULL};
	     *o; o++) {
		n = strlen(*o);
		if (strncmp(a, *o, n))
			continue;
		if (a[n] == '=' && (*o)[1] == '-')
			val = a + n + 1;
		else if (a[n] != '\0')
			continue;
		if (!val && i + 1 >= argc) {
			tb_diag_set(d, NULL, 0, 0, *o, "%s needs a value", *o);
			return -1;
		}
		if (!val)
			val = argv[i + 1];
		if (!strcmp(*o, "--backend")) {
			if (tb_backend_parse(val, &f->opts.backend) < 0) {
				tb_diag_set(d, NULL, 0, 0, "--backend",
					    "unknown backend '%s' (ptrace, bpf or auto)", val);
				return -1;
			}
		} else if (!strcmp(*o, "--phase")) {
			if (strcmp(val, "all") && strcmp(val, "user")) {
				tb_diag_set(d, NULL, 0, 0, "--phase",
					    "expected all or user (got '%s')", val);
				return -1;
			}
			f->opts.phase = val;
		} else if (!strcmp(*o, "--name")) {
			if (!val[0] || strchr(val, '/')) {
				tb_diag_set(d, NULL, 0, 0, "--name",
					    "the workload name must be non-empty, without '/'");
				return -1;
			}
			f->opts.workload = val;
		} else {
			f->output = val;
		}
		return a[n] == '=' ? 1 : 2;
	}
	return 0;
}

static int save(const struct tb_recording *r, const char *out, const char *what)
{
	int ret;

	if (!strcmp(out, "-"))
		ret = tb_recording_write(r, stdout);
	else
		ret = tb_recording_save(r, out);
	if (ret < 0)
		fprintf(stderr, "tightbox record: cannot write %s: %s\n", what, strerror(-ret));
	return ret;
}

static int do_merge(int argc, char **argv)
{
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized by its element */
	struct tb_recording **in = calloc((size_t)argc, sizeof(*in));
	struct tb_recording *m = NULL;
	const char *out = "-";
	size_t n = 0;
	int status = 2, ret;

	if (!in)
		return 125;
	for (int i = 1; i < argc; i++) {
		struct tb_diag d = {0};

		if (!strcmp(argv[i], "--merge"))
			continue;
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "tightbox record: %s needs a value\n", argv[i]);
				goto out;
			}
			out = argv[++i];
			continue;
		}
		if (!strncmp(argv[i], "--output=", 9)) {
			out = argv[i] + 9;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "tightbox record: --merge: unknown option '%s'\n", argv[i]);
			goto out;
		}
		ret = tb_recording_load(argv[i], &in[n], &d);
		if (ret < 0) {
			tb_cli_print_diag("tightbox record", &d);
			goto out;
		}
		n++;
	}
	if (n == 0) {
		fprintf(stderr, "tightbox record: --merge needs at least one recording\n");
		goto out;
	}
	ret = tb_recording_merge((const struct tb_recording *const *)in, n, &m);
	if (ret < 0) {
		fprintf(stderr, "tightbox record: merge: %s\n", strerror(-ret));
		status = 125;
		goto out;
	}
	status = save(m, out, out) < 0 ? 125 : 0;
	if (status == 0 && strcmp(out, "-"))
		fprintf(stderr, "tightbox record: merged %zu recordings (%zu sources) -> %s\n", n,
			m->n_sources, out);
out:
	for (size_t i = 0; i < n; i++)
		tb_recording_free(in[i]);
	free(in);
	tb_recording_free(m);
	return status;
}

int tb_cmd_record(int argc, char **argv)
{
	struct record_flags f = {.opts = {.backend = TB_BACKEND_AUTO}, .output = "recording.json"};
	struct tb_recording *rec = NULL;
	struct tb_run_result res = {0};
	struct tb_diag d = {0};
	struct tb_run_cli o;
	uint64_t total = 0, distinct = 0;
	int r, status;

	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--merge"))
			return do_merge(argc, argv);
	r = tb_run_cli_parse(argc, argv, &o, extra_opt, &f, &d);
	if (r < 0) {
		tb_cli_print_diag("tightbox record", &d);
		tb_run_cli_free(&o);
		return 125;
	}
	if (o.help) {
		usage(stdout);
		tb_run_cli_free(&o);
		return 0;
	}
	if (!o.cfg.argv) {
		fprintf(stderr, "tightbox record: no command given (see tightbox record --help)\n");
		tb_run_cli_free(&o);
		return 125;
	}
	/* The recording may go to stdout: then the program's output must not. */
	if (!strcmp(f.output, "-"))
		o.cfg.passthrough = false;
	f.opts.python_context = !o.no_python_context;
	r = tb_record(&o.cfg, &f.opts, &rec, &res, &d);
	tb_cli_print_warnings("tightbox record", res.warnings, res.n_warnings);
	if (r < 0) {
		tb_cli_print_diag("tightbox record", &d);
		status = res.exec_failed ? tb_run_result_exit_status(&res) : 125;
		goto out;
	}
	status = tb_run_result_exit_status(&res);
	for (size_t i = 0; i < rec->n_arches; i++)
		for (size_t j = 0; j < rec->arches[i].n_syscalls; j++) {
			total += rec->arches[i].syscalls[j].count;
			distinct++;
		}
	if (save(rec, f.output, f.output) < 0) {
		status = 125;
		goto out;
	}
	fprintf(stderr,
		"tightbox record: %s: %s backend, %llu syscalls (%llu distinct), %zu files, %s %d, "
		"%llu ms%s -> %s\n",
		rec->prov.workload, rec->prov.backend, (unsigned long long)total,
		(unsigned long long)distinct, rec->n_files, res.exited ? "exit" : "signal",
		res.exited ? res.exit_code : res.signal, (unsigned long long)res.wall_ms,
		res.timed_out ? " (timed out)" : "", f.output);
out:
	tb_recording_free(rec);
	tb_run_result_free(&res);
	tb_run_cli_free(&o);
	return status;
}
