/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tb_scan_run(): the inputs, their DT_NEEDED closure (resolve.c), each object read once
 * (elf-object.c), and the syscalls that become reachable: imported glibc symbols through the one
 * table (libc-table.c), syscall() calls and inline syscall instructions with a known number.
 * glibc's own objects are not searched for syscall instructions: their syscalls are exactly
 * those of the functions the other objects import, which the table describes.
 */
#include <limits.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strv.h"
#include "core/util.h"
#include "scanner/internal.h"

/* glibc's shared objects (the table covers what their exported functions do). */
static const char *const glibc_objects[] = {
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
    "libanl.so.1",
    "libc.so.6",
    "libdl.so.2",
    "libm.so.6",
    "libmvec.so.1",
    "libpthread.so.0",
    "librt.so.1",
    "libutil.so.1",
    NULL,
};

static bool is_glibc_name(const char *name)
{
	for (size_t i = 0; name && glibc_objects[i]; i++)
		if (!strcmp(name, glibc_objects[i]))
			return true;
	return false;
}

struct work {
	struct tb_scan *s;
	struct tb_elf_info *infos; /* parallel to s->objects */
	uint32_t token;
	const char *exe_rpath, *exe_origin;
	char *exe_origin_buf;
};

static int find_object(const struct tb_scan *s, const char *path)
{
	for (size_t i = 0; i < s->n_objects; i++)
		if (!strcmp(s->objects[i].path, path))
			return (int)i;
	return -1;
}

static int add_object(struct work *w, const char *path, struct tb_diag *diag)
{
	struct tb_scan *s = w->s;
	struct tb_scan_object *no;
	struct tb_elf_info *ni, info;
	const char *base = strrchr(path, '/');
	bool glibc;
	int r;

	if (find_object(s, path) >= 0)
		return 0;
	glibc = is_glibc_name(base ? base + 1 : path);
	r = tb_elf_read(path, glibc, !glibc, &info, diag);
	if (r < 0)
		return r;
	if (!glibc && is_glibc_name(info.soname)) {
		/* Named otherwise on disk (libc-2.36.so): read its exported symbols too. */
		tb_elf_info_clear(&info);
		glibc = true;
		r = tb_elf_read(path, true, false, &info, diag);
		if (r < 0)
			return r;
	}
	no = realloc(s->objects, (s->n_objects + 1) * sizeof(*no));
	if (!no) {
		tb_elf_info_clear(&info);
		return -ENOMEM;
	}
	s->objects = no;
	ni = realloc(w->infos, (s->n_objects + 1) * sizeof(*ni));
	if (!ni) {
		tb_elf_info_clear(&info);
		return -ENOMEM;
	}
	w->infos = ni;
	ni[s->n_objects] = info;
	no[s->n_objects] = (struct tb_scan_object){.glibc = glibc};
	no[s->n_objects].path = strdup(path);
	s->n_objects++;
	return no[s->n_objects - 1].path ? 0 : -ENOMEM;
}

static int add_missing(struct tb_scan *s, const char *needed, const char *by)
{
	struct tb_scan_missing *nm = realloc(s->missing, (s->n_missing + 1) * sizeof(*nm));

	if (!nm)
		return -ENOMEM;
	s->missing = nm;
	nm[s->n_missing].needed = strdup(needed);
	nm[s->n_missing].by = strdup(by);
	s->n_missing++;
	return nm[s->n_missing - 1].needed && nm[s->n_missing - 1].by ? 0 : -ENOMEM;
}

