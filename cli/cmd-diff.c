/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tightbox diff A.json B.json [--json]
 * Exit: 0 same, 1 different, 2 bad input.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/profile-diff.h"
#include "core/profile.h"
#include "core/util.h"

#define WIDTH 100 /* text lines are folded to this many columns */

/*
 * Prints "    LABEL: TEXT", folded at WIDTH: a line may break after "; " (between rules) or
 * before " || " (between alternatives); continuation lines are indented under the text. A token
 * longer than a line is kept whole rather than cut.
 */
static void print_folded(const char *label, const char *text)
{
	size_t indent = 4 + strlen(label) + 2, col;
	const char *p = text;

	col = (size_t)printf("    %s: ", label);
	while (*p) {
		/* The next token runs to the next break point: after a ';' or before a " ||". */
		const char *semi = strstr(p + 1, "; "), *alt = strstr(p + 1, " || "), *end;

		end = p + strlen(p);
		if (semi && semi + 1 < end)
			end = semi + 1;
		if (alt && alt < end)
			end = alt;
		if (col > indent && col + (size_t)(end - p) > WIDTH) {
			printf("\n%*s", (int)indent, "");
			col = indent;
			p += *p == ' '; /* the separator's space is where the line broke */
		}
		col += (size_t)printf("%.*s", (int)(end - p), p);
		p = end;
	}
	printf("\n");
}

static void print_text(const char *pa, const char *pb, const struct tb_profile_diff *d)
{
	static const char *const what[] = {
		[TB_DIFF_ONLY_A] = "allowed by A only",  [TB_DIFF_ONLY_B] = "allowed by B only",
		[TB_DIFF_ACTION] = "denied differently", [TB_DIFF_ARGS] = "different argument rules",
		[TB_DIFF_ARCH] = "arch in one filter only",
	};
	size_t per_kind[TB_ARRAY_SIZE(what)] = {0};

	for (size_t i = 0; i < d->n_entries; i++)
		if ((size_t)d->entries[i].kind < TB_ARRAY_SIZE(per_kind))
			per_kind[d->entries[i].kind]++;
	/* The summary first: what a reader needs before 200 lines of detail. */
	printf("A: %s\nB: %s\n%s: %zu difference%s\n", pa, pb, d->arch, d->n_entries,
	       d->n_entries == 1 ? "" : "s");
	for (size_t k = 0; k < TB_ARRAY_SIZE(what); k++)
		if (per_kind[k])
			printf("  %5zu %-7s %s\n", per_kind[k], tb_diff_kind_name((enum tb_diff_kind)k),
			       what[k]);
	for (size_t i = 0; i < d->n_entries; i++) {
		const struct tb_diff_entry *e = &d->entries[i];
		int head = printf("%s %s %s:", d->arch, tb_diff_kind_name(e->kind), e->name);

		if ((size_t)head + strlen(e->a) + strlen(e->b) + 12 <= WIDTH) {
			printf(" A: %s | B: %s\n", e->a, e->b);
			continue;
		}
		printf("\n");
		print_folded("A", e->a);
		print_folded("B", e->b);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: tightbox diff A.json B.json [--json]\n\n"
		   "Compare two seccomp profiles as the filter on this machine's arch would apply them:\n"
		   "names allowed by one only, different deny actions or errnos, different argument\n"
		   "rules, and architectures in one filter only. The text output starts with a summary\n"
		   "(how many differences of each kind), then one entry per difference, long argument\n"
		   "rules folded at 100 columns.\n\n"
		   "Exit codes: 0 same, 1 different, 2 bad input.\n");
}

int tb_cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct tb_profile *pa = NULL, *pb = NULL;
	struct tb_profile_diff *d = NULL;
	bool json = false;
	struct tb_diag dg;
	int c, r, ret = 2;

	optind = 1;
	opterr = 0; /* tb_cli_print_bad_option says why, with a "did you mean" */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			tb_cli_print_bad_option("tightbox diff", argv, optind, opts);
			return 2;
		}
	}
	if (optind + 2 != argc) {
		fprintf(stderr, "tightbox diff: expected two profiles\n");
		usage(stderr);
		return 2;
	}
	tb_diag_clear(&dg);
	r = tb_profile_load(argv[optind], &pa, &dg);
	if (r >= 0)
		r = tb_profile_load(argv[optind + 1], &pb, &dg);
	if (r < 0) {
		tb_cli_print_diag("tightbox diff", &dg);
		goto out;
	}
	r = tb_profile_diff(pa, pb, NULL, &d);
	if (r < 0) {
		fprintf(stderr, "tightbox diff: %s\n", strerror(-r));
		goto out;
	}
	if (json) {
		json_t *arr = json_array(), *root;

		for (size_t i = 0; arr && i < d->n_entries; i++)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "kind",
							     tb_diff_kind_name(d->entries[i].kind),
							     "name", d->entries[i].name, "a",
							     d->entries[i].a, "b", d->entries[i].b));
		root = json_pack("{s:s, s:s, s:s, s:o, s:b}", "a", argv[optind], "b",
				 argv[optind + 1], "arch", d->arch, "differences", arr, "same",
				 d->n_entries == 0);
		if (!root || json_dumpf(root, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) < 0) {
			json_decref(root);
			fprintf(stderr, "tightbox diff: out of memory\n");
			goto out;
		}
		json_decref(root);
		printf("\n");
	} else {
		print_text(argv[optind], argv[optind + 1], d);
	}
	ret = d->n_entries ? 1 : 0;
out:
	tb_profile_diff_free(d);
	tb_profile_free(pa);
	tb_profile_free(pb);
	return ret;
}
