/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recording model (docs/recording-format.md): what a recorder saw, what the generator reads.
 * One in-memory form for both backends, merge, read and write.
 */
#ifndef TB_RECORDING_H
#define TB_RECORDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/diag.h"

#define TB_REC_FORMAT "tightbox-recording"
#define TB_REC_VERSION 1

enum tb_file_op {
	TB_FOP_READ = 1 << 0,
	TB_FOP_WRITE = 1 << 1,
	TB_FOP_CREATE = 1 << 2,
	TB_FOP_DELETE = 1 << 3,
	TB_FOP_RENAME = 1 << 4,
	TB_FOP_EXEC = 1 << 5,
	TB_FOP_MMAP_EXEC = 1 << 6,
	TB_FOP_STAT = 1 << 7,
	TB_FOP_READDIR = 1 << 8,
};

struct tb_rec_provenance {
	char *tightbox_version, *backend, *kernel, *arch, *libc, *python; /* python may be NULL */
	char **command; /* NULL-terminated */
	char *workload;
	bool exited;
	int exit_code;
	int signal; /* 0 = none */
	bool timed_out;
	uint64_t duration_ms;
	/* NULL: a plain recording; "all" or "user" (`record --phase`): the command ran under the
	 * two-phase bootstrap, and "user" holds only what followed its phase-2 stack. */
	char *phase;
};

struct tb_rec_syscall {
	char *name;
	uint64_t count;
	char **workloads; /* sorted, unique, NULL-terminated */
};

/* One distinct argument combination. Keys are "a0".."a5" or a struct member name ("flags"). */
struct tb_rec_argval {
	size_t n;
	char *keys[6];
	uint64_t values[6];
	uint64_t count;
};

struct tb_rec_args {
	char *syscall;
	struct tb_rec_argval *vals;
	size_t n_vals;
};

struct tb_rec_arch {
	char *name; /* libseccomp arch name: "x86_64", "x86" is written "i386", "x32", "aarch64" */
	struct tb_rec_syscall *syscalls;
	size_t n_syscalls;
	struct tb_rec_args *args;
	size_t n_args;
};

struct tb_rec_file {
	char *path;
	unsigned ok;     /* enum tb_file_op bits */
	unsigned failed; /* enum tb_file_op bits */
};

/* A call a seccomp filter refused before it ran (the recording ceiling, tracer/ceiling.h). */
struct tb_rec_denied {
	char *arch;
	char *name;
	uint64_t count;
};

/* The Python context of the first use of a syscall (`record`, ptrace backend, tracer/pyctx.h). */
struct tb_rec_pyfirst {
	char *arch, *name;
	char *phase;  /* "start-up", "import", "user" */
	char *frame;  /* "FILE:LINE" of the outermost user frame, NULL unknown */
	char **chain; /* the import chain, outermost first; NULL-terminated, NULL none */
};

/* The syscalls one top-level import made while it was in progress, on one arch. */
struct tb_rec_import {
	char *module; /* "numpy" */
	char *arch;
	char **syscalls; /* sorted, unique, NULL-terminated */
};

/* How a static name is reachable: the bits of scanner/scan.h's enum tb_scan_via. */
#define TB_REC_VIA_IMPORT 1u  /* an imported glibc function */
#define TB_REC_VIA_SYSCALL 2u /* a syscall() call with a constant number */
#define TB_REC_VIA_INLINE 4u  /* an inline syscall instruction with a constant number */

/* One name a top-level import's objects can reach (a fragment written with `--scan`). */
struct tb_rec_static_name {
	char *name;
	unsigned via;	  /* TB_REC_VIA_* bits */
	char *object;	  /* one reference: "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6" */
	char *symbol;	  /* and its symbol: "fdatasync@GLIBC_2.2.5", "syscall(0x1234)" */
	uint64_t objects; /* how many of the import's objects reach it */
};

