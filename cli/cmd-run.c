/* SPDX-License-Identifier: Apache-2.0 */
/* tightbox run: parse, call tb_run(), print. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/run-options.h"
#include "runner/run.h"

static void usage(FILE *f)
{
	fputs("Usage: tightbox run [OPTIONS] [--] CMD [ARG...]\n"
	      "       tightbox run [OPTIONS] --script FILE | --code STRING\n\n"
	      "Run CMD in the hardened sandbox: new pid/mount/net/ipc/uts/cgroup namespaces, read-only\n"
	      "root, noexec /tmp, cgroup limits, no capabilities, no_new_privs, Landlock, the seccomp\n"
	      "profile loaded last before execve, uid 65534, a clean environment and a timeout that\n"
	      "kills the whole process tree.\n\n",
	      f);
	tb_run_cli_help(f);
	fputs("      --explain                 report every syscall the profile denied (see explain)\n"
	      "      --warm                    with --two-phase, as root: build the sandbox and import\n"
	      "                                --preload now, then read one line of limits and the\n"
	      "                                request ({\"code\", \"stdin\", \"env\", \"files\",\n"
	      "                                \"output\"}) from stdin; the timeout, the output caps\n"
	      "                                and the usage count from that line; a socket stdin gets\n"
	      "                                'R' when the sandbox is ready (docs/serve-pool.md)\n"
	      "      --no-python-context       with --explain: run a Python program as given, without\n"
	      "                                the Python-context bootstrap\n\n"
	      "Exit status (as docker run): the command's own code; 128+N when killed by signal N;\n"
	      "124 timeout; 125 tightbox failed (bad option or profile, setup error); 126 the command\n"
	      "cannot be executed; 127 the command was not found.\n"
	      "--json prints {stdout, stderr, stdout_truncated, stderr_truncated, stdout_bytes,\n"
	      "stderr_bytes, stdout_omitted, stderr_omitted, stdin_bytes, stdin_truncated, exit_code,\n"
	      "signal, timed_out, oom_killed, wall_ms, cpu_ms, max_rss_kib, error, output} on stdout;\n"
	      "the exit status is the same.\n",
	      f);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* --debug-timing: one line per stage, then the total from the start of option parsing. */
static void print_timing(uint64_t parse_us, uint64_t t0, const struct tb_run_result *res)
{
	uint64_t sum = parse_us;

	fprintf(stderr, "tightbox run: timing: %-36s %8llu us\n", "option parsing",
		(unsigned long long)parse_us);
	for (int s = 0; s < TB_RUN_STAGE_N; s++) {
		fprintf(stderr, "tightbox run: timing: %-36s %8llu us\n", tb_run_stage_name(s),
			(unsigned long long)res->stage_us[s]);
		sum += res->stage_us[s];
	}
	fprintf(stderr, "tightbox run: timing: %-36s %8llu us (stages: %llu us)\n", "total",
		(unsigned long long)(now_us() - t0), (unsigned long long)sum);
}

/* With --json every outcome, including a refused option, is one JSON object on stdout. */
static int fail_json(const char *msg)
{
	struct tb_run_result res = {0};

	res.error = (char *)msg;
	tb_run_result_write_json(&res, STDOUT_FILENO);
	return 125;
}

/* A warm run's result is complete: the pool's server answers at the EOF of our stdout and stderr,
 * not at our exit. */
static void end_output(void)
{
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		close(null);
	}
}

struct early_json {
	bool written;
};

/* run --warm --json: the result (and its warnings) as soon as it is complete, before the
 * teardown; then the output ends. */
static void write_early(const struct tb_run_result *res, void *data)
{
	struct early_json *e = data;

	tb_cli_print_warnings("tightbox run", res->warnings, res->n_warnings);
	tb_run_result_write_json(res, STDOUT_FILENO);
	end_output();
	e->written = true;
}

/* --warm: run's own flag (record and explain do not wait for a request). */
static int run_opt(int argc, char **argv, int i, void *data, struct tb_diag *d)
{
	struct tb_run_config *c = data;

	(void)argc;
	(void)d;
	if (strcmp(argv[i], "--warm"))
		return 0;
	c->warm = true;
	c->warm_fd = STDIN_FILENO;
	return 1;
}

int tb_cmd_run(int argc, char **argv)
{
	struct tb_run_cli o;
	struct tb_run_hooks hooks = {0};
	struct early_json early = {0};
	struct tb_run_result res = {0};
	struct tb_diag d = {0};
	char msg[1200];
	uint64_t t0 = now_us(), parse_us;
	int r, status;

	r = tb_run_cli_parse(argc, argv, &o, run_opt, &o.cfg, &d);
	parse_us = now_us() - t0;
	if (r < 0) {
		tb_diag_format(&d, msg, sizeof(msg));
		fprintf(stderr, "tightbox run: %s\n", msg);
		status = o.json ? fail_json(msg) : 125;
		tb_run_cli_free(&o);
		return status;
	}
	if (o.help) {
		usage(stdout);
		tb_run_cli_free(&o);
		return 0;
	}
	if (!o.cfg.argv) {
		fprintf(stderr, "tightbox run: no command given (see tightbox run --help)\n");
		status = o.json ? fail_json("no command given") : 125;
		tb_run_cli_free(&o);
		return status;
	}
	if (o.json)
		o.cfg.passthrough = false;
	if (o.explain) {
		status = tb_cli_explain(&o);
		tb_run_cli_free(&o);
		return status;
	}
	if (o.json && o.cfg.warm && !o.debug_timing) {
		hooks.result_ready = write_early;
		hooks.data = &early;
	}
	r = tb_run(&o.cfg, &hooks, &res, &d);
	if (o.debug_timing)
		print_timing(parse_us, t0, &res);
	tb_cli_print_warnings("tightbox run", res.warnings, res.n_warnings);
	if (r < 0 && !res.exec_failed) {
		tb_diag_format(&d, msg, sizeof(msg));
		fprintf(stderr, "tightbox run: %s\n", msg);
	} else if ((res.exec_failed || res.error) && !o.json) {
		/* exec failures, and a --warm run that ended before its request */
		fprintf(stderr, "tightbox run: %s\n", res.error);
	}
	if (o.json && !early.written) {
		tb_run_result_write_json(&res, STDOUT_FILENO);
		if (o.cfg.warm)
			end_output();
	} else if (!o.json) {
		if (res.out_truncated)
			fprintf(stderr, "tightbox run: stdout: %llu of %llu bytes omitted (the first "
				"and last part kept)\n", (unsigned long long)res.out_omitted,
				(unsigned long long)res.out_bytes);
		if (res.err_truncated)
			fprintf(stderr, "tightbox run: stderr: %llu of %llu bytes omitted (the first "
				"and last part kept)\n", (unsigned long long)res.err_omitted,
				(unsigned long long)res.err_bytes);
		for (char **w = res.output_skipped; w && *w; w++)
			fprintf(stderr, "tightbox run: --output-dir: not copied: %s\n", *w);
		if (res.timed_out)
			fprintf(stderr, "tightbox run: timed out after %g s\n", o.cfg.timeout);
		if (res.oom_killed)
			fprintf(stderr, "tightbox run: killed: out of memory (limit %llu bytes)\n",
				(unsigned long long)o.cfg.memory);
	}
	status = tb_run_result_exit_status(&res);
	tb_run_result_free(&res);
	tb_run_cli_free(&o);
	return status;
}
