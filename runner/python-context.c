/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command line of the Python-context bootstrap (runner/python-context.py + python-main.py),
 * which tracer/pyctx.c's explain and record runs use instead of the user's python3 command.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner/internal.h"
#include "runner/python-context-bootstrap.h"
#include "runner/run.h"

/* Interpreter options without a value that change nothing the bootstrap depends on. */
static const char plain_flags[] = "bBdEIOPqRsSuv";

int tb_run_python_context_argv(char *const *argv, char ***out, const char **why)
{
	const char *mode = "script", *target = NULL;
	size_t i = 1, opts_end, n = 0, k = 0;
	char **v;

	if (!argv || !argv[0] || !tb_run_is_python(argv[0])) {
		*why = "not a Python program";
		return -ENOTSUP;
	}
	for (; argv[i] && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strncmp(a, "-c", 2) || !strncmp(a, "-m", 2)) {
			/* "-c+": the code was attached ("-cCODE"), as sys.orig_argv shows it. */
			if (a[2])
				mode = a[1] == 'c' ? "-c+" : "-m+";
			else
				mode = a[1] == 'c' ? "-c" : "-m";
			target = a[2] ? a + 2 : argv[i + 1];
			if (!target) {
				*why = "the command line has no program to run";
				return -ENOTSUP;
			}
			break;
		}
		if (!strcmp(a, "-X") || !strcmp(a, "-W")) {
			if (!argv[++i]) {
				*why = "the command line has no program to run";
				return -ENOTSUP;
			}
			continue;
		}
		if (!strncmp(a, "-X", 2) || !strncmp(a, "-W", 2))
			continue;
		if (a[1] == '-' || !a[1] || strspn(a + 1, plain_flags) != strlen(a + 1)) {
			*why = "the interpreter reads the program from stdin or runs interactively, or "
			       "has options the context does not know";
			return -ENOTSUP;
		}
	}
	opts_end = i;
	if (!target) {
		target = argv[i];
		if (!target) {
			*why = "the interpreter runs interactively";
			return -ENOTSUP;
		}
	}
	/* argv[i] is the mode option (target attached or next) or the script. */
	if (strcmp(mode, "script"))
		i += argv[i][2] ? 1 : 2;
	else
		i++;
	while (argv[n])
		n++;
	/* python3 OPTS -c BOOTSTRAP MODE TARGET ARGS NULL */
	v = calloc(opts_end + 4 + (n - i) + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t j = 0; j < opts_end; j++)
		v[k++] = argv[j];
	v[k++] = (char *)"-c";
	v[k++] = (char *)tb_python_context_bootstrap;
	v[k++] = (char *)mode;
	v[k++] = (char *)target;
	for (size_t j = i; j < n; j++)
		v[k++] = argv[j];
	*out = v;
	return 0;
}


enum tb_run_bootstrap tb_run_bootstrap_kind(const char *arg)
{
	if (!strcmp(arg, tb_python_context_bootstrap))
		return TB_RUN_BOOTSTRAP_CONTEXT;
	return tb_two_phase_bootstrap_kind(arg);
}
