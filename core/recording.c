/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The recording model: builders, lookups, JSON load/save and merge (docs/recording-format.md).
 *
 * Every collection is kept sorted at insertion (binary search + memmove), so lookups are
 * O(log n) for the recorders' hot paths and the writer emits deterministic output for free.
 */
#include "core/recording.h"
#include "core/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/strv.h"
#include "core/util.h"

static const char *const fop_names[] = {
	"read", "write", "create", "delete", "rename", "exec", "mmap-exec", "stat", "readdir",
};

const char *tb_file_op_name(unsigned op)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(fop_names); i++)
		if (op == 1u << i)
			return fop_names[i];
	return NULL;
}

static int fop_from_name(const char *name)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(fop_names); i++)
		if (!strcmp(name, fop_names[i]))
			return 1 << i;
	return -1;
}

/* ---- string vectors (NULL-terminated, sorted, unique) ---- */


/* Copies @v in order (NULL gives an empty vector). NULL on ENOMEM. */
static char **strv_copy(char *const *v)
{
	size_t n = tb_strv_len(v);
	char **c = calloc(n + 1, sizeof(*c));

	if (!c)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		c[i] = strdup(v[i]);
		if (!c[i]) {
			tb_strv_free(c);
			return NULL;
		}
	}
	return c;
}

/* Binary search helper: index of @key in a sorted array of @n elements, or the insertion point. */
#define TB_BSEARCH(arr, n, field, key, found)                                                      \
	({                                                                                         \
		size_t lo_ = 0, hi_ = (n);                                                         \
		(found) = false;                                                                   \
		while (lo_ < hi_) {                                                                \
			size_t mid_ = (lo_ + hi_) / 2;                                             \
			int c_ = strcmp((arr)[mid_].field, (key));                                 \
			if (c_ == 0) {                                                             \
				(found) = true;                                                    \
				lo_ = mid_;                                                        \
				break;                                                             \
			}                                                                          \
			if (c_ < 0)                                                                \
				lo_ = mid_ + 1;                                                    \
			else                                                                       \
				hi_ = mid_;                                                        \
		}                                                                                  \
		lo_;                                                                               \
	})

/* Makes room for one element at @at in a dynamic array; 0 or -ENOMEM. */
static int array_insert(void **arr, size_t *n, size_t elsize, size_t at)
{
	char *na = realloc(*arr, (*n + 1) * elsize);

	if (!na)
		return -ENOMEM;
	memmove(na + (at + 1) * elsize, na + at * elsize, (*n - at) * elsize);
	memset(na + at * elsize, 0, elsize);
	*arr = na;
	(*n)++;
	return 0;
}

/* ---- lifetime ---- */

static void prov_clear(struct tb_rec_provenance *p)
{
	free(p->tightbox_version);
	free(p->backend);
	free(p->kernel);
	free(p->arch);
	free(p->libc);
	free(p->python);
	free(p->phase);
	tb_strv_free(p->command);
	free(p->workload);
	memset(p, 0, sizeof(*p));
}

static void arch_clear(struct tb_rec_arch *a)
{
	for (size_t i = 0; i < a->n_syscalls; i++) {
		free(a->syscalls[i].name);
		tb_strv_free(a->syscalls[i].workloads);
	}
	free(a->syscalls);
	for (size_t i = 0; i < a->n_args; i++) {
		for (size_t j = 0; j < a->args[i].n_vals; j++)
			for (size_t k = 0; k < a->args[i].vals[j].n; k++)
				free(a->args[i].vals[j].keys[k]);
		free(a->args[i].vals);
		free(a->args[i].syscall);
	}
	free(a->args);
	free(a->name);
}

struct tb_recording *tb_recording_new(void)
{
	struct tb_recording *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->executables = calloc(1, sizeof(char *));
	r->network_families = calloc(1, sizeof(char *));
	if (!r->executables || !r->network_families) {
		tb_recording_free(r);
		return NULL;
	}
	return r;
}

void tb_recording_free(struct tb_recording *r)
{
	if (!r)
		return;
	prov_clear(&r->prov);
	/* sources is NULL only with n_sources 0; the test says so to clang's analyzer. */
	for (size_t i = 0; r->sources && i < r->n_sources; i++)
		prov_clear(&r->sources[i]);
	free(r->sources);
	for (size_t i = 0; i < r->n_arches; i++)
		arch_clear(&r->arches[i]);
	free(r->arches);
	for (size_t i = 0; i < r->n_files; i++)
		free(r->files[i].path);
	free(r->files);
	tb_strv_free(r->executables);
	tb_strv_free(r->network_families);
	for (size_t i = 0; i < r->n_denied; i++) {
		free(r->denied[i].arch);
		free(r->denied[i].name);
	}
	free(r->denied);
	for (size_t i = 0; i < r->n_py_first; i++) {
		struct tb_rec_pyfirst *x = &r->py_first[i];

		free(x->arch);
		free(x->name);
		free(x->phase);
		free(x->frame);
		tb_strv_free(x->chain);
	}
	free(r->py_first);
	for (size_t i = 0; i < r->n_imports; i++) {
		free(r->imports[i].module);
		free(r->imports[i].arch);
		tb_strv_free(r->imports[i].syscalls);
	}
	free(r->imports);
	for (size_t i = 0; i < r->n_pymodules; i++) {
		struct tb_rec_pymodule *x = &r->pymodules[i];

		free(x->module);
		tb_strv_free(x->extensions);
		tb_strv_free(x->libraries);
		free(x->scan);
		free(x->static_arch);
		tb_strv_free(x->objects);
		for (size_t k = 0; k < x->n_statics; k++) {
			free(x->statics[k].name);
			free(x->statics[k].object);
			free(x->statics[k].symbol);
		}
		free(x->statics);
	}
	free(r->pymodules);
	free(r);
}

/* ---- builders ---- */

static struct tb_rec_arch *arch_get(struct tb_recording *r, const char *arch)
{
	bool found;
	size_t at = TB_BSEARCH(r->arches, r->n_arches, name, arch, found);
	char *name;

	if (found)
		return &r->arches[at];
	name = strdup(arch);
	if (!name)
		return NULL;
	if (array_insert((void **)&r->arches, &r->n_arches, sizeof(*r->arches), at) < 0) {
		free(name);
		return NULL;
	}
	r->arches[at].name = name;
	return &r->arches[at];
}

static struct tb_rec_syscall *syscall_get(struct tb_rec_arch *a, const char *name)
{
	bool found;
	size_t at = TB_BSEARCH(a->syscalls, a->n_syscalls, name, name, found);
	char *copy;
	char **wl;

	if (found)
		return &a->syscalls[at];
	copy = strdup(name);
	wl = calloc(1, sizeof(*wl));
	if (!copy || !wl ||
	    array_insert((void **)&a->syscalls, &a->n_syscalls, sizeof(*a->syscalls), at) < 0) {
		free(copy);
		free(wl);
		return NULL;
	}
	a->syscalls[at].name = copy;
	a->syscalls[at].workloads = wl;
	return &a->syscalls[at];
}

int tb_recording_add_syscall(struct tb_recording *r, const char *arch, const char *name,
			     uint64_t count)
{
	struct tb_rec_arch *a = arch_get(r, arch);
	struct tb_rec_syscall *s = a ? syscall_get(a, name) : NULL;

	if (!s)
		return -ENOMEM;
	s->count += count;
	return 0;
}

int tb_recording_add_syscall_workload(struct tb_recording *r, const char *arch, const char *name,
				      const char *workload)
{
	struct tb_rec_arch *a = arch_get(r, arch);
	struct tb_rec_syscall *s = a ? syscall_get(a, name) : NULL;

	if (!s)
		return -ENOMEM;
	return tb_strv_add_sorted(&s->workloads, workload);
}

int tb_recording_set_workload(struct tb_recording *r, const char *workload)
{
	char *w = strdup(workload);

	if (!w)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_arches; i++) {
		struct tb_rec_arch *a = &r->arches[i];

		for (size_t j = 0; j < a->n_syscalls; j++) {
			char **wl = calloc(1, sizeof(*wl));

			if (!wl || tb_strv_add_sorted(&wl, workload) < 0) {
				tb_strv_free(wl);
				free(w);
				return -ENOMEM;
			}
			tb_strv_free(a->syscalls[j].workloads);
			a->syscalls[j].workloads = wl;
		}
	}
	free(r->prov.workload);
	r->prov.workload = w;
	return 0;
}

