/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scan JSON (docs/scan.md): written sorted with sorted keys, so the same files give the same
 * bytes; read back by `tightbox generate --scan`. Long lists are capped in the file (the counts
 * stay exact): the symbols of one object per syscall, and the sites of one object.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/strv.h"
#include "core/util.h"
#include "scanner/scan.h"

#define MAX_SYMBOLS 8
#define MAX_SITES 32

static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *sites_json(const struct tb_scan_site *v, size_t n)
{
	json_t *a = json_array();
	size_t unknown = 0;

	for (size_t i = 0; i < n; i++)
		unknown += v[i].nr < 0;
	for (size_t i = 0; a && i < n && i < MAX_SITES; i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "%#llx", (unsigned long long)v[i].addr);
		json_array_append_new(a,
				      json_pack("{s:s,s:o}", "addr", addr, "nr",
						v[i].nr < 0 ? json_null() : json_integer(v[i].nr)));
	}
	return json_pack("{s:I,s:I,s:o}", "count", (json_int_t)n, "unknown", (json_int_t)unknown,
			 "sites", a);
}

static json_t *via_json(unsigned via)
{
	json_t *a = json_array();

	if (via & TB_SCAN_VIA_IMPORT)
		json_array_append_new(a, json_string("import"));
	if (via & TB_SCAN_VIA_SYSCALL)
		json_array_append_new(a, json_string("syscall"));
	if (via & TB_SCAN_VIA_INLINE)
		json_array_append_new(a, json_string("inline"));
	return a;
}

static json_t *syscall_json(const struct tb_scan_syscall *sc)
{
	json_t *from = json_array();
	size_t objects = 0;

	for (size_t k = 0; from && k < sc->n_refs;) {
		json_t *syms = json_array();
		unsigned via = 0;
		size_t j = k;

		for (; j < sc->n_refs && !strcmp(sc->refs[j].object, sc->refs[k].object); j++) {
			via |= sc->refs[j].via;
			if (j - k < MAX_SYMBOLS)
				json_array_append_new(syms, json_string(sc->refs[j].symbol));
		}
		/* The object's own via: the symbols listed may be capped. */
		json_array_append_new(
		    from, json_pack("{s:s,s:o,s:I,s:o}", "object", sc->refs[k].object, "symbols",
				    syms, "more_symbols",
				    (json_int_t)(j - k > MAX_SYMBOLS ? j - k - MAX_SYMBOLS : 0),
				    "via", via_json(via)));
		objects++;
		k = j;
	}
	return json_pack("{s:s,s:o,s:I,s:o}", "name", sc->name, "via", via_json(sc->via), "objects",
			 (json_int_t)objects, "from", from);
}

int tb_scan_to_json(const struct tb_scan *s, char **out)
{
	json_t *objects = json_array(), *syscalls = json_array(), *missing = json_array(), *root;
	size_t n_calls = 0, n_inlines = 0;
	char *text;

	for (size_t i = 0; objects && i < s->n_objects; i++) {
		const struct tb_scan_object *o = &s->objects[i];

		n_calls += o->n_calls;
		n_inlines += o->n_inlines;
		json_array_append_new(
		    objects, json_pack("{s:s,s:o,s:o,s:o,s:b,s:I,s:o,s:o}", "path", o->path,
				       "soname", o->soname ? json_string(o->soname) : json_null(),
				       "needed", strv_json(o->needed), "deps", strv_json(o->deps),
				       "glibc", o->glibc, "glibc_imports", (json_int_t)o->n_imports,
				       "syscall_calls", sites_json(o->calls, o->n_calls),
				       "inline_syscalls", sites_json(o->inlines, o->n_inlines)));
	}
	for (size_t i = 0; syscalls && i < s->n_syscalls; i++)
		json_array_append_new(syscalls, syscall_json(&s->syscalls[i]));
	for (size_t i = 0; missing && i < s->n_missing; i++)
		json_array_append_new(
		    missing,
		    json_pack("{s:s,s:s}", "needed", s->missing[i].needed, "by", s->missing[i].by));
	root = json_pack(
	    "{s:s,s:i,s:{s:s,s:s,s:o,s:o},s:o,s:o,s:o,s:{s:I,s:I,s:I,s:I,s:I}}", "format",
	    TB_SCAN_FORMAT, "version", TB_SCAN_VERSION, "provenance", "tightbox", TB_VERSION,
	    "arch", s->arch, "python", s->python ? json_string(s->python) : json_null(), "inputs",
	    strv_json(s->inputs), "objects", objects, "missing", missing, "syscalls", syscalls,
	    "summary", "objects", (json_int_t)s->n_objects, "syscalls", (json_int_t)s->n_syscalls,
	    "syscall_calls", (json_int_t)n_calls, "inline_syscalls", (json_int_t)n_inlines,
	    "unknown_sites", (json_int_t)s->unknown_sites);
	if (!root)
		return -ENOMEM;
	text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(root);
	if (!text)
		return -ENOMEM;
	*out = text;
	return 0;
}

