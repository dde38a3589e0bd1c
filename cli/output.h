/* SPDX-License-Identifier: Apache-2.0 */
/* The CLI's printers for library diagnostics and warnings (only cli/ prints). */
#ifndef TB_CLI_OUTPUT_H
#define TB_CLI_OUTPUT_H

#include <stddef.h>

#include "core/diag.h"

/* Prints "PROG: file:line:column: where: message" for @d to stderr. */
void tb_cli_print_diag(const char *prog, const struct tb_diag *d);

/*
 * Prints @n warnings to stderr as "PROG: warning: MESSAGE". Unknown syscall names
 * (TB_WARN_UNKNOWN_SYSCALL) are folded into one line naming them all: profiles written for newer
 * kernels name many, and they are expected and harmless.
 */
void tb_cli_print_warnings(const char *prog, const struct tb_warning *w, size_t n);

/*
 * The candidate closest to @word (an option or command someone mistyped: "--memroy"), when it is
 * close enough to be what they meant (at most 2 edits, a transposition counting as one, and fewer
 * than half of @word's letters), else NULL. @cands has @n entries; NULL entries are skipped.
 */
const char *tb_cli_closest(const char *word, const char *const *cands, size_t n);

struct option;
/*
 * Prints why getopt_long refused argv[@optind - 1] (run with opterr = 0): "needs a value" for a
 * known option, else "unknown option" with a "did you mean" from @opts.
 */
void tb_cli_print_bad_option(const char *prog, char **argv, int optind, const struct option *opts);

#endif
