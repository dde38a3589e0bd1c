/* SPDX-License-Identifier: Apache-2.0 */
/* The scanner's stages (not part of the public API). */
#ifndef TB_SCANNER_INTERNAL_H
#define TB_SCANNER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"
#include "scanner/scan.h"

/* One imported function symbol of an object. */
struct tb_elf_import {
	char *name;
	char *version; /* "GLIBC_2.2.5", NULL when unversioned */
	char *file; /* the DT_NEEDED the version belongs to ("libc.so.6"), NULL when unversioned */
};

/* What elf-object.c reads from one ELF file. */
struct tb_elf_info {
	char *soname, *runpath, *rpath;
	char **needed;
	struct tb_elf_import *imports;
	size_t n_imports;
	char **defined; /* defined function symbols, sorted (only read for glibc objects) */
	struct tb_scan_site *calls; /* calls to syscall() through the PLT or the GOT */
	size_t n_calls;
	struct tb_scan_site *inlines; /* `syscall` instructions */
	size_t n_inlines;
	bool executable; /* ET_EXEC, or ET_DYN with PT_INTERP */
};

/*
 * Reads @path with libelf. @want_defined: also list the defined symbols; @want_sites: look for
 * syscall() calls and inline syscall instructions. 0, -EINVAL with @diag (not ELF, not native),
 * -errno.
 */
int tb_elf_read(const char *path, bool want_defined, bool want_sites, struct tb_elf_info *out,
		struct tb_diag *diag);
void tb_elf_info_clear(struct tb_elf_info *e);

/* python.c: the interpreter's extension modules (sorted realpaths) and libpython is found through
 * DT_NEEDED. 0, -EINVAL with @diag, -errno. */
int tb_scan_python_modules(const char *interp, const char *const *packages, size_t n_packages,
			   char ***out, struct tb_diag *diag);

/*
 * The syscalls an imported glibc symbol @sym can make on arch @token (space-separated, static
 * string) and the entry's derivation: the table's row, else the same-name rule (a glibc symbol
 * named like a syscall libseccomp knows on @token is its wrapper). NULL when neither applies.
 */
const char *tb_scan_libc_syscalls(const char *sym, uint32_t token, enum tb_scan_derived *how);

/*
 * Finds @needed as ld.so would: a name with '/' as is; else DT_RPATH (when no DT_RUNPATH),
 * DT_RUNPATH, ld.so.cache, the default directories; $ORIGIN, $LIB and $PLATFORM expanded; only ELF
 * files of the native class and machine count. 0 with *@out (malloc'd realpath), -ENOENT when not
 * found, -ENOMEM.
 */
int tb_scan_resolve(const char *needed, const struct tb_scan_search *s, char **out);

#endif
