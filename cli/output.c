/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/output.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

void tb_cli_print_diag(const char *prog, const struct tb_diag *d)
{
	char buf[1400]; /* the longest tb_diag_format output: file, position, where, message */

	fprintf(stderr, "%s: %s\n", prog, tb_diag_format(d, buf, sizeof(buf)));
}

void tb_cli_print_warnings(const char *prog, const struct tb_warning *w, size_t n)
{
	char names[1024] = "";
	size_t n_unknown = 0, used = 0;

	for (size_t i = 0; i < n; i++) {
		if (w[i].kind != TB_WARN_UNKNOWN_SYSCALL) {
			fprintf(stderr, "%s: warning: %s\n", prog, w[i].message);
			continue;
		}
		if (used < sizeof(names))
			used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
						 n_unknown ? ", " : "", w[i].subject);
		n_unknown++;
	}
	if (n_unknown)
		fprintf(stderr, "%s: warning: seccomp: %zu syscall name%s unknown to this libseccomp "
				"skipped, as Docker does: %s\n",
			prog, n_unknown, n_unknown == 1 ? "" : "s", names);
}

/* Optimal string alignment distance (Levenshtein plus adjacent transpositions), capped at 9. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[34][34];

	if (la > 32 || lb > 32)
		return 9;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

const char *tb_cli_closest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = 3, letters = strspn(word, "-");

	letters = strlen(word) - letters;
	for (size_t i = 0; i < n; i++) {
		size_t dist;

		if (!cands[i])
			continue;
		dist = edit_distance(word, cands[i]);
		if (dist < best_d && dist * 2 < letters) {
			best = cands[i];
			best_d = dist;
		}
	}
	return best;
}

void tb_cli_print_bad_option(const char *prog, char **argv, int optind, const struct option *opts)
{
	const char *arg = argv[optind - 1];
	const char *names[64];
	char name[64], dashed[64][40];
	size_t n = 0;

	if (arg[0] == '-' && arg[1] != '-') {
		fprintf(stderr, "%s: option -%c is unknown or needs a value (see --help)\n", prog,
			optopt ? optopt : arg[1]);
		return;
	}
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(arg, "="), arg);
	for (const struct option *o = opts; o->name && n < TB_ARRAY_SIZE(names); o++) {
		snprintf(dashed[n], sizeof(dashed[n]), "--%s", o->name);
		if (!strcmp(name, dashed[n])) {
			fprintf(stderr, "%s: %s %s\n", prog, name,
				o->has_arg == no_argument ? "takes no value" : "needs a value");
			return;
		}
		names[n] = dashed[n];
		n++;
	}
	{
		const char *near = tb_cli_closest(name, names, n);

		if (near)
			fprintf(stderr, "%s: unknown option '%s' (did you mean %s?)\n", prog, name, near);
		else
			fprintf(stderr, "%s: unknown option '%s' (see --help)\n", prog, name);
	}
}
