/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage 2b: the model's file, exec and network activity -> an AppArmor profile (abi 3.0).
 *
 * AppArmor mediates the resolved path, so a recorded symlink (/bin/sh, /usr/bin/python3) is
 * granted under both its recorded and its resolved name (resolved on the generating host, which is
 * meant to be the image the profile protects). Merged-/usr aliases are covered by "/{,usr/}".
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "generator/internal.h"

struct aa_line {
	char *path; /* already escaped / globbed */
	char perms[16];
};

struct aa_set {
	struct aa_line *v;
	size_t n;
};

static void perms_merge(char *dst, size_t size, const char *add)
{
	/* AppArmor's conventional order: m r w k l, then the exec mode. */
	char tmp[16];
	size_t n = 0;
	bool exec = strstr(dst, "ix") || strstr(add, "ix");

	for (const char *s = "mrwkl"; *s; s++)
		if (strchr(dst, *s) || strchr(add, *s))
			tmp[n++] = *s;
	if (exec) {
		tmp[n++] = 'i';
		tmp[n++] = 'x';
	}
	tmp[n] = '\0';
	snprintf(dst, size, "%s", tmp);
}

static int set_add(struct aa_set *s, const char *path, const char *perms)
{
	size_t at = 0;
	struct aa_line *nv;

	while (at < s->n && strcmp(s->v[at].path, path) < 0)
		at++;
	if (at < s->n && !strcmp(s->v[at].path, path)) {
		perms_merge(s->v[at].perms, sizeof(s->v[at].perms), perms);
		return 0;
	}
	nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	s->v = nv;
	memmove(&nv[at + 1], &nv[at], (s->n - at) * sizeof(*nv));
	nv[at].path = strdup(path);
	nv[at].perms[0] = '\0';
	perms_merge(nv[at].perms, sizeof(nv[at].perms), perms);
	s->n++;
	return nv[at].path ? 0 : -ENOMEM;
}

static void set_clear(struct aa_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path);
	free(s->v);
}

/* Escapes AppArmor glob and quoting characters; NULL for paths a profile cannot carry. */
static char *aa_escape(const char *p)
{
	size_t n = strlen(p);
	char *out = malloc(2 * n + 3), *o = out;
	bool quote = false;

	if (!out)
		return NULL;
	for (const char *c = p; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			free(out);
			return NULL;
		}
		quote |= isspace((unsigned char)*c) || *c == ',' || *c == '#';
	}
	if (quote)
		*o++ = '"';
	for (const char *c = p; *c; c++) {
		if (strchr("*?[]{}^\"\\", *c))
			*o++ = '\\';
		*o++ = *c;
	}
	if (quote)
		*o++ = '"';
	*o = '\0';
	return out;
}

/* /proc/<pid>, /proc/self and /proc/thread-self differ per process: use the tunables. */
static char *proc_path(const char *p)
{
	const char *rest = p + strlen("/proc");
	char comp[64];
	size_t n;
	char *out;

	if (*rest != '/')
		return strdup("@{PROC}/");
	rest++;
	n = strcspn(rest, "/");
	if (n >= sizeof(comp))
		return aa_escape(p);
	memcpy(comp, rest, n);
	comp[n] = '\0';
	if (strspn(comp, "0123456789") == n || !strcmp(comp, "self") ||
	    !strcmp(comp, "thread-self")) {
		_cleanup_free_ char *tail = aa_escape(rest + n);

		if (!tail || asprintf(&out, "@{PROC}/@{pid}%s", tail) < 0)
			return NULL;
		return out;
	} else {
		_cleanup_free_ char *tail = aa_escape(rest);

		if (!tail || asprintf(&out, "@{PROC}/%s", tail) < 0)
			return NULL;
		return out;
	}
}

static bool beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

