/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tb_scan_reach(): the part of a scan that some of its objects account for (`generate --per-import
 * --scan`: the extension modules one top-level import loaded). The closure is the one the scan
 * computed (objects[].deps, resolved by resolve.c as ld.so would), and the names are the scan's
 * own references restricted to that closure: no second search, no second table.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/strv.h"
#include "core/util.h"
#include "scanner/scan.h"

static const struct tb_scan_object *find(const struct tb_scan *s, const char *path)
{
	size_t lo = 0, hi = s->n_objects;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(path, s->objects[mid].path);

		if (c == 0)
			return &s->objects[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* @path as given, else its realpath (the scan keeps realpaths; a program may load a symlink). */
static const struct tb_scan_object *find_root(const struct tb_scan *s, const char *path)
{
	const struct tb_scan_object *o = find(s, path);
	char real[PATH_MAX];

	if (!o && realpath(path, real))
		o = find(s, real);
	return o;
}

bool tb_scan_has_object(const struct tb_scan *s, const char *path)
{
	return find_root(s, path) != NULL;
}

/* Breadth first over deps; *@out grows sorted. */
static int closure(const struct tb_scan *s, char *const *roots, char ***out, const char **missing)
{
	_cleanup_strv_ char **queue = NULL;
	int r = 0;

	for (size_t i = 0; roots && roots[i] && r == 0; i++) {
		const struct tb_scan_object *o = find_root(s, roots[i]);

		if (!o) {
			*missing = roots[i];
			return -ENOENT;
		}
		if (!tb_strv_has(queue, o->path))
			r = tb_strv_add(&queue, o->path);
	}
	for (size_t i = 0; queue && queue[i] && r == 0; i++) {
		const struct tb_scan_object *o = find(s, queue[i]);

		for (size_t k = 0; o && o->deps && o->deps[k] && r == 0; k++)
			if (!tb_strv_has(queue, o->deps[k]))
				r = tb_strv_add(&queue, o->deps[k]);
	}
	for (size_t i = 0; queue && queue[i] && r == 0; i++)
		r = tb_strv_add_sorted(out, queue[i]);
	return r;
}

int tb_scan_reach(const struct tb_scan *s, char *const *roots, char ***objects,
		  struct tb_scan_reached **names, size_t *n_names, const char **missing)
{
	_cleanup_strv_ char **objs = NULL;
	struct tb_scan_reached *v;
	size_t n = 0, n_objs;
	int r;

	if (!s->has_deps && roots && roots[0])
		return -EPROTO;
	r = closure(s, roots, &objs, missing);
	if (r < 0)
		return r;
	n_objs = tb_strv_len(objs);
	v = calloc(s->n_syscalls + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_syscalls; i++) {
		const struct tb_scan_syscall *sc = &s->syscalls[i];
		struct tb_scan_reached x = {.name = sc->name};

		/* refs are sorted by object: count each object once. */
		for (size_t k = 0; k < sc->n_refs; k++) {
			const struct tb_scan_ref *ref = &sc->refs[k];

			if (!tb_strv_has_sorted(objs, n_objs, ref->object))
				continue;
			x.via |= ref->via;
			if (!x.ref)
				x.ref = ref;
			x.objects += !k || strcmp(ref->object, sc->refs[k - 1].object);
		}
		if (x.ref)
			v[n++] = x;
	}
	*objects = TB_TAKE_PTR(objs);
	*names = v;
	*n_names = n;
	return 0;
}