/* Orders two argument combinations: by key list, then values (what the writer sorts by). */
static int argval_cmp(const struct tb_rec_argval *a, const struct tb_rec_argval *b)
{
	for (size_t i = 0; i < a->n && i < b->n; i++) {
		int c = strcmp(a->keys[i], b->keys[i]);

		if (c)
			return c;
		if (a->values[i] != b->values[i])
			return a->values[i] < b->values[i] ? -1 : 1;
	}
	return a->n == b->n ? 0 : (a->n < b->n ? -1 : 1);
}

int tb_recording_add_args(struct tb_recording *r, const char *arch, const char *syscall, size_t n,
			  const char *const *keys, const uint64_t *values, uint64_t count)
{
	struct tb_rec_argval key = {.n = n};
	struct tb_rec_arch *a;
	struct tb_rec_args *sa;
	size_t at, lo, hi;
	bool found;

	if (n > TB_ARRAY_SIZE(key.keys))
		return -EINVAL;
	/* Keys sorted by name inside one combination ("a0" < "a1" < "flags"), insertion sort. */
	for (size_t i = 0; i < n; i++) {
		size_t j = i;

		while (j > 0 && strcmp(key.keys[j - 1], keys[i]) > 0) {
			key.keys[j] = key.keys[j - 1];
			key.values[j] = key.values[j - 1];
			j--;
		}
		key.keys[j] = (char *)keys[i];
		key.values[j] = values[i];
	}
	a = arch_get(r, arch);
	if (!a)
		return -ENOMEM;
	at = TB_BSEARCH(a->args, a->n_args, syscall, syscall, found);
	if (!found) {
		char *copy = strdup(syscall);

		if (!copy || array_insert((void **)&a->args, &a->n_args, sizeof(*a->args), at) < 0) {
			free(copy);
			return -ENOMEM;
		}
		a->args[at].syscall = copy;
	}
	sa = &a->args[at];
	lo = 0;
	hi = sa->n_vals;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = argval_cmp(&sa->vals[mid], &key);

		if (c == 0) {
			sa->vals[mid].count += count;
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	{
		struct tb_rec_argval v = {.n = n, .count = count};

		for (size_t i = 0; i < n; i++) {
			v.keys[i] = strdup(key.keys[i]);
			v.values[i] = key.values[i];
			if (!v.keys[i]) {
				for (size_t k = 0; k < i; k++)
					free(v.keys[k]);
				return -ENOMEM;
			}
		}
		if (array_insert((void **)&sa->vals, &sa->n_vals, sizeof(*sa->vals), lo) < 0) {
			for (size_t k = 0; k < n; k++)
				free(v.keys[k]);
			return -ENOMEM;
		}
		sa->vals[lo] = v;
	}
	return 0;
}

int tb_recording_add_file(struct tb_recording *r, const char *path, unsigned op, bool ok)
{
	bool found;
	size_t at = TB_BSEARCH(r->files, r->n_files, path, path, found);

	if (!found) {
		char *copy;

		if (!tb_recording_file_fits(r, path)) {
			r->lost.files++;
			return 0;
		}
		copy = strdup(path);
		if (!copy || array_insert((void **)&r->files, &r->n_files, sizeof(*r->files), at) < 0) {
			free(copy);
			return -ENOMEM;
		}
		r->files[at].path = copy;
		r->path_bytes += strlen(path) + 1;
	}
	if (ok)
		r->files[at].ok |= op;
	else
		r->files[at].failed |= op;
	return 0;
}

bool tb_recording_file_fits(const struct tb_recording *r, const char *path)
{
	if (r->n_files < TB_REC_MAX_FILES && r->path_bytes + strlen(path) + 1 <= TB_REC_MAX_PATH_BYTES)
		return true;
	return tb_recording_file(r, path) != NULL;
}

/* Position of (@a, @b) in an array sorted by two string members at @oa and @ob of @size-byte
 * elements; *@found says whether it is there. */
static size_t find2(const void *arr, size_t n, size_t size, size_t oa, size_t ob, const char *a,
		    const char *b, bool *found)
{
	size_t lo = 0, hi = n;

	*found = false;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *e = (const char *)arr + mid * size;
		int c = strcmp(*(char *const *)(e + oa), a);

		if (!c)
			c = strcmp(*(char *const *)(e + ob), b);
		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int denied_cmp(const struct tb_rec_denied *d, const char *arch, const char *name)
{
	int c = strcmp(d->arch, arch);

	return c ? c : strcmp(d->name, name);
}

int tb_recording_add_denied(struct tb_recording *r, const char *arch, const char *name,
			    uint64_t count)
{
	size_t at = 0, hi = r->n_denied;
	char *a, *n;

	while (at < hi) {
		size_t mid = (at + hi) / 2;

		if (denied_cmp(&r->denied[mid], arch, name) < 0)
			at = mid + 1;
		else
			hi = mid;
	}
	if (at < r->n_denied && !denied_cmp(&r->denied[at], arch, name)) {
		r->denied[at].count += count;
		return 0;
	}
	a = strdup(arch);
	n = strdup(name);
	if (!a || !n || array_insert((void **)&r->denied, &r->n_denied, sizeof(*r->denied), at) < 0) {
		free(a);
		free(n);
		return -ENOMEM;
	}
	r->denied[at] = (struct tb_rec_denied){a, n, count};
	return 0;
}

int tb_recording_add_py_first(struct tb_recording *r, const char *arch, const char *name,
			      const char *phase, const char *frame, char *const *chain)
{
	bool found;
	size_t at = find2(r->py_first, r->n_py_first, sizeof(*r->py_first),
			  offsetof(struct tb_rec_pyfirst, arch), offsetof(struct tb_rec_pyfirst, name),
			  arch, name, &found);
	size_t on_arch = 0;
	struct tb_rec_pyfirst *x;
	int ret = 0;

	if (found)
		return 0;
	for (size_t i = 0; i < r->n_py_first; i++)
		on_arch += !strcmp(r->py_first[i].arch, arch);
	if (on_arch >= TB_REC_MAX_NAMES)
		return 0;
	if (array_insert((void **)&r->py_first, &r->n_py_first, sizeof(*r->py_first), at) < 0)
		return -ENOMEM;
	x = &r->py_first[at];
	x->arch = strdup(arch);
	x->name = strdup(name);
	x->phase = strdup(phase);
	x->frame = frame ? strdup(frame) : NULL;
	for (size_t i = 0; chain && chain[i] && ret == 0; i++)
		ret = tb_strv_add(&x->chain, chain[i]);
	if (ret < 0 || !x->arch || !x->name || !x->phase || (frame && !x->frame))
		return -ENOMEM;
	return 0;
}

int tb_recording_add_import_syscall(struct tb_recording *r, const char *module, const char *arch,
				    const char *name)
{
	bool found;
	size_t at = find2(r->imports, r->n_imports, sizeof(*r->imports),
			  offsetof(struct tb_rec_import, module), offsetof(struct tb_rec_import, arch),
			  module, arch, &found);
	struct tb_rec_import *x;

	if (!found) {
		if (r->n_imports >= TB_REC_MAX_IMPORTS)
			return 0;
		if (array_insert((void **)&r->imports, &r->n_imports, sizeof(*r->imports), at) < 0)
			return -ENOMEM;
		x = &r->imports[at];
		x->module = strdup(module);
		x->arch = strdup(arch);
		if (!x->module || !x->arch)
			return -ENOMEM;
	}
	x = &r->imports[at];
	if (tb_strv_has(x->syscalls, name) || tb_strv_len(x->syscalls) >= TB_REC_MAX_NAMES)
		return 0;
	return tb_strv_add_sorted(&x->syscalls, name);
}

/* @module's entry (added when new, within TB_REC_MAX_IMPORTS); NULL on -ENOMEM (*@err) or when
 * full (*@err 0). */
static struct tb_rec_pymodule *pymodule_get(struct tb_recording *r, const char *module, int *err)
{
	bool found;
	size_t at = TB_BSEARCH(r->pymodules, r->n_pymodules, module, module, found);

	*err = 0;
	if (found)
		return &r->pymodules[at];
	if (r->n_pymodules >= TB_REC_MAX_IMPORTS)
		return NULL;
	if (array_insert((void **)&r->pymodules, &r->n_pymodules, sizeof(*r->pymodules), at) < 0 ||
	    !(r->pymodules[at].module = strdup(module))) {
		*err = -ENOMEM;
		return NULL;
	}
	return &r->pymodules[at];
}

const struct tb_rec_pymodule *tb_recording_pymodule(const struct tb_recording *r,
						    const char *module)
{
	bool found;
	size_t at = TB_BSEARCH(r->pymodules, r->n_pymodules, module, module, found);

	return found ? &r->pymodules[at] : NULL;
}

/* Adds @path to the list at @off of @module's entry, within TB_REC_MAX_NAMES. */
static int pymodule_add_path(struct tb_recording *r, const char *module, size_t off,
			     const char *path)
{
	int err;
	struct tb_rec_pymodule *x = pymodule_get(r, module, &err);
	char ***v = x ? (char ***)((char *)x + off) : NULL;

	if (!x || tb_strv_has(*v, path) || tb_strv_len(*v) >= TB_REC_MAX_NAMES)
		return err;
	return tb_strv_add_sorted(v, path);
}

int tb_recording_add_import_extension(struct tb_recording *r, const char *module, const char *path)
{
	return pymodule_add_path(r, module, offsetof(struct tb_rec_pymodule, extensions), path);
}

int tb_recording_add_import_library(struct tb_recording *r, const char *module, const char *path)
{
	return pymodule_add_path(r, module, offsetof(struct tb_rec_pymodule, libraries), path);
}

int tb_recording_set_import_static(struct tb_recording *r, const char *module, const char *scan,
				   const char *arch, char *const *objects)
{
	int err;
	struct tb_rec_pymodule *x = pymodule_get(r, module, &err);

	if (!x)
		return err;
	if (!x->scanned) {
		x->scanned = true;
		x->scan = strdup(scan);
		x->static_arch = strdup(arch);
		if (!x->scan || !x->static_arch)
			return -ENOMEM;
	}
	for (size_t i = 0; objects && objects[i]; i++)
		if (!tb_strv_has(x->objects, objects[i]) &&
		    tb_strv_len(x->objects) < TB_REC_MAX_NAMES &&
		    (err = tb_strv_add_sorted(&x->objects, objects[i])) < 0)
			return err;
	return 0;
}

int tb_recording_add_import_static(struct tb_recording *r, const char *module, const char *name,
				   unsigned via, const char *object, const char *symbol,
				   uint64_t objects)
{
	struct tb_rec_pymodule *x = (struct tb_rec_pymodule *)tb_recording_pymodule(r, module);
	struct tb_rec_static_name *n;
	bool found;
	size_t at;

	if (!x || !x->scanned)
		return -EINVAL;
	at = TB_BSEARCH(x->statics, x->n_statics, name, name, found);
	if (found) {
		x->statics[at].via |= via;
		if (objects > x->statics[at].objects)
			x->statics[at].objects = objects;
		return 0;
	}
	if (x->n_statics >= TB_REC_MAX_NAMES)
		return 0;
	if (array_insert((void **)&x->statics, &x->n_statics, sizeof(*x->statics), at) < 0)
		return -ENOMEM;
	n = &x->statics[at];
	n->name = strdup(name);
	n->via = via;
	n->object = object ? strdup(object) : NULL;
	n->symbol = symbol ? strdup(symbol) : NULL;
	n->objects = objects;
	return n->name && (!object || n->object) && (!symbol || n->symbol) ? 0 : -ENOMEM;
}

int tb_recording_add_executable(struct tb_recording *r, const char *path)
{
	return tb_strv_add_sorted(&r->executables, path);
}

int tb_recording_add_family(struct tb_recording *r, const char *family)
{
	return tb_strv_add_sorted(&r->network_families, family);
}

/* ---- lookups ---- */

const struct tb_rec_arch *tb_recording_arch(const struct tb_recording *r, const char *arch)
{
	bool found;
	size_t at = TB_BSEARCH(r->arches, r->n_arches, name, arch, found);

	return found ? &r->arches[at] : NULL;
}

const struct tb_rec_syscall *tb_recording_syscall(const struct tb_recording *r, const char *arch,
						  const char *name)
{
	const struct tb_rec_arch *a = tb_recording_arch(r, arch);
	bool found;
	size_t at;

	if (!a)
		return NULL;
	at = TB_BSEARCH(a->syscalls, a->n_syscalls, name, name, found);
	return found ? &a->syscalls[at] : NULL;
}

const struct tb_rec_args *tb_recording_args(const struct tb_recording *r, const char *arch,
					    const char *syscall)
{
	const struct tb_rec_arch *a = tb_recording_arch(r, arch);
	bool found;
	size_t at;

	if (!a)
		return NULL;
	at = TB_BSEARCH(a->args, a->n_args, syscall, syscall, found);
	return found ? &a->args[at] : NULL;
}

const struct tb_rec_file *tb_recording_file(const struct tb_recording *r, const char *path)
{
	bool found;
	size_t at = TB_BSEARCH(r->files, r->n_files, path, path, found);

	return found ? &r->files[at] : NULL;
}

/* ---- writing ---- */

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *strv_to_json(char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && v && v[i]; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *prov_to_json(const struct tb_rec_provenance *p)
{
	json_t *o = json_object();
	int e = 0;

	if (!o)
		return NULL;
	e |= json_object_set_new(o, "tightbox_version", jstr_or_null(p->tightbox_version));
	e |= json_object_set_new(o, "backend", jstr_or_null(p->backend));
	e |= json_object_set_new(o, "kernel", jstr_or_null(p->kernel));
	e |= json_object_set_new(o, "arch", jstr_or_null(p->arch));
	e |= json_object_set_new(o, "libc", jstr_or_null(p->libc));
	e |= json_object_set_new(o, "python", jstr_or_null(p->python));
	e |= json_object_set_new(o, "command", strv_to_json(p->command));
	e |= json_object_set_new(o, "workload", jstr_or_null(p->workload));
	e |= json_object_set_new(o, "exit_code", p->exited ? json_integer(p->exit_code) : json_null());
	e |= json_object_set_new(o, "signal", p->signal ? json_integer(p->signal) : json_null());
	e |= json_object_set_new(o, "timed_out", json_boolean(p->timed_out));
	e |= json_object_set_new(o, "duration_ms", json_integer((json_int_t)p->duration_ms));
	if (p->phase) /* only when recorded with --phase: plain recordings stay byte-identical */
		e |= json_object_set_new(o, "phase", json_string(p->phase));
	if (e) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *ops_to_json(unsigned ops)
{
	/* Sorted by name, not by bit, so the output reads alphabetically. */
	const char *names[TB_ARRAY_SIZE(fop_names)];
	size_t n = 0;
	json_t *a;

	for (size_t i = 0; i < TB_ARRAY_SIZE(fop_names); i++)
		if (ops & (1u << i)) {
			size_t j = n++;

			while (j > 0 && strcmp(names[j - 1], fop_names[i]) > 0) {
				names[j] = names[j - 1];
				j--;
			}
			names[j] = fop_names[i];
		}
	a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(names[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Builds the whole document; NULL on ENOMEM. */
static json_t *via_to_json(unsigned via)
{
	json_t *a = json_array();

	if (a && (via & TB_REC_VIA_IMPORT))
		json_array_append_new(a, json_string("import"));
	if (a && (via & TB_REC_VIA_SYSCALL))
		json_array_append_new(a, json_string("syscall"));
	if (a && (via & TB_REC_VIA_INLINE))
		json_array_append_new(a, json_string("inline"));
	return a;
}

/* python_context's "extensions" and "static" keys, each only when some module has it (recordings
 * without them stay byte-identical). 0, or -1 out of memory. */
static int pymodules_to_json(const struct tb_recording *r, json_t *py)
{
	json_t *ext = json_object(), *libs = json_object(), *st = json_object();
	int e = !ext || !libs || !st;

	for (size_t i = 0; !e && i < r->n_pymodules; i++) {
		const struct tb_rec_pymodule *x = &r->pymodules[i];
		json_t *names = json_object();

		if (x->extensions)
			e |= json_object_set_new(ext, x->module, strv_to_json(x->extensions));
		if (x->libraries)
			e |= json_object_set_new(libs, x->module, strv_to_json(x->libraries));
		for (size_t k = 0; names && k < x->n_statics; k++) {
			const struct tb_rec_static_name *n = &x->statics[k];

			e |= json_object_set_new(
			    names, n->name,
			    json_pack("{s:o,s:o,s:o,s:I}", "via", via_to_json(n->via), "object",
				      jstr_or_null(n->object), "symbol", jstr_or_null(n->symbol),
				      "objects", (json_int_t)n->objects));
		}
		if (x->scanned)
			e |= json_object_set_new(
			    st, x->module,
			    json_pack("{s:s,s:s,s:o,s:o}", "scan", x->scan, "arch", x->static_arch,
				      "objects", strv_to_json(x->objects), "syscalls", names));
		else
			json_decref(names);
	}
	if (!e && json_object_size(ext))
		e |= json_object_set(py, "extensions", ext);
	if (!e && json_object_size(libs))
		e |= json_object_set(py, "libraries", libs);
	if (!e && json_object_size(st))
		e |= json_object_set(py, "static", st);
	json_decref(libs);
	json_decref(ext);
	json_decref(st);
	return e ? -1 : 0;
}

static json_t *recording_to_json(const struct tb_recording *r)
{
	json_t *root = json_object(), *sys = json_object(), *args = json_object(),
	       *files = json_object();
	int e = 0;

	if (!root || !sys || !args || !files)
		goto fail;
	e |= json_object_set_new(root, "format", json_string(TB_REC_FORMAT));
	e |= json_object_set_new(root, "version", json_integer(TB_REC_VERSION));
	e |= json_object_set_new(root, "provenance", prov_to_json(&r->prov));
	if (r->n_sources) {
		json_t *src = json_array();

		/* Inputs are kept sorted by workload when merged; write them in stored order. */
		for (size_t i = 0; src && i < r->n_sources; i++)
			e |= json_array_append_new(src, prov_to_json(&r->sources[i]));
		e |= json_object_set_new(root, "sources", src);
	}
	for (size_t i = 0; i < r->n_arches; i++) {
		const struct tb_rec_arch *a = &r->arches[i];
		json_t *ao = json_object(), *argo = NULL;

		for (size_t j = 0; ao && j < a->n_syscalls; j++) {
			json_t *so = json_object();

			e |= json_object_set_new(so, "count",
						 json_integer((json_int_t)a->syscalls[j].count));
			e |= json_object_set_new(so, "workloads", strv_to_json(a->syscalls[j].workloads));
			e |= json_object_set_new(ao, a->syscalls[j].name, so);
		}
		if (a->n_syscalls)
			e |= json_object_set_new(sys, a->name, ao);
		else
			json_decref(ao);
		if (a->n_args)
			argo = json_object();
		for (size_t j = 0; argo && j < a->n_args; j++) {
			json_t *lst = json_array();

			for (size_t k = 0; lst && k < a->args[j].n_vals; k++) {
				const struct tb_rec_argval *v = &a->args[j].vals[k];
				json_t *vo = json_object();

				for (size_t m = 0; m < v->n; m++)
					e |= json_object_set_new(vo, v->keys[m],
								 json_integer((json_int_t)v->values[m]));
				e |= json_object_set_new(vo, "count", json_integer((json_int_t)v->count));
				e |= json_array_append_new(lst, vo);
			}
			e |= json_object_set_new(argo, a->args[j].syscall, lst);
		}
		if (argo)
			e |= json_object_set_new(args, a->name, argo);
	}
	e |= json_object_set_new(root, "syscalls", TB_TAKE_PTR(sys));
	e |= json_object_set_new(root, "args", TB_TAKE_PTR(args));
	for (size_t i = 0; i < r->n_files; i++) {
		json_t *fo = json_object();

		e |= json_object_set_new(fo, "ok", ops_to_json(r->files[i].ok));
		e |= json_object_set_new(fo, "failed", ops_to_json(r->files[i].failed));
		e |= json_object_set_new(files, r->files[i].path, fo);
	}
	e |= json_object_set_new(root, "files", TB_TAKE_PTR(files));
	e |= json_object_set_new(root, "executables", strv_to_json(r->executables));
	e |= json_object_set_new(root, "network_families", strv_to_json(r->network_families));
	/* Written only when there is something to say: older recordings stay byte-identical. */
	if (r->n_denied) {
		json_t *d = json_object();

		for (size_t i = 0; d && i < r->n_denied; i++) {
			json_t *ao = json_object_get(d, r->denied[i].arch);

			if (!ao) {
				ao = json_object();
				e |= json_object_set_new(d, r->denied[i].arch, ao);
			}
			e |= json_object_set_new(ao, r->denied[i].name,
						 json_integer((json_int_t)r->denied[i].count));
		}
		e |= json_object_set_new(root, "denied", d);
	}
	/* Only a recording with Python context has the key. */
	if (r->n_py_first || r->n_imports || r->n_pymodules) {
		json_t *py = json_object(), *first = json_object(), *imp = json_object();

		for (size_t i = 0; first && i < r->n_py_first; i++) {
			const struct tb_rec_pyfirst *x = &r->py_first[i];
			json_t *ao = json_object_get(first, x->arch);

			if (!ao) {
				ao = json_object();
				e |= json_object_set_new(first, x->arch, ao);
			}
			e |= json_object_set_new(ao, x->name,
						 json_pack("{s:s,s:o,s:o}", "phase", x->phase,
							   "user_frame", jstr_or_null(x->frame),
							   "import_chain", strv_to_json(x->chain)));
		}
		for (size_t i = 0; imp && i < r->n_imports; i++) {
			const struct tb_rec_import *x = &r->imports[i];
			json_t *mo = json_object_get(imp, x->module);

			if (!mo) {
				mo = json_object();
				e |= json_object_set_new(imp, x->module, mo);
			}
			e |= json_object_set_new(mo, x->arch, strv_to_json(x->syscalls));
		}
		e |= json_object_set_new(py, "first_use", first);
		e |= json_object_set_new(py, "imports", imp);
		e |= pymodules_to_json(r, py);
		e |= json_object_set_new(root, "python_context", py);
	}
	/* Only a lossy recording has the key: complete ones stay byte-identical to before. */
	if (r->lost.events || r->lost.paths || r->lost.files)
		e |= json_object_set_new(root, "lost",
					 json_pack("{s:I,s:I,s:I}", "events", (json_int_t)r->lost.events,
						   "paths", (json_int_t)r->lost.paths, "files",
						   (json_int_t)r->lost.files));
	if (e)
		goto fail;
	return root;
fail:
	json_decref(root);
	json_decref(sys);
	json_decref(args);
	json_decref(files);
	return NULL;
}

int tb_recording_write(const struct tb_recording *r, FILE *f)
{
	json_t *root = recording_to_json(r);
	int ret = 0;

	if (!root)
		return -ENOMEM;
	/* JSON_INTEGER values are 64-bit signed: uint64 args above INT64_MAX wrap; ioctl/prot/flags
	 * values recorded here are all far below that. */
	if (json_dumpf(root, f, JSON_SORT_KEYS | JSON_INDENT(2)) < 0 || fputc('\n', f) == EOF)
		ret = -EIO;
	json_decref(root);
	if (ret == 0 && fflush(f) == EOF)
		ret = tb_negerrno();
	return ret;
}

static int write_cb(FILE *f, const void *data)
{
	return tb_recording_write(data, f);
}

int tb_recording_save(const struct tb_recording *r, const char *path)
{
	return tb_write_file_atomic(path, 0644, write_cb, r);
}

/* ---- loading ---- */

struct loader {
	const char *file;
	struct tb_diag *diag;
};

static int bad(const struct loader *l, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(const struct loader *l, const char *where, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tb_diag_set(l->diag, l->file, 0, 0, where, "%s", msg);
	return -EINVAL;
}

static int get_str(const struct loader *l, json_t *o, const char *key, const char *where,
		   bool nullable, char **out)
{
	json_t *v = json_object_get(o, key);
	char path[256];

	snprintf(path, sizeof(path), "%s.%s", where, key);
	if (!v)
		return bad(l, path, "missing key");
	if (json_is_null(v) && nullable) {
		*out = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return bad(l, path, nullable ? "expected a string or null" : "expected a string");
	*out = strdup(json_string_value(v));
	return *out ? 0 : -ENOMEM;
}

static int get_strv(const struct loader *l, json_t *a, const char *where, bool sorted, char ***out)
{
	char **v;
	size_t i;
	json_t *e;

	if (!json_is_array(a))
		return bad(l, where, "expected an array of strings");
	v = calloc(json_array_size(a) + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	json_array_foreach(a, i, e) {
		char path[256];

		snprintf(path, sizeof(path), "%s[%zu]", where, i);
		if (!json_is_string(e)) {
			tb_strv_free(v);
			return bad(l, path, "expected a string");
		}
		v[i] = strdup(json_string_value(e));
		if (!v[i]) {
			tb_strv_free(v);
			return -ENOMEM;
		}
	}
	if (sorted) {
		/* Re-sort (and dedupe) through the builder so hand-edited files still load sorted. */
		char **s = calloc(1, sizeof(*s));

		for (i = 0; s && v[i]; i++)
			if (tb_strv_add_sorted(&s, v[i]) < 0) {
				tb_strv_free(s);
				s = NULL;
			}
		tb_strv_free(v);
		if (!s)
			return -ENOMEM;
		v = s;
	}
	*out = v;
	return 0;
}

static int get_uint(const struct loader *l, json_t *v, const char *where, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return bad(l, where, "expected a non-negative integer");
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int prov_from_json(const struct loader *l, json_t *o, const char *where,
			  struct tb_rec_provenance *p)
{
	char path[256];
	json_t *v;
	int ret;

	if (!json_is_object(o))
		return bad(l, where, "expected an object");
	if ((ret = get_str(l, o, "tightbox_version", where, true, &p->tightbox_version)) < 0 ||
	    (ret = get_str(l, o, "backend", where, false, &p->backend)) < 0 ||
	    (ret = get_str(l, o, "kernel", where, true, &p->kernel)) < 0 ||
	    (ret = get_str(l, o, "arch", where, true, &p->arch)) < 0 ||
	    (ret = get_str(l, o, "libc", where, true, &p->libc)) < 0 ||
	    (ret = get_str(l, o, "python", where, true, &p->python)) < 0 ||
	    (ret = get_str(l, o, "workload", where, false, &p->workload)) < 0)
		return ret;
	snprintf(path, sizeof(path), "%s.command", where);
	v = json_object_get(o, "command");
	if (!v)
		return bad(l, path, "missing key");
	if ((ret = get_strv(l, v, path, false, &p->command)) < 0)
		return ret;
	snprintf(path, sizeof(path), "%s.exit_code", where);
	v = json_object_get(o, "exit_code");
	if (v && json_is_integer(v)) {
		p->exited = true;
		p->exit_code = (int)json_integer_value(v);
	} else if (v && !json_is_null(v)) {
		return bad(l, path, "expected an integer or null");
	}
	snprintf(path, sizeof(path), "%s.signal", where);
	v = json_object_get(o, "signal");
	if (v && json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 128)
		p->signal = (int)json_integer_value(v);
	else if (v && !json_is_null(v))
		return bad(l, path, "expected a signal number (1-127) or null");
	snprintf(path, sizeof(path), "%s.timed_out", where);
	v = json_object_get(o, "timed_out");
	if (v && !json_is_boolean(v))
		return bad(l, path, "expected true or false");
	p->timed_out = v && json_is_true(v);
	snprintf(path, sizeof(path), "%s.duration_ms", where);
	v = json_object_get(o, "duration_ms");
	if (v && (ret = get_uint(l, v, path, &p->duration_ms)) < 0)
		return ret;
	v = json_object_get(o, "phase");
	if (v) {
		snprintf(path, sizeof(path), "%s.phase", where);
		if (!json_is_string(v) || (strcmp(json_string_value(v), "all") &&
					   strcmp(json_string_value(v), "user") &&
					   strcmp(json_string_value(v), "mixed")))
			return bad(l, path, "expected \"all\", \"user\" or \"mixed\"");
		if (!(p->phase = strdup(json_string_value(v))))
			return -ENOMEM;
	}
	return 0;
}

/*
 * Walks an object keyed by architecture, then by syscall name (the shape of "syscalls" and
 * "denied"), calling @fn with each entry and its JSON path ("KEY.ARCH.NAME").
 */
typedef int (*arch_name_fn)(const struct loader *l, struct tb_recording *r, const char *arch,
			    const char *name, json_t *v, const char *where);

static int each_arch_name(const struct loader *l, struct tb_recording *r, json_t *o,
			  const char *key, arch_name_fn fn)
{
	const char *arch, *name;
	json_t *ao, *v;

	if (!json_is_object(o))
		return bad(l, key, "expected an object keyed by architecture");
	json_object_foreach(o, arch, ao) {
		char where[256];
		int ret;

		snprintf(where, sizeof(where), "%s.%s", key, arch);
		if (!json_is_object(ao))
			return bad(l, where, "expected an object keyed by syscall name");
		/* No arch has a thousand syscalls; more names can only be a hostile or broken file,
		 * and would make generate's work grow with their square. */
		if (json_object_size(ao) > TB_REC_MAX_NAMES)
			return bad(l, where, "%zu names: at most %d per architecture",
				   json_object_size(ao), TB_REC_MAX_NAMES);
		json_object_foreach(ao, name, v) {
			snprintf(where, sizeof(where), "%s.%s.%s", key, arch, name);
			if ((ret = fn(l, r, arch, name, v, where)) < 0)
				return ret;
		}
	}
	return 0;
}

static int syscall_from_json(const struct loader *l, struct tb_recording *r, const char *arch,
			     const char *name, json_t *so, const char *at)
{
	struct tb_rec_arch *a;
	struct tb_rec_syscall *s;
	char **wl = NULL, where[300];
	uint64_t count = 0;
	json_t *w;
	int ret;

	if (!json_is_object(so))
		return bad(l, at, "expected an object with count and workloads");
	snprintf(where, sizeof(where), "%s.count", at);
	if ((ret = get_uint(l, json_object_get(so, "count"), where, &count)) < 0)
		return ret;
	w = json_object_get(so, "workloads");
	snprintf(where, sizeof(where), "%s.workloads", at);
	if (w && (ret = get_strv(l, w, where, true, &wl)) < 0)
		return ret;
	a = arch_get(r, arch);
	s = a ? syscall_get(a, name) : NULL;
	if (!s) {
		tb_strv_free(wl);
		return -ENOMEM;
	}
	s->count += count;
	if (wl) {
		tb_strv_free(s->workloads);
		s->workloads = wl;
	}
	return 0;
}

static int syscalls_from_json(const struct loader *l, struct tb_recording *r, json_t *sys)
{
	return each_arch_name(l, r, sys, "syscalls", syscall_from_json);
}

static int args_from_json(const struct loader *l, struct tb_recording *r, json_t *args)
{
	const char *arch, *name;
	json_t *ao, *lst;

	if (!json_is_object(args))
		return bad(l, "args", "expected an object keyed by architecture");
	json_object_foreach(args, arch, ao) {
		char where[256];

		snprintf(where, sizeof(where), "args.%s", arch);
		if (!json_is_object(ao))
			return bad(l, where, "expected an object keyed by syscall name");
		json_object_foreach(ao, name, lst) {
			size_t i;
			json_t *vo;

			snprintf(where, sizeof(where), "args.%s.%s", arch, name);
			if (!json_is_array(lst))
				return bad(l, where, "expected an array of argument combinations");
			json_array_foreach(lst, i, vo) {
				const char *keys[6];
				uint64_t vals[6], count = 0;
				const char *k;
				size_t n = 0;
				bool have_count = false;
				json_t *v;
				int ret;

				snprintf(where, sizeof(where), "args.%s.%s[%zu]", arch, name, i);
				if (!json_is_object(vo))
					return bad(l, where, "expected an object");
				json_object_foreach(vo, k, v) {
					char kw[300];

					snprintf(kw, sizeof(kw), "%s.%s", where, k);
					if (!strcmp(k, "count")) {
						if ((ret = get_uint(l, v, kw, &count)) < 0)
							return ret;
						have_count = true;
						continue;
					}
					if (n == TB_ARRAY_SIZE(keys))
						return bad(l, where, "more than 6 argument keys");
					if (!json_is_integer(v))
						return bad(l, kw, "expected an integer");
					keys[n] = k;
					vals[n++] = (uint64_t)json_integer_value(v);
				}
				if (!have_count)
					return bad(l, where, "missing key \"count\"");
				if ((ret = tb_recording_add_args(r, arch, name, n, keys, vals, count)) < 0)
					return ret;
			}
		}
	}
	return 0;
}

static int ops_from_json(const struct loader *l, json_t *a, const char *where, unsigned *out)
{
	size_t i;
	json_t *e;

	if (!json_is_array(a))
		return bad(l, where, "expected an array of operation names");
	json_array_foreach(a, i, e) {
		char path[300];
		int op;

		snprintf(path, sizeof(path), "%s[%zu]", where, i);
		if (!json_is_string(e))
			return bad(l, path, "expected an operation name");
		op = fop_from_name(json_string_value(e));
		if (op < 0)
			return bad(l, path,
				   "unknown file operation \"%s\" (read, write, create, delete, rename, "
				   "exec, mmap-exec, stat, readdir)",
				   json_string_value(e));
		*out |= (unsigned)op;
	}
	return 0;
}

static int files_from_json(const struct loader *l, struct tb_recording *r, json_t *files)
{
	const char *path;
	json_t *fo;

	if (!json_is_object(files))
		return bad(l, "files", "expected an object keyed by path");
	json_object_foreach(files, path, fo) {
		char where[300];
		unsigned ok = 0, failed = 0;
		json_t *v;
		int ret;

		snprintf(where, sizeof(where), "files.%s", path);
		if (!json_is_object(fo))
			return bad(l, where, "expected an object with ok and failed");
		if (path[0] != '/')
			return bad(l, where, "file paths must be absolute");
		snprintf(where, sizeof(where), "files.%s.ok", path);
		v = json_object_get(fo, "ok");
		if (v && (ret = ops_from_json(l, v, where, &ok)) < 0)
			return ret;
		snprintf(where, sizeof(where), "files.%s.failed", path);
		v = json_object_get(fo, "failed");
		if (v && (ret = ops_from_json(l, v, where, &failed)) < 0)
			return ret;
		if ((ret = tb_recording_add_file(r, path, ok, true)) < 0 ||
		    (ret = tb_recording_add_file(r, path, failed, false)) < 0)
			return ret;
	}
	return 0;
}

static int one_denied_from_json(const struct loader *l, struct tb_recording *r, const char *arch,
				const char *name, json_t *c, const char *where)
{
	uint64_t count = 0;
	int ret = get_uint(l, c, where, &count);

	return ret < 0 ? ret : tb_recording_add_denied(r, arch, name, count);
}

static int denied_from_json(const struct loader *l, struct tb_recording *r, json_t *d)
{
	return each_arch_name(l, r, d, "denied", one_denied_from_json);
}

/* ["import", "syscall", "inline"] -> TB_REC_VIA_* bits. */
static int via_from_json(const struct loader *l, json_t *a, const char *where, unsigned *out)
{
	size_t i;
	json_t *e;

	*out = 0;
	if (!json_is_array(a))
		return bad(l, where, "expected an array of \"import\", \"syscall\", \"inline\"");
	json_array_foreach(a, i, e) {
		const char *t = json_string_value(e);

		if (t && !strcmp(t, "import"))
			*out |= TB_REC_VIA_IMPORT;
		else if (t && !strcmp(t, "syscall"))
			*out |= TB_REC_VIA_SYSCALL;
		else if (t && !strcmp(t, "inline"))
			*out |= TB_REC_VIA_INLINE;
		else
			return bad(l, where,
				   "[%zu]: expected \"import\", \"syscall\" or \"inline\"", i);
	}
	return 0;
}

/* One module of "static": {"scan", "arch", "objects": [...], "syscalls": {NAME: {...}}}. */
static int static_from_json(const struct loader *l, struct tb_recording *r, const char *module,
			    json_t *x)
{
	json_t *scan = json_object_get(x, "scan"), *arch = json_object_get(x, "arch");
	json_t *names = json_object_get(x, "syscalls"), *n;
	_cleanup_strv_ char **objects = NULL;
	const char *name;
	char where[200];
	int ret;

	snprintf(where, sizeof(where), "python_context.static.%s", module);
	if (!json_is_object(x) || !json_is_string(scan) || !json_is_string(arch) ||
	    !json_is_object(names))
		return bad(l, where,
			   "expected {\"scan\": STRING, \"arch\": STRING, \"objects\": "
			   "[STRING], \"syscalls\": {NAME: {...}}}");
	snprintf(where, sizeof(where), "python_context.static.%s.objects", module);
	if ((ret = get_strv(l, json_object_get(x, "objects"), where, true, &objects)) < 0 ||
	    (ret = tb_recording_set_import_static(r, module, json_string_value(scan),
						  json_string_value(arch), objects)) < 0)
		return ret;
	json_object_foreach(names, name, n) {
		json_t *obj = json_object_get(n, "object"), *sym = json_object_get(n, "symbol");
		uint64_t count = 0;
		unsigned via;

		snprintf(where, sizeof(where), "python_context.static.%s.syscalls.%s", module,
			 name);
		if (!json_is_object(n) || (obj && !json_is_null(obj) && !json_is_string(obj)) ||
		    (sym && !json_is_null(sym) && !json_is_string(sym)))
			return bad(l, where,
				   "expected {\"via\": [...], \"object\": STRING or null, "
				   "\"symbol\": STRING or null, \"objects\": N}");
		if ((ret = via_from_json(l, json_object_get(n, "via"), where, &via)) < 0)
			return ret;
		if (json_object_get(n, "objects") &&
		    (ret = get_uint(l, json_object_get(n, "objects"), where, &count)) < 0)
			return ret;
		if ((ret = tb_recording_add_import_static(r, module, name, via,
							  json_string_value(obj),
							  json_string_value(sym), count)) < 0)
			return ret;
	}
	return 0;
}

/* "extensions" and "libraries": {MODULE: [PATH...]}, "static": {MODULE: {...}} (optional). */
static int pymodules_from_json(const struct loader *l, struct tb_recording *r, json_t *py)
{
	static const char *const keys[] = {"extensions", "libraries"};
	json_t *st = json_object_get(py, "static"), *x;
	const char *module;
	int ret;

	if (st && !json_is_object(st))
		return bad(l, "python_context", "static must be an object");
	for (size_t k = 0; k < TB_ARRAY_SIZE(keys); k++) {
		json_t *o = json_object_get(py, keys[k]);

		if (o && !json_is_object(o))
			return bad(l, "python_context", "%s must be an object", keys[k]);
		json_object_foreach(o, module, x) {
			_cleanup_strv_ char **paths = NULL;
			char where[160];

			snprintf(where, sizeof(where), "python_context.%s.%s", keys[k], module);
			if ((ret = get_strv(l, x, where, true, &paths)) < 0)
				return ret;
			for (size_t i = 0; paths && paths[i] && ret >= 0; i++)
				ret = k ? tb_recording_add_import_library(r, module, paths[i])
					: tb_recording_add_import_extension(r, module, paths[i]);
			if (ret < 0)
				return ret;
		}
	}
	json_object_foreach(st, module, x) {
		if ((ret = static_from_json(l, r, module, x)) < 0)
			return ret;
	}
	return 0;
}

/* "python_context": {"first_use": {ARCH: {NAME: {...}}}, "imports": {MODULE: {ARCH: [...]}}}. */
static int pyctx_from_json(const struct loader *l, struct tb_recording *r, json_t *py)
{
	json_t *first, *imp, *ao, *x;
	const char *arch, *name;
	int ret;

	if (!json_is_object(py))
		return bad(l, "python_context", "expected an object");
	first = json_object_get(py, "first_use");
	imp = json_object_get(py, "imports");
	if ((first && !json_is_object(first)) || (imp && !json_is_object(imp)))
		return bad(l, "python_context", "first_use and imports must be objects");
	json_object_foreach(first, arch, ao) {
		if (!json_is_object(ao))
			return bad(l, "python_context.first_use", "%s: expected an object", arch);
		json_object_foreach(ao, name, x) {
			json_t *ph = json_object_get(x, "phase"), *fr = json_object_get(x, "user_frame");
			_cleanup_strv_ char **chain = NULL;
			char where[160];

			snprintf(where, sizeof(where), "python_context.first_use.%s.%s", arch, name);
			if (!json_is_object(x) || !json_is_string(ph) ||
			    (fr && !json_is_null(fr) && !json_is_string(fr)))
				return bad(l, where, "expected {\"phase\": STRING, \"user_frame\": "
						     "STRING or null, \"import_chain\": [STRING]}");
			if (json_object_get(x, "import_chain") &&
			    (ret = get_strv(l, json_object_get(x, "import_chain"), where, false,
					    &chain)) < 0)
				return ret;
			if ((ret = tb_recording_add_py_first(r, arch, name, json_string_value(ph),
							     json_string_value(fr), chain)) < 0)
				return ret;
		}
	}
	json_object_foreach(imp, name, ao) {
		if (!json_is_object(ao))
			return bad(l, "python_context.imports", "%s: expected an object", name);
		json_object_foreach(ao, arch, x) {
			_cleanup_strv_ char **names = NULL;
			char where[160];

			snprintf(where, sizeof(where), "python_context.imports.%s.%s", name, arch);
			if ((ret = get_strv(l, x, where, false, &names)) < 0)
				return ret;
			for (size_t i = 0; names && names[i]; i++)
				if ((ret = tb_recording_add_import_syscall(r, name, arch, names[i])) < 0)
					return ret;
		}
	}
	return pymodules_from_json(l, r, py);
}

static int recording_from_json(const struct loader *l, json_t *root, struct tb_recording *r)
{
	json_t *v;
	int ret;

	if (!json_is_object(root))
		return bad(l, NULL, "not a tightbox recording: the top level is not a JSON object");
	v = json_object_get(root, "format");
	if (!v)
		return bad(l, "format",
			   "not a tightbox recording: missing \"format\": \"" TB_REC_FORMAT "\"");
	if (!json_is_string(v) || strcmp(json_string_value(v), TB_REC_FORMAT))
		return bad(l, "format", "not a tightbox recording: format must be \"" TB_REC_FORMAT
					"\"");
	v = json_object_get(root, "version");
	if (!json_is_integer(v))
		return bad(l, "version", "missing or non-integer version");
	if (json_integer_value(v) != TB_REC_VERSION)
		return bad(l, "version", "unsupported recording version %lld (this tightbox reads %d)",
			   (long long)json_integer_value(v), TB_REC_VERSION);
	if ((ret = prov_from_json(l, json_object_get(root, "provenance"), "provenance", &r->prov)) <
	    0)
		return ret;
	v = json_object_get(root, "sources");
	if (v && !json_is_null(v)) {
		size_t i;
		json_t *s;

		if (!json_is_array(v))
			return bad(l, "sources", "expected an array of provenance objects");
		r->sources = calloc(json_array_size(v) + 1, sizeof(*r->sources));
		if (!r->sources)
			return -ENOMEM;
		json_array_foreach(v, i, s) {
			char where[64];

			snprintf(where, sizeof(where), "sources[%zu]", i);
			r->n_sources++;
			if ((ret = prov_from_json(l, s, where, &r->sources[i])) < 0)
				return ret;
		}
	}
	v = json_object_get(root, "syscalls");
	if (!v)
		return bad(l, "syscalls", "missing key");
	if ((ret = syscalls_from_json(l, r, v)) < 0)
		return ret;
	v = json_object_get(root, "args");
	if (v && (ret = args_from_json(l, r, v)) < 0)
		return ret;
	v = json_object_get(root, "files");
	if (v && (ret = files_from_json(l, r, v)) < 0)
		return ret;
	v = json_object_get(root, "executables");
	if (v) {
		tb_strv_free(r->executables);
		r->executables = NULL;
		if ((ret = get_strv(l, v, "executables", true, &r->executables)) < 0)
			return ret;
	}
	v = json_object_get(root, "network_families");
	if (v) {
		tb_strv_free(r->network_families);
		r->network_families = NULL;
		if ((ret = get_strv(l, v, "network_families", true, &r->network_families)) < 0)
			return ret;
	}
	v = json_object_get(root, "denied");
	if (v && (ret = denied_from_json(l, r, v)) < 0)
		return ret;
	v = json_object_get(root, "python_context");
	if (v && (ret = pyctx_from_json(l, r, v)) < 0)
		return ret;
	v = json_object_get(root, "lost");
	if (v) {
		if (!json_is_object(v))
			return bad(l, "lost", "expected an object");
		if ((json_object_get(v, "events") &&
		     (ret = get_uint(l, json_object_get(v, "events"), "lost.events", &r->lost.events)) < 0) ||
		    (json_object_get(v, "paths") &&
		     (ret = get_uint(l, json_object_get(v, "paths"), "lost.paths", &r->lost.paths)) < 0) ||
		    (json_object_get(v, "files") &&
		     (ret = get_uint(l, json_object_get(v, "files"), "lost.files", &r->lost.files)) < 0))
			return ret;
	}
	return 0;
}

int tb_recording_load(const char *path, struct tb_recording **out, struct tb_diag *diag)
{
	struct loader l = {.file = path, .diag = diag};
	_cleanup_free_ char *buf = NULL;
	struct tb_recording *r;
	json_error_t jerr;
	size_t len = 0, i;
	json_t *root;
	int ret;

	/* The merged corpus is ~100 KiB; 256 MiB bounds what a foreign file can make us hold. */
	ret = tb_read_file(path, 256u << 20, &buf, &len);
	if (ret < 0) {
		tb_diag_set(diag, path, 0, 0, NULL, "cannot read: %s", tb_read_file_strerror(ret));
		return ret;
	}
	for (i = 0; i < len && strchr(" \t\r\n", buf[i]); i++)
		;
	if (i == len) {
		tb_diag_set(diag, path, 0, 0, NULL, "empty file: not a tightbox recording");
		return -EINVAL;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		tb_diag_set(diag, path, jerr.line, jerr.column, NULL, "invalid JSON: %s", jerr.text);
		return -EINVAL;
	}
	r = tb_recording_new();
	if (!r) {
		json_decref(root);
		return -ENOMEM;
	}
	ret = recording_from_json(&l, root, r);
	json_decref(root);
	if (ret < 0) {
		if (ret == -ENOMEM)
			tb_diag_set(diag, path, 0, 0, NULL, "out of memory");
		tb_recording_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

/* ---- merge ---- */

static int prov_copy(struct tb_rec_provenance *dst, const struct tb_rec_provenance *src)
{
	struct tb_rec_provenance p = *src;

#define TB_DUP(f)                                                                                  \
	do {                                                                                       \
		p.f = src->f ? strdup(src->f) : NULL;                                              \
		if (src->f && !p.f)                                                                \
			goto fail;                                                                 \
	} while (0)
	p.tightbox_version = p.backend = p.kernel = p.arch = p.libc = p.python = p.workload = NULL;
	p.phase = NULL;
	p.command = NULL;
	TB_DUP(tightbox_version);
	TB_DUP(backend);
	TB_DUP(kernel);
	TB_DUP(arch);
	TB_DUP(libc);
	TB_DUP(python);
	TB_DUP(workload);
	TB_DUP(phase);
#undef TB_DUP
	p.command = strv_copy(src->command);
	if (!p.command)
		goto fail;
	*dst = p;
	return 0;
fail:
	prov_clear(&p);
	return -ENOMEM;
}

/* "x" when every input agrees on x, else "mixed" (NULL when all are NULL). */
static int merged_field(const struct tb_recording *const *in, size_t n, size_t off, char **out)
{
	const char *first = *(char *const *)((const char *)&in[0]->prov + off);

	for (size_t i = 1; i < n; i++) {
		const char *s = *(char *const *)((const char *)&in[i]->prov + off);

		if ((s == NULL) != (first == NULL) || (s && strcmp(s, first))) {
			first = "mixed";
			break;
		}
	}
	*out = first ? strdup(first) : NULL;
	return first && !*out ? -ENOMEM : 0;
}

static int prov_cmp(const void *a, const void *b)
{
	const struct tb_rec_provenance *x = a, *y = b;
	int c = strcmp(x->workload ? x->workload : "", y->workload ? y->workload : "");

	if (c)
		return c;
	c = strcmp(x->backend ? x->backend : "", y->backend ? y->backend : "");
	if (c)
		return c;
	return x->duration_ms < y->duration_ms ? -1 : x->duration_ms > y->duration_ms;
}

/* Adds module @x's extensions and static part to @m (merge and fragments). */
static int pymodule_copy(struct tb_recording *m, const struct tb_rec_pymodule *x)
{
	int ret = 0;

	for (size_t k = 0; x->extensions && x->extensions[k] && ret == 0; k++)
		ret = tb_recording_add_import_extension(m, x->module, x->extensions[k]);
	for (size_t k = 0; x->libraries && x->libraries[k] && ret == 0; k++)
		ret = tb_recording_add_import_library(m, x->module, x->libraries[k]);
	if (ret == 0 && x->scanned)
		ret = tb_recording_set_import_static(m, x->module, x->scan, x->static_arch,
						     x->objects);
	for (size_t k = 0; k < x->n_statics && ret == 0; k++) {
		const struct tb_rec_static_name *n = &x->statics[k];

		ret = tb_recording_add_import_static(m, x->module, n->name, n->via, n->object,
						     n->symbol, n->objects);
	}
	return ret;
}

static int merge_one(struct tb_recording *m, const struct tb_recording *r)
{
	int ret;

	for (size_t i = 0; i < r->n_arches; i++) {
		const struct tb_rec_arch *a = &r->arches[i];

		for (size_t j = 0; j < a->n_syscalls; j++) {
			const struct tb_rec_syscall *s = &a->syscalls[j];

			if ((ret = tb_recording_add_syscall(m, a->name, s->name, s->count)) < 0)
				return ret;
			for (size_t k = 0; s->workloads && s->workloads[k]; k++)
				if ((ret = tb_recording_add_syscall_workload(m, a->name, s->name,
									     s->workloads[k])) < 0)
					return ret;
			/* A single recording that never set per-syscall workloads: use its own. */
			if (tb_strv_len(s->workloads) == 0 && r->prov.workload &&
			    (ret = tb_recording_add_syscall_workload(m, a->name, s->name,
								     r->prov.workload)) < 0)
				return ret;
		}
		for (size_t j = 0; j < a->n_args; j++)
			for (size_t k = 0; k < a->args[j].n_vals; k++) {
				const struct tb_rec_argval *v = &a->args[j].vals[k];

				if ((ret = tb_recording_add_args(m, a->name, a->args[j].syscall, v->n,
								 (const char *const *)v->keys,
								 v->values, v->count)) < 0)
					return ret;
			}
	}
	for (size_t i = 0; i < r->n_files; i++) {
		if ((ret = tb_recording_add_file(m, r->files[i].path, r->files[i].ok, true)) < 0 ||
		    (ret = tb_recording_add_file(m, r->files[i].path, r->files[i].failed, false)) < 0)
			return ret;
	}
	for (size_t i = 0; r->executables && r->executables[i]; i++)
		if ((ret = tb_recording_add_executable(m, r->executables[i])) < 0)
			return ret;
	for (size_t i = 0; r->network_families && r->network_families[i]; i++)
		if ((ret = tb_recording_add_family(m, r->network_families[i])) < 0)
			return ret;
	for (size_t i = 0; i < r->n_denied; i++)
		if ((ret = tb_recording_add_denied(m, r->denied[i].arch, r->denied[i].name,
						   r->denied[i].count)) < 0)
			return ret;
	for (size_t i = 0; i < r->n_py_first; i++) {
		const struct tb_rec_pyfirst *x = &r->py_first[i];

		if ((ret = tb_recording_add_py_first(m, x->arch, x->name, x->phase, x->frame,
						     x->chain)) < 0)
			return ret;
	}
	for (size_t i = 0; i < r->n_imports; i++)
		for (size_t k = 0; r->imports[i].syscalls && r->imports[i].syscalls[k]; k++)
			if ((ret = tb_recording_add_import_syscall(m, r->imports[i].module,
								   r->imports[i].arch,
								   r->imports[i].syscalls[k])) < 0)
				return ret;
	ret = 0;
	for (size_t i = 0; i < r->n_pymodules && ret == 0; i++)
		ret = pymodule_copy(m, &r->pymodules[i]);
	if (ret < 0)
		return ret;
	m->lost.events += r->lost.events;
	m->lost.paths += r->lost.paths;
	m->lost.files += r->lost.files;
	return 0;
}

int tb_recording_merge(const struct tb_recording *const *in, size_t n, struct tb_recording **out)
{
	struct tb_recording *m;
	size_t n_src = 0;
	int ret = -ENOMEM;

	if (n == 0)
		return -EINVAL;
	m = tb_recording_new();
	if (!m)
		return -ENOMEM;
	/* Inputs that are merges themselves contribute their sources, so merging is associative. */
	for (size_t i = 0; i < n; i++)
		n_src += in[i]->n_sources ? in[i]->n_sources : 1;
	m->sources = calloc(n_src, sizeof(*m->sources));
	if (!m->sources)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (in[i]->n_sources) {
			for (size_t j = 0; j < in[i]->n_sources; j++)
				if ((ret = prov_copy(&m->sources[m->n_sources++], &in[i]->sources[j])) <
				    0)
					goto fail;
		} else if ((ret = prov_copy(&m->sources[m->n_sources++], &in[i]->prov)) < 0) {
			goto fail;
		}
		if ((ret = merge_one(m, in[i])) < 0)
			goto fail;
	}
	qsort(m->sources, m->n_sources, sizeof(*m->sources), prov_cmp);
	ret = -ENOMEM;
	m->prov.backend = strdup("merged");
	m->prov.workload = strdup("merged");
	m->prov.command = calloc(1, sizeof(char *));
	if (!m->prov.backend || !m->prov.workload || !m->prov.command)
		goto fail;
	if ((ret = merged_field(in, n, offsetof(struct tb_rec_provenance, tightbox_version),
				&m->prov.tightbox_version)) < 0 ||
	    (ret = merged_field(in, n, offsetof(struct tb_rec_provenance, kernel), &m->prov.kernel)) <
		    0 ||
	    (ret = merged_field(in, n, offsetof(struct tb_rec_provenance, arch), &m->prov.arch)) < 0 ||
	    (ret = merged_field(in, n, offsetof(struct tb_rec_provenance, libc), &m->prov.libc)) < 0 ||
	    (ret = merged_field(in, n, offsetof(struct tb_rec_provenance, python), &m->prov.python)) <
		    0 ||
	    (ret = merged_field(in, n, offsetof(struct tb_rec_provenance, phase), &m->prov.phase)) < 0)
		goto fail;
	/* A merge "exited 0" only if every source did; otherwise the first bad outcome shows. */
	m->prov.exited = true;
	for (size_t i = 0; i < m->n_sources; i++) {
		const struct tb_rec_provenance *s = &m->sources[i];

		m->prov.duration_ms += s->duration_ms;
		m->prov.timed_out |= s->timed_out;
		if (m->prov.exited && m->prov.exit_code == 0 && !m->prov.signal) {
			if (!s->exited) {
				m->prov.exited = false;
				m->prov.signal = s->signal;
			} else if (s->exit_code) {
				m->prov.exit_code = s->exit_code;
			}
		}
	}
	*out = m;
	return 0;
fail:
	tb_recording_free(m);
	return ret;
}

int tb_recording_import_modules(const struct tb_recording *r, char ***out)
{
	char **v = NULL;
	int ret = 0;

	for (size_t i = 0; i < r->n_imports && ret == 0; i++)
		if (!tb_strv_has(v, r->imports[i].module))
			ret = tb_strv_add_sorted(&v, r->imports[i].module);
	if (ret < 0) {
		tb_strv_free(v);
		return ret;
	}
	*out = v;
	return 0;
}

int tb_recording_import_fragment(const struct tb_recording *r, const char *module,
				 struct tb_recording **out)
{
	struct tb_recording *f;
	_cleanup_free_ char *workload = NULL;
	bool any = false;
	int ret;

	f = tb_recording_new();
	if (!f || asprintf(&workload, "import %s", module) < 0 || prov_copy(&f->prov, &r->prov) < 0) {
		tb_recording_free(f);
		return -ENOMEM;
	}
	ret = 0;
	for (size_t i = 0; i < r->n_imports && ret == 0; i++) {
		const struct tb_rec_import *x = &r->imports[i];

		if (strcmp(x->module, module))
			continue;
		any = true;
		for (size_t k = 0; x->syscalls && x->syscalls[k] && ret == 0; k++) {
			ret = tb_recording_add_syscall(f, x->arch, x->syscalls[k], 1);
			if (ret == 0)
				ret = tb_recording_add_import_syscall(f, module, x->arch,
								      x->syscalls[k]);
		}
	}
	if (ret == 0 && tb_recording_pymodule(r, module))
		ret = pymodule_copy(f, tb_recording_pymodule(r, module));
	free(f->prov.backend);
	if (ret == 0 && !(f->prov.backend = strdup("per-import")))
		ret = -ENOMEM;
	if (ret == 0)
		ret = tb_recording_set_workload(f, workload);
	if (ret < 0 || !any) {
		tb_recording_free(f);
		return ret < 0 ? ret : -ENOENT;
	}
	*out = f;
	return 0;
}
