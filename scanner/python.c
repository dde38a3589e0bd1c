/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tightbox scan --python INTERPRETER`: the ELF objects an interpreter can load. The interpreter
 * itself (libpython comes in through its DT_NEEDED when it is shared), every extension module of
 * the standard library's lib-dynload, and the extension modules (*.so) beneath the site and dist
 * directories Debian's Python searches: PREFIX/lib/python3/dist-packages,
 * PREFIX/lib/pythonX.Y/{site,dist}-packages, PREFIX/local/lib/pythonX.Y/dist-packages. The
 * version comes from the interpreter's file name (python3.11), as Debian names it.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/strv.h"
#include "core/util.h"
#include "scanner/internal.h"

#define MAX_DEPTH 24

static bool is_extension(const char *name)
{
	size_t n = strlen(name);

	return n > 3 && !strcmp(name + n - 3, ".so");
}

static bool wanted_top(const char *name, const char *const *packages, size_t n)
{
	if (!packages)
		return true;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(packages[i]);

		/* numpy, numpy.libs, numpy.cpython-311-x86_64-linux-gnu.so */
		if (!strncmp(name, packages[i], l) && (name[l] == '\0' || name[l] == '.'))
			return true;
	}
	return false;
}

/* Adds every extension module beneath @dir (sorted later). Unreadable directories are skipped:
 * the interpreter could not import from them either. */
static int walk(const char *dir, int depth, bool top, const char *const *packages, size_t n_pk,
		char ***out)
{
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (depth > MAX_DEPTH || !(d = opendir(dir)))
		return 0;
	while (r == 0 && (de = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;

		if (de->d_name[0] == '.' || (top && !wanted_top(de->d_name, packages, n_pk)))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			r = walk(path, depth + 1, false, packages, n_pk, out);
		else if (S_ISREG(st.st_mode) && is_extension(de->d_name))
			r = tb_strv_add_sorted(out, path);
	}
	closedir(d);
	return r;
}

static int find_interp(const char *interp, char *real, struct tb_diag *diag)
{
	char cand[PATH_MAX];

	if (!strchr(interp, '/')) {
		const char *path = getenv("PATH");

		for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
			const char *e = strchrnul(p, ':');

			snprintf(cand, sizeof(cand), "%.*s/%s", (int)(e - p), p, interp);
			if (access(cand, X_OK) == 0 && realpath(cand, real))
				return 0;
			p = *e ? e + 1 : e;
		}
	} else if (realpath(interp, real) && access(real, X_OK) == 0) {
		return 0;
	}
	tb_diag_set(diag, interp, 0, 0, "--python", "no such interpreter");
	return -EINVAL;
}

int tb_scan_python_modules(const char *interp, const char *const *packages, size_t n_packages,
			   char ***out, struct tb_diag *diag)
{
	char real[PATH_MAX], prefix[PATH_MAX], ver[16], dir[PATH_MAX + 64];
	const char *base, *slash;
	char **mods = NULL;
	struct stat st;
	int r;

	r = find_interp(interp, real, diag);
	if (r < 0)
		return r;
	base = strrchr(real, '/') + 1;
	if (sscanf(base, "python%15[0-9.]", ver) != 1 || !strchr(ver, '.')) {
		tb_diag_set(
		    diag, real, 0, 0, "--python",
		    "cannot tell the Python version from the file name (expected pythonX.Y)");
		return -EINVAL;
	}
	/* PREFIX/bin/pythonX.Y -> PREFIX */
	snprintf(prefix, sizeof(prefix), "%.*s", (int)(base - 1 - real), real);
	slash = strrchr(prefix, '/');
	if (!slash) {
		tb_diag_set(diag, real, 0, 0, "--python", "the interpreter is not in PREFIX/bin");
		return -EINVAL;
	}
	prefix[slash - prefix] = '\0';
	snprintf(dir, sizeof(dir), "%s/lib/python%s/lib-dynload", prefix, ver);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		tb_diag_set(diag, real, 0, 0, "--python", "no lib-dynload directory at %s", dir);
		return -EINVAL;
	}
	r = tb_strv_add_sorted(&mods, real);
	if (r == 0)
		r = walk(dir, 0, false, NULL, 0, &mods);
	for (int i = 0; r == 0 && i < 4; i++) {
		if (i == 0)
			snprintf(dir, sizeof(dir), "%s/lib/python3/dist-packages", prefix);
		else if (i == 1)
			snprintf(dir, sizeof(dir), "%s/lib/python%s/site-packages", prefix, ver);
		else if (i == 2)
			snprintf(dir, sizeof(dir), "%s/lib/python%s/dist-packages", prefix, ver);
		else
			snprintf(dir, sizeof(dir), "%s/local/lib/python%s/dist-packages", prefix,
				 ver);
		r = walk(dir, 0, true, packages, n_packages, &mods);
	}
	if (r < 0) {
		tb_strv_free(mods);
		return r;
	}
	*out = mods;
	return 0;
}
