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
		   "the smallest profile change that would allow it. The program sees exactly the errno,\n"
		   "kill or SIGSYS the profile gives it. The program's output is passed through; the\n"
		   "report goes to stderr. With --json, stdout gets the 'tightbox run --json' result\n"
		   "with an \"explain\" member instead.\n\n"
		   "Exit status: as 'tightbox run' (the command's code, 128+N killed by signal N, 124\n"
		   "timeout, 125 tightbox failed, 126 cannot execute, 127 not found).\n\n");
	tb_run_cli_help(f);
}

/* Runs the parsed command under the explainer and prints; shared by `explain` and `run --explain`.
 * Does not free @o. Returns the exit status. */
int tb_cli_explain(struct tb_run_cli *o)
{
	struct tb_run_result res;
	struct tb_explain_report *rep = NULL;
	struct tb_diag d;
	int r, status;

	memset(&res, 0, sizeof(res));
	tb_diag_clear(&d);
	/* Text mode shows the program's output as it comes, like `tightbox run`. */
	o->cfg.passthrough = !o->json;
	r = tb_explain_run(&o->cfg, &rep, &res, &d);
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
out:
	tb_explain_report_free(rep);
	tb_run_result_free(&res);
	return status;
}

int tb_cmd_explain(int argc, char **argv)
{
	struct tb_run_cli o;
	struct tb_diag d;
	int status;

	memset(&o, 0, sizeof(o));
	tb_diag_clear(&d);
	if (tb_run_cli_parse(argc, argv, &o, NULL, NULL, &d) < 0) {
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
	} else {
		status = tb_cli_explain(&o);
	}
	tb_run_cli_free(&o);
	return status;
}
