/* SPDX-License-Identifier: Apache-2.0 */
#include "tracer/bpf/bpf-spec.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* The program switches on these numbers: they are the table's. */
_Static_assert((int)TB_BPF_K_ARGS == (int)TB_SPEC_ARGS && (int)TB_BPF_K_CLONE3 == (int)TB_SPEC_CLONE3 &&
		       (int)TB_BPF_K_PATH == (int)TB_SPEC_PATH && (int)TB_BPF_K_OPEN == (int)TB_SPEC_OPEN &&
		       (int)TB_BPF_K_OPENAT2 == (int)TB_SPEC_OPENAT2 && (int)TB_BPF_K_EXEC == (int)TB_SPEC_EXEC &&
		       (int)TB_BPF_K_FD == (int)TB_SPEC_FD && (int)TB_BPF_K_MMAP == (int)TB_SPEC_MMAP,
	       "record.bpf.c's kinds differ from core/syscall-specs.h");

static __u8 arg(int i)
{
	return i == TB_SPEC_NOARG ? TB_BPF_NOARG : (__u8)i;
}

int tb_bpf_sysinfo_from_spec(const struct tb_syscall_spec *sp, struct tb_bpf_sysinfo *si)
{
	bool one_path = sp->path[1].path == TB_SPEC_NOARG;

	memset(si, 0, sizeof(*si));
	if (sp->argmask >= 1u << 6 || sp->lo32 & ~sp->argmask)
		return -EOPNOTSUPP;
	for (int s = 0; s < 2; s++) {
		if (sp->path[s].path > 5 || sp->path[s].dirfd > 5)
			return -EOPNOTSUPP;
		si->path_arg[s] = arg(sp->path[s].path);
		si->dirfd_arg[s] = arg(sp->path[s].dirfd);
	}
	si->aux_arg = TB_BPF_NOARG;
	switch (sp->kind) {
	case TB_SPEC_ARGS:
	case TB_SPEC_CLONE3:
		if (sp->path[0].path != TB_SPEC_NOARG)
			return -EOPNOTSUPP;
		break;
	case TB_SPEC_PATH:
		if (sp->path[0].path == TB_SPEC_NOARG)
			return -EOPNOTSUPP;
		break;
	case TB_SPEC_OPEN:
	case TB_SPEC_OPENAT2:
		/* The flags belong to path[0]; the program keeps one set. */
		if (!one_path || sp->flags_arg < 0 || sp->flags_arg > 5)
			return -EOPNOTSUPP;
		si->aux_arg = (__u8)sp->flags_arg;
		break;
	case TB_SPEC_EXEC:
		/* Read at entry into the task's one exec buffer. */
		if (!one_path || sp->path[0].path == TB_SPEC_NOARG)
			return -EOPNOTSUPP;
		break;
	case TB_SPEC_FD:
	case TB_SPEC_MMAP:
		/* The file comes from the fd; the MMAP test reads prot (a2) and flags (a3). */
		if (sp->path[0].path != TB_SPEC_NOARG || !one_path || sp->fd_arg < 0 || sp->fd_arg > 5)
			return -EOPNOTSUPP;
		si->aux_arg = (__u8)sp->fd_arg;
		break;
	}
	si->kind = (__u8)sp->kind;
	si->argmask = sp->argmask;
	si->lo32 = sp->lo32;
	if (sp->flags & TB_SPEC_EINVAL_OK)
		si->flags |= TB_BPF_SI_EINVAL_OK;
	return 0;
}