/*
 * The ELF objects of one top-level import: the extension modules it loaded (recorded) and, in a
 * fragment written by `generate --per-import DIR --scan SCAN`, their closure and what it reaches.
 */
struct tb_rec_pymodule {
	char *module;
	char **extensions; /* as the program loaded them; sorted, NULL-terminated, NULL none */
	char **libraries;  /* other files it mapped executable (ld.so's DT_NEEDED, ctypes); sorted */
	bool scanned;	   /* the static part below is present (possibly empty: pure Python) */
	char *scan;	   /* the scan file it came from */
	char *static_arch; /* the scan's arch */
	char **objects;	   /* the extensions' DT_NEEDED closure (realpaths), sorted; NULL none */
	struct tb_rec_static_name *statics; /* sorted by name */
	size_t n_statics;
};

/* Top-level imports a recording file may hold. */
#define TB_REC_MAX_IMPORTS 4096

/* Bounds on the files of one recording: a new path beyond either is dropped and counted. */
/* Syscall names (and argument-recorded names) per arch a recording file may hold. */
#define TB_REC_MAX_NAMES 4096
#define TB_REC_MAX_FILES 65536
#define TB_REC_MAX_PATH_BYTES (8u << 20)

struct tb_recording {
	struct tb_rec_provenance prov;
	struct tb_rec_provenance *sources; /* merged recordings only */
	size_t n_sources;
	struct tb_rec_arch *arches;
	size_t n_arches;
	struct tb_rec_file *files;
	size_t n_files;
	char **executables;      /* NULL-terminated */
	char **network_families; /* NULL-terminated */
	struct tb_rec_denied *denied; /* sorted by arch, then name */
	size_t n_denied;
	size_t path_bytes; /* bytes of the paths in files[] */
	/* Python context ("python_context"; empty unless recorded with it). */
	struct tb_rec_pyfirst *py_first; /* sorted by arch, then name */
	size_t n_py_first;
	struct tb_rec_import *imports; /* sorted by module, then arch */
	size_t n_imports;
	struct tb_rec_pymodule *pymodules; /* sorted by module; extensions and static names */
	size_t n_pymodules;
	/* What the recorder saw but could not record ("lost"; 0 when nothing was lost). */
	struct tb_rec_lost {
		uint64_t events; /* announcements of files/argument tuples dropped (buffer full) */
		uint64_t paths;	 /* paths that could not be read or resolved */
		uint64_t files;	 /* path observations not kept: files[] was at its bounds */
	} lost;
};

/* Allocates an empty recording. Returns NULL on ENOMEM. */
struct tb_recording *tb_recording_new(void);
/* Frees @r and everything it owns. Accepts NULL. */
void tb_recording_free(struct tb_recording *r);

/* Builders (used by the recorders). All return 0 or -ENOMEM. */
int tb_recording_add_syscall(struct tb_recording *r, const char *arch, const char *name,
			     uint64_t count);
int tb_recording_add_args(struct tb_recording *r, const char *arch, const char *syscall, size_t n,
			  const char *const *keys, const uint64_t *values, uint64_t count);
/* A new path beyond TB_REC_MAX_FILES / TB_REC_MAX_PATH_BYTES is not added: lost.files counts
 * it and 0 is returned. */
int tb_recording_add_file(struct tb_recording *r, const char *path, unsigned op, bool ok);
/* Whether tb_recording_add_file would keep @path (already there, or within the bounds). */
bool tb_recording_file_fits(const struct tb_recording *r, const char *path);
/* Counts @count refusals of (@arch, @name) by the recording ceiling. 0 or -ENOMEM. */
int tb_recording_add_denied(struct tb_recording *r, const char *arch, const char *name,
			    uint64_t count);
int tb_recording_add_executable(struct tb_recording *r, const char *path);
/* The Python context of the first use of (@arch, @name): kept only when there is none yet, and
 * within TB_REC_MAX_NAMES per arch. @frame and @chain may be NULL. 0 or -ENOMEM. */