/* Breadth first over DT_NEEDED: objects[i] is read before its dependencies are looked up. */
static int closure(struct work *w, struct tb_diag *diag)
{
	for (size_t i = 0; w->infos && i < w->s->n_objects; i++) {
		char origin[PATH_MAX];
		const char *slash;
		char **needed = w->infos[i].needed;

		snprintf(origin, sizeof(origin), "%s", w->s->objects[i].path);
		slash = strrchr(origin, '/');
		if (slash)
			origin[slash - origin] = '\0';
		for (size_t k = 0; needed && needed[k]; k++) {
			struct tb_scan_search se = {
			    .origin = origin,
			    .runpath = w->infos[i].runpath,
			    .rpath = w->infos[i].rpath,
			    .exe_rpath = w->exe_rpath,
			    .exe_origin = w->exe_origin,
			};
			_cleanup_free_ char *path = NULL;
			int r = tb_scan_resolve(needed[k], &se, &path);

			if (r == -ENOENT) {
				r = add_missing(w->s, needed[k], w->s->objects[i].path);
				if (r < 0)
					return r;
				continue;
			}
			if (r < 0)
				return r;
			r = add_object(w, path, diag);
			if (r == -EINVAL) {
				/* ld.so would have refused it: report, do not fail the scan. */
				r = add_missing(w->s, needed[k], w->s->objects[i].path);
			}
			if (r == 0 && find_object(w->s, path) >= 0 &&
			    !tb_strv_has(w->s->objects[i].deps, path))
				r = tb_strv_add_sorted(&w->s->objects[i].deps, path);
			if (r < 0)
				return r;
			needed = w->infos[i].needed; /* infos may have moved */
		}
	}
	return 0;
}

static struct tb_scan_syscall *get_syscall(struct tb_scan *s, const char *name, int *err)
{
	size_t lo = 0, hi = s->n_syscalls;
	struct tb_scan_syscall *n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, s->syscalls[mid].name);

		if (c == 0)
			return &s->syscalls[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	n = realloc(s->syscalls, (s->n_syscalls + 1) * sizeof(*n));
	if (!n) {
		*err = -ENOMEM;
		return NULL;
	}
	s->syscalls = n;
	memmove(&n[lo + 1], &n[lo], (s->n_syscalls - lo) * sizeof(*n));
	n[lo] = (struct tb_scan_syscall){.name = strdup(name)};
	s->n_syscalls++;
	if (!n[lo].name) {
		*err = -ENOMEM;
		return NULL;
	}
	return &n[lo];
}

