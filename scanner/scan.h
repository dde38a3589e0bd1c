/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tightbox scan`: static syscall reachability of ELF objects (docs/scan.md).
 *
 * Pipeline, one stage per file: elf/elf-object.c (no-libelf/ is its twin without libelf) reads one object with libelf/gelf (DT_NEEDED,
 * DT_RUNPATH/DT_RPATH, DT_SONAME, imported symbols with their versions, calls to syscall() and
 * inline `syscall` instructions); resolve.c finds each DT_NEEDED the way ld.so does (ld-cache.c
 * reads /etc/ld.so.cache); python.c lists an interpreter's extension modules; libc-table.c maps
 * imported glibc symbols to syscalls; scan.c walks the closure and builds the result; scan-json.c
 * writes and reads the documented, versioned JSON; reach.c restricts a scan to some of its objects
 * and their closure (`generate --per-import --scan`).
 *
 * This library depends on core only (syscall names come from libseccomp).
 */
#ifndef TB_SCAN_H
#define TB_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"

#define TB_SCAN_FORMAT "tightbox-scan"
#define TB_SCAN_VERSION 1

/* How a syscall was found reachable (bits). */
enum tb_scan_via {
	TB_SCAN_VIA_IMPORT = 1 << 0, /* an imported glibc symbol the table maps to it */
	TB_SCAN_VIA_SYSCALL =
	    1 << 1, /* syscall(NR, ...) with a constant NR loaded before the call */
	TB_SCAN_VIA_INLINE = 1 << 2, /* an inline `syscall` instruction with a constant in eax */
};

/* A call to syscall() or an inline `syscall` instruction in one object. */
struct tb_scan_site {
	uint64_t addr; /* virtual address of the call / instruction */
	int nr;	       /* the constant syscall number loaded right before it, -1 unknown */
};

struct tb_scan_object {
	char *path;	  /* as found (realpath) */
	char *soname;	  /* DT_SONAME, NULL when none */
	char **needed;	  /* DT_NEEDED in file order, NULL-terminated (may be NULL) */
	char **deps;	  /* what those DT_NEEDED resolved to (realpaths), sorted; may be NULL */
	bool glibc;	  /* part of glibc: its syscalls are those of the symbols others import */
	size_t n_imports; /* imported glibc function symbols */
	struct tb_scan_site *calls; /* calls to syscall() */
	size_t n_calls;
	struct tb_scan_site *inlines; /* inline syscall instructions (not scanned in glibc) */
	size_t n_inlines;
};

/* One (object, symbol) that makes a syscall reachable. */
struct tb_scan_ref {
	char *object; /* path */
	char *symbol; /* "sigaltstack@GLIBC_2.2.5", "syscall(0x1234)", "inline(0x5678)" */
	unsigned via; /* enum tb_scan_via bit(s) this reference stands for */
};

struct tb_scan_syscall {
	char *name;		  /* libseccomp name on the scan's arch */
	unsigned via;		  /* enum tb_scan_via bits */
	struct tb_scan_ref *refs; /* sorted by object, then symbol */
	size_t n_refs;
};

struct tb_scan_missing {
	char *needed; /* the DT_NEEDED that could not be found */
	char *by;     /* the object that needs it */
};

struct tb_scan {
	char *arch;			/* libseccomp arch name ("x86_64") */
	char *python;			/* --python interpreter (realpath), NULL when none */
	char **inputs;			/* the objects given or found, sorted */
	struct tb_scan_object *objects; /* the closure, sorted by path */
	size_t n_objects;
	struct tb_scan_syscall *syscalls; /* sorted by name */
	size_t n_syscalls;
	struct tb_scan_missing *missing; /* sorted */
	size_t n_missing;
	size_t unknown_sites; /* syscall()/inline sites whose number is unknown */
	bool has_deps;	      /* objects[].deps known (a scan run, or a file that has them) */
};

struct tb_scan_opts {
	const char *const *files; /* ELF executables / shared objects */
	size_t n_files;
	const char *python;	     /* interpreter to scan with its extension modules, or NULL */
	const char *const *packages; /* only these top-level site/dist-packages (NULL: all) */
	size_t n_packages;
};

/*
 * Scans @o->files and/or the @o->python interpreter with their DT_NEEDED closure. 0 and *@out (free
 * with tb_scan_free), -EINVAL with @diag naming the file and the problem (not ELF, wrong arch, no
 * interpreter), -ENOMEM or another -errno. *@out untouched on failure.
 */
int tb_scan_run(const struct tb_scan_opts *o, struct tb_scan **out, struct tb_diag *diag);
/* Frees @s. Accepts NULL. */
void tb_scan_free(struct tb_scan *s);

/* The documented JSON (docs/scan.md), sorted and deterministic, into *@out (malloc'd). 0/-ENOMEM.
 */
int tb_scan_to_json(const struct tb_scan *s, char **out);
/* Reads a scan JSON written by tb_scan_to_json. -EINVAL with @diag (file, position, problem). */
int tb_scan_load(const char *path, struct tb_scan **out, struct tb_diag *diag);

/* ---- what some objects of a scan reach (reach.c) ---- */

/* One syscall the objects reach, with one reference for the rule's comment. */
struct tb_scan_reached {
	const char *name;	       /* the scan's name (owned by the scan) */
	unsigned via;		       /* enum tb_scan_via bits, over the objects */
	const struct tb_scan_ref *ref; /* the first one among the objects (the scan's) */
	size_t objects;		       /* how many of the objects reach it */
};

/*
 * What @roots (paths; matched as given or by realpath) and their DT_NEEDED closure, as the scan
 * resolved it (objects[].deps), can reach: *@objects (the closure, sorted realpaths) and
 * *@names (sorted by name, *@n_names; the array is malloc'd, its strings are the scan's).
 * -ENOENT with *@missing = the first root the scan does not have, -EPROTO when @s does not know
 * its objects' dependencies (a file of an older tightbox scan), -ENOMEM. Outputs untouched on
 * failure.
 */
int tb_scan_reach(const struct tb_scan *s, char *const *roots, char ***objects,
		  struct tb_scan_reached **names, size_t *n_names, const char **missing);
/* Whether @s has the object @path (as given or by realpath). */
bool tb_scan_has_object(const struct tb_scan *s, const char *path);

/* ---- the glibc symbol table (libc-table.c) ---- */

/* How a table entry was derived. */
enum tb_scan_derived {
	TB_DERIVED_WRAPPER,  /* a thin wrapper of a syscall of another name (glibc source, man 2) */
	TB_DERIVED_MEASURED, /* recorded: tests/probes/scan-libc-probe.c under `tightbox record` */
	TB_DERIVED_SOURCE,   /* read from glibc 2.36's source (the paths it can take) */
	TB_DERIVED_NONE,     /* named like a syscall but makes none (vDSO or pure computation) */
};

struct tb_scan_libc_entry {
	const char *symbol;   /* unversioned glibc symbol */
	const char *syscalls; /* space-separated libseccomp names ("" for none) */
	enum tb_scan_derived derived;
};

/* The table (sorted by symbol) and its length. */
const struct tb_scan_libc_entry *tb_scan_libc_table(size_t *n);
/* "wrapper", "measured", "source", "none". */
const char *tb_scan_derived_name(enum tb_scan_derived d);

/* ---- DT_NEEDED resolution (resolve.c, ld-cache.c) ---- */

/* What ld.so searches for one object's DT_NEEDED entries. */
struct tb_scan_search {
	const char *origin;	/* directory of the object ($ORIGIN) */
	const char *runpath;	/* its DT_RUNPATH, NULL when none */
	const char *rpath;	/* its DT_RPATH (ignored when runpath is set), NULL when none */
	const char *exe_rpath;	/* the executable's DT_RPATH (ld.so also searches it), or NULL */
	const char *exe_origin; /* the executable's directory, for $ORIGIN in exe_rpath */
	const char *cache;	/* ld.so.cache path; NULL: /etc/ld.so.cache */
	const char *const *defaults; /* default directories; NULL: the system's */
};

#endif
