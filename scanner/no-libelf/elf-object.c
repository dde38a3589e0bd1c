/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The build twin of scanner/elf/elf-object.c for builds without libelf (libelf-dev): every ELF
 * read fails with a clear reason, so `tightbox scan` says why it is unavailable while
 * `generate --scan` (which reads the JSON only) still works.
 */
#include <errno.h>
#include <string.h>

#include "scanner/internal.h"

void tb_elf_info_clear(struct tb_elf_info *e)
{
	if (e)
		memset(e, 0, sizeof(*e));
}

int tb_elf_read(const char *path, bool want_defined, bool want_sites, struct tb_elf_info *out,
		struct tb_diag *diag)
{
	(void)want_defined;
	(void)want_sites;
	(void)out;
	tb_diag_set(diag, path, 0, 0, NULL,
		    "tightbox was built without libelf (libelf-dev): scan is unavailable");
	return -ENOTSUP;
}