static int add_ref(struct tb_scan *s, const char *name, unsigned via, const char *object,
		   const char *symbol)
{
	int err = 0;
	struct tb_scan_syscall *sc = get_syscall(s, name, &err);
	struct tb_scan_ref *nr;

	if (!sc)
		return err;
	sc->via |= via;
	nr = realloc(sc->refs, (sc->n_refs + 1) * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	sc->refs = nr;
	nr[sc->n_refs].object = strdup(object);
	nr[sc->n_refs].symbol = strdup(symbol);
	nr[sc->n_refs].via = via;
	sc->n_refs++;
	return nr[sc->n_refs - 1].object && nr[sc->n_refs - 1].symbol ? 0 : -ENOMEM;
}

static bool defined_by_glibc(const struct work *w, const char *name)
{
	for (size_t i = 0; i < w->s->n_objects; i++) {
		char **d = w->infos[i].defined;

		if (w->s->objects[i].glibc && tb_strv_has_sorted(d, tb_strv_len(d), name))
			return true;
	}
	return false;
}

static int map_imports(struct work *w, size_t i)
{
	struct tb_scan_object *o = &w->s->objects[i];
	const struct tb_elf_info *e = &w->infos[i];

	for (size_t k = 0; k < e->n_imports; k++) {
		const struct tb_elf_import *im = &e->imports[k];
		enum tb_scan_derived how;
		const char *list;
		char sym[512];

		if (im->file ? !is_glibc_name(im->file) : !defined_by_glibc(w, im->name))
			continue;
		o->n_imports++;
		list = tb_scan_libc_syscalls(im->name, w->token, &how);
		if (!list)
			continue;
		if (im->version)
			snprintf(sym, sizeof(sym), "%s@%s", im->name, im->version);
		else
			snprintf(sym, sizeof(sym), "%s", im->name);
		for (const char *p = list; *p;) {
			size_t l = strcspn(p, " ");
			char name[64];

			snprintf(name, sizeof(name), "%.*s", (int)l, p);
			p += l;
			p += strspn(p, " ");
			/* A name this arch lacks is skipped (the table is written for x86_64). */
			if (seccomp_syscall_resolve_name_arch(w->token, name) < 0)
				continue;
			int r = add_ref(w->s, name, TB_SCAN_VIA_IMPORT, o->path, sym);

			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int copy_sites(struct tb_scan_site **dst, size_t *n_dst, const struct tb_scan_site *src,
		      size_t n)
{
	if (!n)
		return 0;
	*dst = malloc(n * sizeof(**dst));
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, n * sizeof(**dst));
	*n_dst = n;
	return 0;
}

static int map_sites(struct work *w, size_t i)
{
	struct tb_scan_object *o = &w->s->objects[i];
	const struct tb_elf_info *e = &w->infos[i];
	int r;

	r = copy_sites(&o->calls, &o->n_calls, e->calls, e->n_calls);
	if (r == 0)
		r = copy_sites(&o->inlines, &o->n_inlines, e->inlines, e->n_inlines);
	for (int kind = 0; kind < 2 && r == 0; kind++) {
		const struct tb_scan_site *v = kind ? o->inlines : o->calls;
		size_t n = kind ? o->n_inlines : o->n_calls;

		for (size_t k = 0; k < n && r == 0; k++) {
			char sym[64];
			char *name;

			if (v[k].nr < 0 ||
			    !(name = seccomp_syscall_resolve_num_arch(w->token, v[k].nr))) {
				w->s->unknown_sites++;
				continue;
			}
			snprintf(sym, sizeof(sym), "%s(%#llx)", kind ? "inline" : "syscall",
				 (unsigned long long)v[k].addr);
			r = add_ref(w->s, name, kind ? TB_SCAN_VIA_INLINE : TB_SCAN_VIA_SYSCALL,
				    o->path, sym);
			free(name);
		}
	}
	return r;
}

static int cmp_ref(const void *a, const void *b)
{
	const struct tb_scan_ref *x = a, *y = b;
	int c = strcmp(x->object, y->object);

	return c ? c : strcmp(x->symbol, y->symbol);
}

static int cmp_object(const void *a, const void *b)
{
	return strcmp(((const struct tb_scan_object *)a)->path,
		      ((const struct tb_scan_object *)b)->path);
}

static int cmp_missing(const void *a, const void *b)
{
	const struct tb_scan_missing *x = a, *y = b;
	int c = strcmp(x->needed, y->needed);

	return c ? c : strcmp(x->by, y->by);
}

static void finish(struct tb_scan *s)
{
	for (size_t i = 0; i < s->n_syscalls; i++) {
		struct tb_scan_syscall *sc = &s->syscalls[i];
		size_t w = 0;

		qsort(sc->refs, sc->n_refs, sizeof(*sc->refs), cmp_ref);
		for (size_t k = 0; k < sc->n_refs; k++) {
			if (w && !cmp_ref(&sc->refs[w - 1], &sc->refs[k])) {
				free(sc->refs[k].object);
				free(sc->refs[k].symbol);
				continue;
			}
			sc->refs[w++] = sc->refs[k];
		}
		sc->n_refs = w;
	}
	if (s->n_objects)
		qsort(s->objects, s->n_objects, sizeof(*s->objects), cmp_object);
	if (s->n_missing) {
		size_t w = 0;

		qsort(s->missing, s->n_missing, sizeof(*s->missing), cmp_missing);
		for (size_t k = 0; k < s->n_missing; k++) {
			if (w && !cmp_missing(&s->missing[w - 1], &s->missing[k])) {
				free(s->missing[k].needed);
				free(s->missing[k].by);
				continue;
			}
			s->missing[w++] = s->missing[k];
		}
		s->n_missing = w;
	}
}

void tb_scan_free(struct tb_scan *s)
{
	if (!s)
		return;
	free(s->arch);
	free(s->python);
	tb_strv_free(s->inputs);
	for (size_t i = 0; i < s->n_objects; i++) {
		free(s->objects[i].path);
		free(s->objects[i].soname);
		tb_strv_free(s->objects[i].needed);
		tb_strv_free(s->objects[i].deps);
		free(s->objects[i].calls);
		free(s->objects[i].inlines);
	}
	free(s->objects);
	for (size_t i = 0; i < s->n_syscalls; i++) {
		for (size_t k = 0; k < s->syscalls[i].n_refs; k++) {
			free(s->syscalls[i].refs[k].object);
			free(s->syscalls[i].refs[k].symbol);
		}
		free(s->syscalls[i].refs);
		free(s->syscalls[i].name);
	}
	free(s->syscalls);
	for (size_t i = 0; i < s->n_missing; i++) {
		free(s->missing[i].needed);
		free(s->missing[i].by);
	}
	free(s->missing);
	free(s);
}

static void scan_freep(struct tb_scan **s)
{
	tb_scan_free(*s);
}

static int collect_inputs(const struct tb_scan_opts *o, struct tb_scan *s, struct tb_diag *diag)
{
	int r = 0;

	for (size_t i = 0; i < o->n_files && r == 0; i++) {
		char real[PATH_MAX];

		if (!realpath(o->files[i], real)) {
			r = tb_negerrno();
			tb_diag_set(diag, o->files[i], 0, 0, NULL, "cannot open: %s", strerror(-r));
			return r == -ENOENT ? -EINVAL : r;
		}
		r = tb_strv_add_sorted(&s->inputs, real);
	}
	if (r == 0 && o->python) {
		char **mods = NULL;

		r = tb_scan_python_modules(o->python, o->packages, o->n_packages, &mods, diag);
		if (r < 0)
			return r;
		s->python = strdup(mods[0]);
		for (size_t i = 0; r == 0 && mods[i]; i++)
			r = tb_strv_add_sorted(&s->inputs, mods[i]);
		tb_strv_free(mods);
		if (r == 0 && !s->python)
			r = -ENOMEM;
	}
	return r;
}

int tb_scan_run(const struct tb_scan_opts *o, struct tb_scan **out, struct tb_diag *diag)
{
	__attribute__((cleanup(scan_freep))) struct tb_scan *s = calloc(1, sizeof(*s));
	struct work w = {0};
	const char *arch_name;
	int r;

	if (!s)
		return -ENOMEM;
	w.s = s;
	s->has_deps = true;
	w.token = seccomp_arch_native();
	arch_name = w.token == SCMP_ARCH_X86_64	   ? "x86_64"
		    : w.token == SCMP_ARCH_AARCH64 ? "aarch64"
						   : "unknown";
	s->arch = strdup(arch_name);
	if (!s->arch)
		return -ENOMEM;
	if (!o->n_files && !o->python) {
		tb_diag_set(diag, NULL, 0, 0, NULL, "nothing to scan (give ELF files or --python)");
		return -EINVAL;
	}
	r = collect_inputs(o, s, diag);
	for (size_t i = 0; r == 0 && s->inputs && s->inputs[i]; i++)
		r = add_object(&w, s->inputs[i], diag);
	/* ld.so also searches the executable's DT_RPATH for every object it loads. */
	for (size_t i = 0; r == 0 && w.infos && i < s->n_objects; i++)
		if (w.infos[i].executable && w.infos[i].rpath && !w.exe_rpath) {
			w.exe_rpath = w.infos[i].rpath;
			w.exe_origin_buf = strdup(s->objects[i].path);
			if (!w.exe_origin_buf) {
				r = -ENOMEM;
				break;
			}
			char *slash = strrchr(w.exe_origin_buf, '/');

			if (slash) /* inputs are realpaths: always */
				*slash = '\0';
			w.exe_origin = w.exe_origin_buf;
		}
	if (r == 0)
		r = closure(&w, diag);
	for (size_t i = 0; r == 0 && w.infos && i < s->n_objects; i++) {
		if (w.infos[i].soname && !(s->objects[i].soname = strdup(w.infos[i].soname)))
			r = -ENOMEM;
		for (size_t k = 0; r == 0 && w.infos[i].needed && w.infos[i].needed[k]; k++)
			r = tb_strv_add(&s->objects[i].needed, w.infos[i].needed[k]);
		if (r == 0 && !s->objects[i].glibc)
			r = map_imports(&w, i);
		if (r == 0 && !s->objects[i].glibc)
			r = map_sites(&w, i);
	}
	for (size_t i = 0; w.infos && i < s->n_objects; i++)
		tb_elf_info_clear(&w.infos[i]);
	free(w.infos);
	free(w.exe_origin_buf);
	if (r < 0) {
		if (diag && !diag->message[0])
			tb_diag_set(diag, NULL, 0, 0, NULL, "scan failed: %s", strerror(-r));
		return r;
	}
	finish(s);
	*out = TB_TAKE_PTR(s);
	return 0;
}
