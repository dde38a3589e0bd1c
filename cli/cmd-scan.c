/* SPDX-License-Identifier: Apache-2.0 */
/* tightbox scan: static syscall reachability of ELF files or a Python interpreter (docs/scan.md).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/fileio.h"
#include "core/strv.h"
#include "core/util.h"
#include "scanner/scan.h"

#define EXIT_BAD_INPUT 2
#define EXIT_WRITE_FAILED 1

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: tightbox scan [OPTIONS] [ELF...]\n\n"
	    "List the syscalls ELF executables and shared objects can reach, with their DT_NEEDED\n"
	    "closure: imported glibc functions (through one table), syscall() calls and inline\n"
	    "syscall instructions. Writes the scan JSON (docs/scan.md) for generate --scan.\n\n"
	    "Options:\n"
	    "  -o, --output FILE     write the JSON here (default: stdout)\n"
	    "      --python INTERP   scan the interpreter, its lib-dynload and the extension\n"
	    "                        modules of its site/dist-packages directories\n"
	    "      --packages LIST   with --python: only these top-level packages of\n"
	    "                        site/dist-packages (comma-separated, e.g. numpy,pandas)\n"
	    "      --print-table     print the glibc symbol table (symbol, syscalls, how each\n"
	    "                        row was derived) as JSON and exit\n"
	    "  -q, --quiet           no summary on stderr\n"
	    "  -h, --help            this text\n\n"
	    "Exit status: 0 written, 1 cannot write, 2 bad input (not ELF, wrong machine, no such\n"
	    "file or interpreter).\n");
}

static int write_text(FILE *f, const void *data)
{
	return fputs(data, f) < 0 || fputc('\n', f) < 0 ? -EIO : 0;
}

static int write_out(const char *path, const char *text)
{
	if (!path || !strcmp(path, "-"))
		return write_text(stdout, text);
	return tb_write_file_atomic(path, 0644, write_text, text);
}

/* The one table, as JSON: {"SYMBOL": {"syscalls": [...], "derived": "measured"}, ...}. */
static int print_table(void)
{
	size_t n;
	const struct tb_scan_libc_entry *t = tb_scan_libc_table(&n);
	json_t *root = json_object();

	for (size_t i = 0; root && i < n; i++) {
		json_t *names = json_array();

		for (const char *p = t[i].syscalls; *p;) {
			size_t l = strcspn(p, " ");

			json_array_append_new(names, json_stringn(p, l));
			p += l;
			p += strspn(p, " ");
		}
		json_object_set_new(root, t[i].symbol,
				    json_pack("{s:o,s:s}", "syscalls", names, "derived",
					      tb_scan_derived_name(t[i].derived)));
	}
	if (!root || json_dumpf(root, stdout, JSON_INDENT(1) | JSON_SORT_KEYS) < 0) {
		json_decref(root);
		return EXIT_WRITE_FAILED;
	}
	json_decref(root);
	putchar('\n');
	return 0;
}

int tb_cmd_scan(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"python", required_argument, NULL, 'P'},
	    {"packages", required_argument, NULL, 'K'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"print-table", no_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct tb_scan_opts o = {0};
	struct tb_scan *s = NULL;
	const char *output = NULL;
	_cleanup_free_ char *text = NULL, *pk_copy = NULL;
	char **packages = NULL;
	struct tb_diag d;
	bool quiet = false;
	int c, r, ret = EXIT_BAD_INPUT;

	tb_diag_clear(&d);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'P':
			o.python = optarg;
			break;
		case 'K': {
			char *save = NULL;

			free(pk_copy);
			pk_copy = strdup(optarg);
			if (!pk_copy)
				return EXIT_WRITE_FAILED;
			for (char *t = strtok_r(pk_copy, ",", &save); t;
			     t = strtok_r(NULL, ",", &save))
				if (tb_strv_add(&packages, t) < 0)
					return EXIT_WRITE_FAILED;
			break;
		}
		case 'q':
			quiet = true;
			break;
		case 'T':
			return print_table();
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_BAD_INPUT;
		}
	}
	if (packages && !o.python) {
		fprintf(stderr, "tightbox scan: --packages needs --python\n");
		goto out;
	}
	o.files = (const char *const *)(argv + optind);
	o.n_files = (size_t)(argc - optind);
	o.packages = (const char *const *)packages;
	o.n_packages = tb_strv_len(packages);
	r = tb_scan_run(&o, &s, &d);
	if (r < 0) {
		tb_cli_print_diag("tightbox scan", &d);
		ret = r == -EINVAL ? EXIT_BAD_INPUT : EXIT_WRITE_FAILED;
		goto out;
	}
	ret = EXIT_WRITE_FAILED;
	r = tb_scan_to_json(s, &text);
	if (r == 0)
		r = write_out(output, text);
	if (r < 0) {
		fprintf(stderr, "tightbox scan: cannot write %s: %s\n", output ? output : "stdout",
			strerror(-r));
		goto out;
	}
	if (!quiet) {
		size_t calls = 0, inl = 0;

		for (size_t i = 0; i < s->n_objects; i++)
			calls += s->objects[i].n_calls, inl += s->objects[i].n_inlines;
		fprintf(stderr,
			"tightbox scan: %zu objects (%zu inputs), %zu syscalls reachable; %zu "
			"syscall() calls, %zu inline syscall instructions, %zu with an unknown "
			"number; %zu DT_NEEDED not found\n",
			s->n_objects, tb_strv_len(s->inputs), s->n_syscalls, calls, inl,
			s->unknown_sites, s->n_missing);
	}
	ret = 0;
out:
	tb_strv_free(packages);
	tb_scan_free(s);
	return ret;
}
