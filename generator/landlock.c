/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stage 2c: the model's file activity -> a Landlock ruleset (docs/landlock-format.md). Also the
 * table of trees both this and the AppArmor emitter grant as a whole instead of file by file.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "generator/internal.h"

/* Sorted by prefix. Library trees: a program loads from them whatever its imports pull in, and a
 * recording only saw one run's imports. */
static const struct tb_gen_tree trees[] = {
    {"/lib/aarch64-linux-gnu", "/{,usr/}lib/aarch64-linux-gnu", "shared libraries", true},
    {"/lib/x86_64-linux-gnu", "/{,usr/}lib/x86_64-linux-gnu", "shared libraries", true},
    {"/lib64", "/{,usr/}lib64", "the dynamic loader", true},
    {"/usr/lib/aarch64-linux-gnu", "/{,usr/}lib/aarch64-linux-gnu", "shared libraries", true},
    {"/usr/lib/locale", "/usr/lib/locale", "locales", false},
    {"/usr/lib/python3*", "/usr/lib/python3*", "the Python standard library and packages", true},
    {"/usr/lib/x86_64-linux-gnu", "/{,usr/}lib/x86_64-linux-gnu", "shared libraries", true},
    {"/usr/lib64", "/{,usr/}lib64", "the dynamic loader", true},
    {"/usr/local/lib/python3*", "/usr/local/lib/python3*", "locally installed Python packages",
     true},
    {"/usr/share/zoneinfo", "/usr/share/zoneinfo", "time zones", false},
};

const struct tb_gen_tree *tb_gen_trees(size_t *n)
{
	*n = TB_ARRAY_SIZE(trees);
	return trees;
}

size_t tb_gen_tree_match(const struct tb_gen_tree *t, const char *path)
{
	const char *pp = t->prefix, *p = path;

	/* Walk component by component; a '*' ending a prefix component matches any suffix. */
	while (*pp) {
		if (*pp == '*') {
			while (*p && *p != '/')
				p++;
			pp++;
			continue;
		}
		if (*pp != *p)
			return 0;
		pp++;
		p++;
	}
	/* Strictly beneath: a tree root is a directory, "/usr/lib/python311.zip" is not one. */
	if (*p != '/')
		return 0;
	return (size_t)(p - path);
}

/* The tree @path lies beneath, with the concrete root copied to @root. */
static const struct tb_gen_tree *tree_of(const char *path, char *root, size_t size)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(trees); i++) {
		size_t n = tb_gen_tree_match(&trees[i], path);

		if (n && n < size) {
			memcpy(root, path, n);
			root[n] = '\0';
			return &trees[i];
		}
	}
	return NULL;
}

static bool beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

static int parent_of(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash)
		return -EINVAL;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(out, path, n);
	out[n] = '\0';
	return 0;
}

#define FILE_RW (TB_LL_FS_READ_FILE | TB_LL_FS_WRITE_FILE | TB_LL_FS_TRUNCATE)