static void scan_freep(struct tb_scan **s)
{
	tb_scan_free(*s);
}

/* The file is ours and validated field by field; a problem names its JSON path. */
static int bad(struct tb_diag *diag, const char *path, const char *where, const char *what)
{
	tb_diag_set(diag, path, 0, 0, where, "%s", what);
	return -EINVAL;
}

/* ["import", "syscall", "inline"] -> bits; -EINVAL for anything else. */
static int via_from_json(json_t *via, unsigned *out)
{
	size_t k;
	json_t *e;

	*out = 0;
	if (!json_is_array(via))
		return -EINVAL;
	json_array_foreach(via, k, e)
	{
		const char *t = json_string_value(e);

		if (t && !strcmp(t, "import"))
			*out |= TB_SCAN_VIA_IMPORT;
		else if (t && !strcmp(t, "syscall"))
			*out |= TB_SCAN_VIA_SYSCALL;
		else if (t && !strcmp(t, "inline"))
			*out |= TB_SCAN_VIA_INLINE;
		else
			return -EINVAL;
	}
	return 0;
}

/* A symbol's own kind, for files that predate from[].via. */
static unsigned via_of_symbol(const char *sym)
{
	if (!strncmp(sym, "syscall(", 8))
		return TB_SCAN_VIA_SYSCALL;
	if (!strncmp(sym, "inline(", 7))
		return TB_SCAN_VIA_INLINE;
	return TB_SCAN_VIA_IMPORT;
}

