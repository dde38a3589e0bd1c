/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tightbox explain [RUN OPTIONS] [--] CMD [ARG...]`: run CMD exactly as `tightbox run` would, and
 * name every syscall its seccomp profile denied (docs/explain.md).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/run-options.h"
#include "core/util.h"
#include "tracer/explain.h"

static void explain_help(FILE *f)
{
	fprintf(f, "Usage: tightbox explain [OPTIONS] [--] CMD [ARG...]\n\n"
		   "Runs CMD in the same sandbox as 'tightbox run', under the same seccomp profile, and\n"
		   "reports each syscall the profile denied: name, decoded arguments, count, the process\n"
		   "and its first occurrence, the Python file and line when a traceback names one, and\n"
		   "the smallest profile change that would allow it. For a Python program, each denial\n"
		   "also gets its Python context: the import chain, the line of user code and the\n"
		   "phase (start-up, import, user code). The program sees exactly the errno,\n"
		   "kill or SIGSYS the profile gives it. The program's output is passed through; the\n"
		   "report goes to stderr. With --json, stdout gets the 'tightbox run --json' result\n"
		   "with an \"explain\" member instead.\n\n"
		   "Exit status: as 'tightbox run' (the command's code, 128+N killed by signal N, 124\n"
		   "timeout, 125 tightbox failed, 126 cannot execute, 127 not found).\n\n"
		   "Explain options:\n"
		   "      --learn                   let every call the profile denies run (the dangerous\n"
		   "                                set and fileless exec are still refused), so one run\n"
		   "                                names every denial\n"
		   "      --apply -o FIXED.json     write the profile with the suggested (smallest safe)\n"
		   "                                additions to FIXED.json\n"
		   "      --no-python-context       run a Python program as given, without the context\n"
		   "                                bootstrap (also 'run --explain', 'record')\n\n");
	tb_run_cli_help(f);
}

struct explain_flags {
	struct tb_explain_opts opts;
	bool apply;
	const char *output;
};

/* --learn, --apply, -o/--output FILE (the run options' parser calls this for what it lacks). */
static int extra_opt(int argc, char **argv, int i, void *data, struct tb_diag *d)
{
	struct explain_flags *f = data;
	const char *a = argv[i];

	if (!strcmp(a, "--learn")) {
		f->opts.learn = true;
		return 1;
	}
	if (!strcmp(a, "--apply")) {
		f->apply = true;
		return 1;
	}
	if (!strncmp(a, "--output=", 9)) {
		f->output = a + 9;
		return 1;
	}
	if (strcmp(a, "-o") && strcmp(a, "--output"))
		return 0;
	if (i + 1 >= argc) {
		tb_diag_set(d, NULL, 0, 0, a, "%s needs a value", a);
		return -1;
	}
	f->output = argv[i + 1];
	return 2;
}

static int explain_and_print(struct tb_run_cli *o, const struct explain_flags *f);

/* Runs the parsed command under the explainer and prints; shared by `explain` and `run --explain`.
 * Does not free @o. Returns the exit status. */
int tb_cli_explain(struct tb_run_cli *o)
{
	static const struct explain_flags none;

	return explain_and_print(o, &none);
}

static int explain_and_print(struct tb_run_cli *o, const struct explain_flags *flags)
{
	struct explain_flags fl = *flags, *f = &fl;
	struct tb_run_result res;
	struct tb_explain_report *rep = NULL;
	struct tb_diag d;
	int r, status;

	memset(&res, 0, sizeof(res));
	tb_diag_clear(&d);
	/* Text mode shows the program's output as it comes, like `tightbox run`. */
	o->cfg.passthrough = !o->json;
	fl.opts.no_python_context = o->no_python_context;
	r = tb_explain_run(&o->cfg, &f->opts, &rep, &res, &d);
	tb_cli_print_warnings("tightbox explain", res.warnings, res.n_warnings);
	if (r < 0) {
		if (!res.exec_failed)
			tb_cli_print_diag("tightbox explain", &d);
		else if (res.error)
			fprintf(stderr, "tightbox explain: %s\n", res.error);
		if (o->json)
			tb_run_result_write_json(&res, STDOUT_FILENO);
		status = res.exec_failed ? tb_run_result_exit_status(&res) : 125;
		goto out;
	}
	status = tb_run_result_exit_status(&res);
	if (o->json) {
		r = tb_explain_result_write_json(&res, rep, STDOUT_FILENO);
		if (r < 0) {
			fprintf(stderr, "tightbox explain: cannot write the result: %s\n", strerror(-r));
			status = 125;
		}
	} else {
		_cleanup_free_ char *text = NULL;

		if (res.error)
			fprintf(stderr, "tightbox explain: %s\n", res.error);
		if (tb_explain_report_format(rep, &text) < 0) {
			fprintf(stderr, "tightbox explain: out of memory\n");
			status = 125;
		} else {
			fflush(stdout);
			fputs(text, stderr);
		}
	}
	if (f->apply && status != 125) {
		tb_diag_clear(&d);
		if (tb_explain_apply(rep, f->output, &d) < 0) {
			tb_cli_print_diag("tightbox explain", &d);
			status = 125;
		} else {
			fprintf(stderr, "tightbox explain: wrote %s (%s)\n", f->output,
				rep->suggestion ? "with the suggested additions" : "nothing to add");
		}
	}
out:
	tb_explain_report_free(rep);
	tb_run_result_free(&res);
	return status;
}

int tb_cmd_explain(int argc, char **argv)
{
	struct explain_flags f = {0};
	struct tb_run_cli o;
	struct tb_diag d;
	int status;

	memset(&o, 0, sizeof(o));
	tb_diag_clear(&d);
	if (tb_run_cli_parse(argc, argv, &o, extra_opt, &f, &d) < 0) {
		tb_cli_print_diag("tightbox explain", &d);
		tb_run_cli_free(&o);
		return 125;
	}
	if (o.help) {
		explain_help(stdout);
		status = 0;
	} else if (!o.cfg.argv) {
		fprintf(stderr, "tightbox explain: no command given (see tightbox explain --help)\n");
		status = 125;
	} else if (f.apply != (f.output != NULL)) {
		fprintf(stderr, "tightbox explain: --apply and -o FILE go together\n");
		status = 125;
	} else {
		status = explain_and_print(&o, &f);
	}
	tb_run_cli_free(&o);
	return status;
}