static int file_rules(struct tb_ll_ruleset *rs, const char *path, unsigned ok)
{
	const struct tb_gen_tree *t;
	char root[4096];
	uint64_t acc = 0, parent_acc = 0;
	int r;

	if (path[0] != '/')
		return 0;
	/* Scratch space and /proc are granted as a whole below. */
	if (beneath(path, "/tmp") || beneath(path, "/proc") || beneath(path, "/dev/shm"))
		return 0;
	if ((t = tree_of(path, root, sizeof(root)))) {
		acc = TB_LL_FS_READ;
		/* The kernel opens the ELF interpreter for execute access on every execve. */
		if ((ok & TB_FOP_EXEC) || t->libraries)
			acc |= TB_LL_FS_EXECUTE;
		return tb_ll_ruleset_add(rs, root, acc);
	}
	if (ok & (TB_FOP_READ | TB_FOP_MMAP_EXEC))
		acc |= TB_LL_FS_READ_FILE;
	if (ok & TB_FOP_READDIR)
		acc |= TB_LL_FS_READ_DIR; /* only ever recorded for directories */
	if (ok & TB_FOP_EXEC)
		acc |= TB_LL_FS_EXECUTE | TB_LL_FS_READ_FILE;
	if (ok & TB_FOP_WRITE)
		acc |= TB_LL_FS_WRITE_FILE | TB_LL_FS_TRUNCATE;
	if (ok & TB_FOP_CREATE)
		parent_acc |= TB_LL_FS_MAKE_REG | FILE_RW;
	if (ok & TB_FOP_DELETE)
		parent_acc |= TB_LL_FS_REMOVE_FILE;
	if (ok & TB_FOP_RENAME)
		parent_acc |= TB_LL_FS_REFER | TB_LL_FS_MAKE_REG | TB_LL_FS_REMOVE_FILE;
	/* Created, deleted or renamed files are granted through their directory: the file itself
	 * does not exist when the ruleset is built. */
	if (parent_acc) {
		r = parent_of(path, root, sizeof(root));
		if (r < 0)
			return 0;
		r = tb_ll_ruleset_add(rs, root, parent_acc);
		if (r < 0)
			return r;
	} else if (acc) {
		return tb_ll_ruleset_add(rs, path, acc);
	}
	return 0;
}

int tb_gen_landlock(const struct tb_gen_model *m, struct tb_ll_ruleset **out)
{
	static const struct {
		const char *path;
		uint64_t access;
	} always[] = {
	    /* Every program may write to /dev/null and read randomness; shells truncate it. */
	    {"/dev/full", TB_LL_FS_READ_FILE | TB_LL_FS_WRITE_FILE},
	    {"/dev/null", FILE_RW},
	    {"/dev/random", TB_LL_FS_READ_FILE},
	    {"/dev/urandom", TB_LL_FS_READ_FILE},
	    {"/dev/zero", TB_LL_FS_READ_FILE},
	    /* The sandbox's writable tmpfs: everything but device nodes. */
	    {"/tmp",
	     TB_LL_FS_READ | (TB_LL_FS_WRITE & ~(TB_LL_FS_MAKE_CHAR | TB_LL_FS_MAKE_BLOCK))},
	};
	const struct tb_recording *rec = m->merged;
	struct tb_ll_ruleset *rs = tb_ll_ruleset_new();
	bool proc = false, shm = false, inet = false;
	int r = 0;

	if (!rs)
		return -ENOMEM;
	rs->handled_fs = TB_LL_FS_ALL;
	for (size_t i = 0; r == 0 && i < TB_ARRAY_SIZE(always); i++)
		r = tb_ll_ruleset_add(rs, always[i].path, always[i].access);
	for (size_t i = 0; r == 0 && i < rec->n_files; i++) {
		proc |= beneath(rec->files[i].path, "/proc") && rec->files[i].ok;
		shm |= beneath(rec->files[i].path, "/dev/shm") && rec->files[i].ok;
		r = file_rules(rs, rec->files[i].path, rec->files[i].ok);
	}
	for (size_t i = 0; r == 0 && rec->executables && rec->executables[i]; i++)
		r = file_rules(rs, rec->executables[i], TB_FOP_EXEC);
	/* /proc/self is a different directory for every process: grant reading /proc. */
	if (r == 0 && proc)
		r = tb_ll_ruleset_add(rs, "/proc", TB_LL_FS_READ);
	/* POSIX semaphores and shared memory (multiprocessing) live in /dev/shm. */
	if (r == 0 && shm)
		r = tb_ll_ruleset_add(rs, "/dev/shm", TB_LL_FS_READ | TB_LL_FS_WRITE);
	if (r < 0) {
		tb_ll_ruleset_free(rs);
		return r;
	}
	for (size_t i = 0; rec->network_families && rec->network_families[i]; i++)
		inet |= !strcmp(rec->network_families[i], "AF_INET") ||
			!strcmp(rec->network_families[i], "AF_INET6");
	/* No TCP at all unless a recording used IP sockets (the recording does not know ports). */
	rs->restrict_net = !inet;
	rs->scope_signal = true;
	rs->scope_abstract_unix = true;
	*out = rs;
	return 0;
}
