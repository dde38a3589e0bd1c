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

static void usage(FILE *f)
{
	fprintf(f, "Usage: tightbox diff A.json B.json [--json]\n\n"
		   "Compare two seccomp profiles as the filter on this machine's arch would apply them:\n"
		   "names allowed by one only, different deny actions or errnos, different argument\n"
		   "rules, and architectures in one filter only.\n\n"
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
		for (size_t i = 0; i < d->n_entries; i++) {
			const struct tb_diff_entry *e = &d->entries[i];

			printf("%s %s %s: A: %s | B: %s\n", d->arch, tb_diff_kind_name(e->kind), e->name,
			       e->a, e->b);
		}
		printf("%s: %zu difference%s\n", d->arch, d->n_entries, d->n_entries == 1 ? "" : "s");
	}
	ret = d->n_entries ? 1 : 0;
out:
	tb_profile_diff_free(d);
	tb_profile_free(pa);
	tb_profile_free(pb);
	return ret;
}
