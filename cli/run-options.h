/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `docker run`-style option parser shared by `run`, `record` and `explain`.
 */
#ifndef TB_CLI_RUN_OPTIONS_H
#define TB_CLI_RUN_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "core/diag.h"
#include "runner/run.h"

/*
 * Extra options a subcommand accepts beside the run options: called for each argument the run
 * parser does not know. Return the number of argv entries consumed (1 or 2), 0 when the option is
 * unknown too, or -1 after filling @d with an error.
 */
typedef int (*tb_extra_opt_fn)(int argc, char **argv, int i, void *data, struct tb_diag *d);

struct tb_run_cli {
	struct tb_run_config cfg;
	bool json;    /* --json */
	bool explain; /* --explain (run only) */
	bool no_python_context; /* --no-python-context (explain, run --explain, record) */
	bool debug_timing; /* --debug-timing: microseconds per setup stage on stderr */
	bool help;    /* --help was given */
};

/*
 * Parses `[OPTIONS] [--] CMD [ARG...]` from argv[1..] into @o (initialised with the defaults by this
 * function). Returns 0, or -EINVAL with @d naming the flag and the problem. @extra may be NULL.
 */
int tb_run_cli_parse(int argc, char **argv, struct tb_run_cli *o, tb_extra_opt_fn extra, void *data,
		     struct tb_diag *d);
void tb_run_cli_free(struct tb_run_cli *o);
/* Prints the run options' help text (shared by run, record, explain). */
void tb_run_cli_help(FILE *f);

#endif
