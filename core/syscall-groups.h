/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Named syscall groups (systemd-style "@file-system", "@process", ...), defined as data in
 * core/syscall-groups.c. Leaf groups list syscall names and are disjoint, so every syscall has at
 * most one leaf group and `tightbox generate` can emit one rule per group. Composite groups only
 * nest other groups ("@system-service" = "@basic-io" + "@file-system" + ...).
 */
#ifndef TB_SYSCALL_GROUPS_H
#define TB_SYSCALL_GROUPS_H

#include <stdbool.h>
#include <stddef.h>

struct tb_syscall_group {
	const char *name;	     /* "@file-system" */
	const char *help;	     /* one line for summaries and rule comments */
	const char *const *syscalls; /* NULL-terminated, sorted; NULL for composite groups */
	const char *const *includes; /* NULL-terminated group names; NULL for leaf groups */
};

/* The whole table (leaf groups first, in emission order, then composites) and its length. */
const struct tb_syscall_group *tb_syscall_groups(size_t *n);

/* The leaf group that lists @syscall, or NULL when no group does. */
const struct tb_syscall_group *tb_syscall_group_of(const char *syscall);

#endif
