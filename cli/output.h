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

#endif