/* Merged /usr: /bin, /sbin, /lib* are symlinks into /usr on Debian 12. */
static char *aa_file(const char *p)
{
	static const char *const merged[] = {"/bin/",	"/sbin/",  "/lib/",
					     "/lib32/", "/lib64/", "/libx32/"};
	_cleanup_free_ char *esc = NULL;
	char *out;

	if (beneath(p, "/proc"))
		return proc_path(p);
	esc = aa_escape(p);
	if (!esc)
		return NULL;
	for (size_t i = 0; esc[0] != '"' && i < TB_ARRAY_SIZE(merged); i++) {
		const char *m = merged[i];
		const char *u = m + 1; /* "bin/" */

		if (!strncmp(p, m, strlen(m)) ||
		    (!strncmp(p, "/usr/", 5) && !strncmp(p + 5, u, strlen(u)))) {
			const char *tail = esc + (p[1] == 'u' ? 5 : 1);

			if (asprintf(&out, "/{,usr/}%s", tail) < 0)
				return NULL;
			return out;
		}
	}
	return TB_TAKE_PTR(esc);
}

static int add_path(struct aa_set *files, const char *path, const char *perms, bool dir)
{
	_cleanup_free_ char *p = aa_file(path);
	_cleanup_free_ char *withslash = NULL;

	if (!p)
		return 0; /* unprintable: left denied */
	if (dir && p[strlen(p) - 1] != '/') {
		if (asprintf(&withslash, "%s/", p) < 0)
			return -ENOMEM;
		return set_add(files, withslash, perms);
	}
	return set_add(files, p, perms);
}

/* The tree @path lies beneath (index into tb_gen_trees()), or -1. */
static int tree_index(const char *path)
{
	const struct tb_gen_tree *tt;
	size_t nt;

	tt = tb_gen_trees(&nt);
	for (size_t t = 0; t < nt && t < 64; t++)
		if (tb_gen_tree_match(&tt[t], path))
			return (int)t;
	return -1;
}

static int add_resolved(struct aa_set *files, bool *tree_used, const char *path, const char *perms,
			bool dir)
{
	char real[PATH_MAX];
	int r = add_path(files, path, perms, dir), t;

	if (r < 0)
		return r;
	/* Only this host can tell what a recorded symlink points to. */
	if (!realpath(path, real) || !strcmp(real, path))
		return 0;
	t = tree_index(real);
	if (t >= 0 && !strchr(perms, 'w') && !strchr(perms, 'x')) {
		tree_used[t] =
		    true; /* /etc/localtime -> /usr/share/zoneinfo/...: the tree grants it */
		return 0;
	}
	return add_path(files, real, perms, dir);
}

static const char *const families[][2] = {
    {"AF_INET", "inet"},     {"AF_INET6", "inet6"}, {"AF_NETLINK", "netlink"},
    {"AF_PACKET", "packet"}, {"AF_UNIX", "unix"},
};