static int strv_from_json(json_t *a, char ***out)
{
	size_t k;
	json_t *e;

	json_array_foreach(a, k, e)
	{
		if (!json_is_string(e))
			return -EINVAL;
		if (tb_strv_add(out, json_string_value(e)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* objects[]: path, soname, needed, glibc and (files since deps were added) deps. */
static int objects_from_json(struct tb_scan *s, json_t *objs, const char *path,
			     struct tb_diag *diag)
{
	char where[64];
	size_t i;
	json_t *o;

	if (!objs)
		return 0;
	if (!json_is_array(objs))
		return bad(diag, path, "objects", "not an array");
	s->objects = calloc(json_array_size(objs) + 1, sizeof(*s->objects));
	if (!s->objects)
		return -ENOMEM;
	s->has_deps = json_array_size(objs) > 0;
	json_array_foreach(objs, i, o)
	{
		struct tb_scan_object *x = &s->objects[s->n_objects];
		json_t *p = json_object_get(o, "path"), *so = json_object_get(o, "soname");
		json_t *needed = json_object_get(o, "needed"), *deps = json_object_get(o, "deps");
		int r;

		snprintf(where, sizeof(where), "objects[%zu]", i);
		if (!json_is_string(p) || (so && !json_is_null(so) && !json_is_string(so)) ||
		    (needed && !json_is_array(needed)) || (deps && !json_is_array(deps)))
			return bad(diag, path, where,
				   "needs a path, soname (string or null), needed[] and deps[]");
		if (i && strcmp(s->objects[s->n_objects - 1].path, json_string_value(p)) >= 0)
			return bad(diag, path, where, "paths are not sorted and unique");
		x->path = strdup(json_string_value(p));
		x->soname = json_is_string(so) ? strdup(json_string_value(so)) : NULL;
		x->glibc = json_is_true(json_object_get(o, "glibc"));
		s->n_objects++;
		if (!x->path || (json_is_string(so) && !x->soname))
			return -ENOMEM;
		s->has_deps &= deps != NULL;
		r = strv_from_json(needed, &x->needed);
		if (r == 0)
			r = strv_from_json(deps, &x->deps);
		if (r == -EINVAL)
			return bad(diag, path, where, "needed[] and deps[] hold strings");
		if (r < 0)
			return r;
	}
	return 0;
}

int tb_scan_load(const char *path, struct tb_scan **out, struct tb_diag *diag)
{
	__attribute__((cleanup(scan_freep))) struct tb_scan *s = calloc(1, sizeof(*s));
	__attribute__((cleanup(json_decrefp))) json_t *root = NULL;
	json_error_t err;
	json_t *v, *scs, *sc;
	size_t i;
	char where[96];
	int r;

	if (!s)
		return -ENOMEM;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (!root) {
		tb_diag_set(diag, path, err.line, err.column, NULL, "%s", err.text);
		return -EINVAL;
	}
	if (!json_is_object(root))
		return bad(diag, path, NULL, "not a JSON object");
	v = json_object_get(root, "format");
	if (!json_is_string(v) || strcmp(json_string_value(v), TB_SCAN_FORMAT))
		return bad(diag, path, "format",
			   "not a tightbox scan (expected \"tightbox-scan\")");
	v = json_object_get(root, "version");
	if (!json_is_integer(v) || json_integer_value(v) != TB_SCAN_VERSION)
		return bad(diag, path, "version",
			   "unsupported scan version (this tightbox reads 1)");
	v = json_object_get(json_object_get(root, "provenance"), "arch");
	if (!json_is_string(v))
		return bad(diag, path, "provenance.arch", "missing or not a string");
	s->arch = strdup(json_string_value(v));
	v = json_object_get(json_object_get(root, "provenance"), "python");
	if (json_is_string(v))
		s->python = strdup(json_string_value(v));
	v = json_object_get(root, "objects");
	if ((r = objects_from_json(s, v, path, diag)) < 0)
		return r;
	scs = json_object_get(root, "syscalls");
	if (!json_is_array(scs))
		return bad(diag, path, "syscalls", "missing or not an array");
	s->syscalls = calloc(json_array_size(scs) + 1, sizeof(*s->syscalls));
	if (!s->arch || !s->syscalls)
		return -ENOMEM;
	json_array_foreach(scs, i, sc)
	{
		struct tb_scan_syscall *x = &s->syscalls[s->n_syscalls];
		json_t *name = json_object_get(sc, "name"), *via = json_object_get(sc, "via");
		json_t *from = json_object_get(sc, "from"), *f, *e;
		size_t k, j;

		snprintf(where, sizeof(where), "syscalls[%zu]", i);
		if (!json_is_string(name) || !json_is_array(via) || !json_is_array(from))
			return bad(diag, path, where, "needs a name, via[] and from[]");
		if (i && strcmp(s->syscalls[s->n_syscalls - 1].name, json_string_value(name)) >= 0)
			return bad(diag, path, where, "names are not sorted and unique");
		x->name = strdup(json_string_value(name));
		s->n_syscalls++;
		if (!x->name)
			return -ENOMEM;
		if (via_from_json(via, &x->via) < 0)
			return bad(diag, path, where, "via: expected import, syscall or inline");
		json_array_foreach(from, k, f)
		{
			json_t *obj = json_object_get(f, "object"),
			       *syms = json_object_get(f, "symbols");
			json_t *fvia = json_object_get(f, "via");
			unsigned ovia = 0;

			if (!json_is_string(obj) || !json_is_array(syms))
				return bad(diag, path, where,
					   "from[]: needs an object and symbols[]");
			if (fvia && via_from_json(fvia, &ovia) < 0)
				return bad(diag, path, where,
					   "from[].via: expected import, syscall or inline");
			json_array_foreach(syms, j, e)
			{
				struct tb_scan_ref *nr;

				if (!json_is_string(e))
					return bad(diag, path, where,
						   "from[].symbols: not a string");
				nr = realloc(x->refs, (x->n_refs + 1) * sizeof(*nr));
				if (!nr)
					return -ENOMEM;
				x->refs = nr;
				nr[x->n_refs].object = strdup(json_string_value(obj));
				nr[x->n_refs].symbol = strdup(json_string_value(e));
				nr[x->n_refs].via =
				    fvia ? ovia : via_of_symbol(json_string_value(e));
				x->n_refs++;
				if (!nr[x->n_refs - 1].object || !nr[x->n_refs - 1].symbol)
					return -ENOMEM;
			}
		}
	}
	*out = TB_TAKE_PTR(s);
	return 0;
}