int tb_recording_add_py_first(struct tb_recording *r, const char *arch, const char *name,
			      const char *phase, const char *frame, char *const *chain);
/* Adds @name to the syscalls top-level import @module made on @arch (beyond TB_REC_MAX_IMPORTS
 * modules or TB_REC_MAX_NAMES names, dropped). 0 or -ENOMEM. */
int tb_recording_add_import_syscall(struct tb_recording *r, const char *module, const char *arch,
				    const char *name);
/* Adds @path to the extension modules top-level import @module loaded (bounded like the names).
 * 0 or -ENOMEM. */
int tb_recording_add_import_extension(struct tb_recording *r, const char *module, const char *path);
/* Adds @path to the other shared objects @module mapped executable. 0 or -ENOMEM. */
int tb_recording_add_import_library(struct tb_recording *r, const char *module, const char *path);
/* Marks @module's static part present: scanned on @arch from @scan, @objects its closure (may be
 * NULL). Again for the same module: the objects are added. 0 or -ENOMEM. */
int tb_recording_set_import_static(struct tb_recording *r, const char *module, const char *scan,
				   const char *arch, char *const *objects);
/* Adds one name @module's objects reach (after tb_recording_set_import_static; a name again:
 * via or-ed, the first reference kept, the larger object count). 0 or -ENOMEM. */
int tb_recording_add_import_static(struct tb_recording *r, const char *module, const char *name,
				   unsigned via, const char *object, const char *symbol,
				   uint64_t objects);
/* @module's extensions and static part, NULL when the recording has neither. */
const struct tb_rec_pymodule *tb_recording_pymodule(const struct tb_recording *r,
						    const char *module);
int tb_recording_add_family(struct tb_recording *r, const char *family);
/* Sets prov.workload and makes it the only workload of every syscall recorded so far. */
int tb_recording_set_workload(struct tb_recording *r, const char *workload);

/* Lookups (NULL when absent). */
const struct tb_rec_arch *tb_recording_arch(const struct tb_recording *r, const char *arch);
const struct tb_rec_syscall *tb_recording_syscall(const struct tb_recording *r, const char *arch,
						  const char *name);
const struct tb_rec_args *tb_recording_args(const struct tb_recording *r, const char *arch,
					    const char *syscall);

/*
 * Reads a recording from @path. On failure returns -EINVAL (malformed: @diag has file, line,
 * column or JSON path and the problem), -ENOENT/-EACCES/... (unreadable), and *@out is untouched.
 */
int tb_recording_load(const char *path, struct tb_recording **out, struct tb_diag *diag);

/* Writes @r sorted and deterministic to @path (atomically: temp file + rename). 0 or -errno. */
int tb_recording_save(const struct tb_recording *r, const char *path);
/* Same to an open stream. */
int tb_recording_write(const struct tb_recording *r, FILE *f);

/*
 * Merges @n recordings into a new one (*@out): union of syscalls (counts summed, workloads
 * unioned), args, files (ops or-ed), executables, families; sources are the inputs' provenance.
 */
int tb_recording_merge(const struct tb_recording *const *in, size_t n, struct tb_recording **out);

/*
 * The per-import fragment of top-level import @module in @r (`generate --per-import`): a recording
 * whose syscalls are the names @module's import made while in progress (count 1 each), on each
 * arch, with @r's provenance, workload "import MODULE" and the import in its python_context
 * (with the extension modules it loaded and, when @r has it, its static part).
 * 0 and *@out, -ENOENT when @r has no such import, -ENOMEM.
 */
int tb_recording_import_fragment(const struct tb_recording *r, const char *module,
				 struct tb_recording **out);
/* The top-level imports @r has syscalls for, sorted, into *@out (NULL-terminated; NULL when
 * none). 0 or -ENOMEM. */
int tb_recording_import_modules(const struct tb_recording *r, char ***out);

#endif