int tb_gen_apparmor(const struct tb_gen_model *m, char **out)
{
	const struct tb_recording *rec = m->merged;
	struct aa_set trees = {0}, files = {0};
	bool tree_used[64] = {false}, tree_mmap[64] = {false}, shm = false;
	const struct tb_gen_tree *tt;
	char *buf = NULL;
	size_t len = 0, nt;
	FILE *f = NULL;
	int r = 0;

	tt = tb_gen_trees(&nt);
	for (size_t i = 0; r == 0 && i < rec->n_files; i++) {
		const struct tb_rec_file *fl = &rec->files[i];
		char perms[16] = "";
		int ti;

		if (!fl->ok || beneath(fl->path, "/tmp"))
			continue;
		/* POSIX semaphores and shared memory get random names: grant the folder. */
		if (beneath(fl->path, "/dev/shm")) {
			shm = true;
			continue;
		}
		ti = tree_index(fl->path);
		if (ti >= 0) {
			tree_used[ti] = true;
			tree_mmap[ti] |= !!(fl->ok & TB_FOP_MMAP_EXEC);
			continue;
		}
		snprintf(perms, sizeof(perms), "%s%s%s",
			 fl->ok & (TB_FOP_READ | TB_FOP_READDIR) ? "r" : "",
			 fl->ok & TB_FOP_MMAP_EXEC ? "mr" : "",
			 fl->ok & (TB_FOP_WRITE | TB_FOP_CREATE | TB_FOP_DELETE | TB_FOP_RENAME) ? "w"
												 : "");
		/* /proc and /sys writes are denied below whatever a recording says. */
		if (!perms[0])
			continue;
		r = add_resolved(&files, tree_used, fl->path, perms,
				 (fl->ok & TB_FOP_READDIR) != 0);
	}
	for (size_t i = 0; r == 0 && rec->executables && rec->executables[i]; i++)
		r = add_resolved(&files, tree_used, rec->executables[i], "mrix", false);
	for (size_t t = 0; r == 0 && t < nt && t < 64; t++) {
		_cleanup_free_ char *root = NULL, *all = NULL, *so = NULL;

		if (!tree_used[t])
			continue;
		if (asprintf(&root, "%s/", tt[t].apparmor) < 0 ||
		    asprintf(&all, "%s/**", tt[t].apparmor) < 0 ||
		    asprintf(&so, "%s/**.so*", tt[t].apparmor) < 0) {
			r = -ENOMEM;
			break;
		}
		r = set_add(&trees, root, "r");
		if (r == 0)
			r = set_add(&trees, all, "r");
		if (r == 0 && (tree_mmap[t] || tt[t].libraries))
			r = set_add(&trees, so, "mr");
	}
	if (r < 0)
		goto out;

	f = open_memstream(&buf, &len);
	if (!f) {
		r = -ENOMEM;
		goto out;
	}
	{
		_cleanup_free_ char *wl = tb_strv_join(m->workloads, ", ");

		/* Workload names come from recordings, which the recorded code can shape: a newline
		 * would end the comment and start rules (a "profile pwn flags=(unconfined)"). */
		for (char *c = wl; c && *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		fprintf(f,
			"# AppArmor profile generated by tightbox generate from the recordings of: "
			"%s.\n# Regenerate instead of editing. Load: apparmor_parser -r FILE\n",
			wl && wl[0] ? wl : "(unnamed)");
	}
	fprintf(f, "abi <abi/3.0>,\n\ninclude <tunables/global>\n\n");
	fprintf(f, "profile %s flags=(attach_disconnected,mediate_deleted) {\n", m->profile_name);
	fprintf(f, "  # Nothing in the sandbox needs privileges, mounts or to trace others.\n"
		   "  deny capability,\n  deny mount,\n  deny umount,\n  deny pivot_root,\n"
		   "  deny ptrace,\n  deny @{PROC}/** w,\n  deny /sys/** w,\n\n");
	fprintf(f, "  # Networks: only the socket families the recordings used.\n");
	for (size_t i = 0; i < TB_ARRAY_SIZE(families); i++) {
		bool used = tb_strv_has(rec->network_families, families[i][0]);

		fprintf(f, "  %snetwork %s,\n", used ? "" : "deny ", families[i][1]);
		if (used && !strcmp(families[i][1], "unix"))
			fprintf(f, "  unix,\n");
	}
	fprintf(f, "  deny network raw,\n\n");
	fprintf(f,
		"  # Signals between the sandbox's own processes; the runtime may stop it.\n"
		"  signal (send, receive) peer=%s,\n  signal (receive) peer=unconfined,\n\n",
		m->profile_name);
	if (trees.n) {
		fprintf(f,
			"  # Library and interpreter trees (a recording saw one run's imports).\n");
		for (size_t i = 0; i < trees.n; i++)
			fprintf(f, "  %s %s,\n", trees.v[i].path, trees.v[i].perms);
		fprintf(f, "\n");
	}
	fprintf(f, "  # Files and executables the recordings used.\n");
	for (size_t i = 0; i < files.n; i++) {
		bool dup = false;

		/* A tree root listed (readdir) or reached through a symlink is already granted. */
		for (size_t j = 0; j < trees.n; j++)
			dup |= !strcmp(trees.v[j].path, files.v[i].path);
		if (!dup)
			fprintf(f, "  %s %s,\n", files.v[i].path, files.v[i].perms);
	}
	if (shm)
		fprintf(f, "\n  # POSIX semaphores and shared memory (multiprocessing).\n"
			   "  /dev/shm/ r,\n  /dev/shm/** rwkl,\n");
	fprintf(f, "\n  # The sandbox's scratch space and standard devices.\n"
		   "  /tmp/ r,\n  /tmp/** rwkl,\n  /dev/null rw,\n  /dev/zero r,\n  /dev/full rw,\n"
		   "  /dev/random r,\n  /dev/urandom r,\n}\n");
	if (fclose(f) != 0) {
		f = NULL;
		r = -ENOMEM;
		goto out;
	}
	f = NULL;
	*out = TB_TAKE_PTR(buf);
out:
	free(buf);
	set_clear(&trees);
	set_clear(&files);
	return r;
}
