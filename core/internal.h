/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core/'s own declarations: functions of one core file that no other file of the tree calls, for
 * that file and its unit tests (and fuzzers). Other folders use the module headers (core/NAME.h);
 * scripts/check-boundaries keeps what only one file uses out of them.
 */
#ifndef TB_CORE_INTERNAL_H
#define TB_CORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/recording.h"
#include "core/landlock-ruleset.h"
#include "core/syscall-groups.h"
#include "core/syscall-specs.h"
#include "core/parse.h"

/* ---- core/recording.c (core/recording.h) ---- */

/* Name of a file op bit ("read", "mmap-exec", ...), NULL for unknown bits. */
const char *tb_file_op_name(unsigned op);

/* Adds @workload to the workloads of syscall @name (created with count 0 when absent). */
int tb_recording_add_syscall_workload(struct tb_recording *r, const char *arch, const char *name,
				      const char *workload);

/* The entry of file @path, NULL when absent. */
const struct tb_rec_file *tb_recording_file(const struct tb_recording *r, const char *path);

/* ---- core/landlock-ruleset.c (core/landlock-ruleset.h) ---- */

/* The format's name of one access bit ("read_file"), NULL when @bit is not a single known bit. */
const char *tb_ll_access_name(uint64_t bit);

/* Parses JSON text (@name is used in diagnostics). */
int tb_ll_ruleset_parse(const char *text, size_t len, const char *name, struct tb_ll_ruleset **out,
			struct tb_diag *diag);

/* ---- core/syscall-groups.c (core/syscall-groups.h) ---- */

/* The group called @name ("@ipc"), or NULL. */
const struct tb_syscall_group *tb_syscall_group_lookup(const char *name);

/*
 * Whether @syscall belongs to the group @name, directly or through nested groups. False for
 * unknown groups. Cycles in the table are a bug the unit test rules out.
 */
bool tb_syscall_group_contains(const char *name, const char *syscall);

/* ---- core/syscall-specs.c (core/syscall-specs.h) ---- */

/* The spec of syscall @name, NULL when the recorders take nothing from it but its count. */
const struct tb_syscall_spec *tb_syscall_spec_find(const char *name);

/* ---- core/parse.c (core/parse.h) ---- */

/* Name of an RLIMIT_* resource as --ulimit spells it ("nofile"), NULL when unknown. */
const char *tb_ulimit_name(int resource);

#endif
