/* SPDX-License-Identifier: Apache-2.0 */
/* Snapshots of --profile-dir: read, validated with the profile parser, looked up by name. */
#include "serve/profiles.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "core/profile.h"
#include "core/util.h"

void tb_serve_profiles_free(struct tb_serve_profiles *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->items[i].name);
		free(p->items[i].text);
	}
	free(p->items);
	free(p);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct tb_serve_profile *)a)->name, ((const struct tb_serve_profile *)b)->name);
}

static int load_one(const char *dir, const char *file, struct tb_serve_profiles *set, struct tb_diag *d)
{
	char path[4096];
	struct tb_profile *prof = NULL;
	struct tb_serve_profile *items, *it;
	_cleanup_free_ char *text = NULL, *name = NULL;
	struct stat st;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	r = tb_read_file(path, 16 << 20, &text, &len);
	if (r < 0) {
		tb_diag_set(d, path, 0, 0, NULL, "cannot read the profile: %s", strerror(-r));
		return r;
	}
	r = tb_profile_parse(text, len, path, &prof, d);
	if (r < 0)
		return r;
	tb_profile_free(prof);
	if (!(name = strndup(file, strlen(file) - 5)))
		return -ENOMEM;
	items = realloc(set->items, (set->n + 1) * sizeof(*items));
	if (!items)
		return -ENOMEM;
	set->items = items;
	it = &items[set->n++];
	it->name = TB_TAKE_PTR(name);
	it->text = TB_TAKE_PTR(text);
	it->len = len;
	return 0;
}

int tb_serve_profiles_load(const char *dir, struct tb_serve_profiles **out, struct tb_diag *d)
{
	struct tb_serve_profiles *set = calloc(1, sizeof(*set));
	DIR *dh;
	struct dirent *e;
	int r = 0;

	if (!set)
		return -ENOMEM;
	if (!dir) {
		*out = set;
		return 0;
	}
	dh = opendir(dir);
	if (!dh) {
		r = tb_negerrno();
		tb_diag_set(d, dir, 0, 0, "--profile-dir", "%s", strerror(-r));
		tb_serve_profiles_free(set);
		return r;
	}
	while ((e = readdir(dh))) {
		size_t n = strlen(e->d_name);

		if (n <= 5 || e->d_name[0] == '.' || strcmp(e->d_name + n - 5, ".json") != 0)
			continue;
		if ((r = load_one(dir, e->d_name, set, d)) < 0)
			break;
	}
	closedir(dh);
	if (r < 0) {
		tb_serve_profiles_free(set);
		return r;
	}
	if (set->n)
		qsort(set->items, set->n, sizeof(*set->items), by_name);
	*out = set;
	return 0;
}

const struct tb_serve_profile *tb_serve_profiles_find(const struct tb_serve_profiles *p, const char *name)
{
	struct tb_serve_profile key = {.name = (char *)name};

	if (!p || !p->n)
		return NULL;
	return bsearch(&key, p->items, p->n, sizeof(*p->items), by_name);
}
