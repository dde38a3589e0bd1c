/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dangerous-syscall table. Data, not code: sorted by name (tb_dangerous_lookup bisects it and
 * tests/unit/test-audit.c checks the order, uniqueness and that every name resolves on x86_64 or
 * aarch64 through libseccomp).
 *
 * Severity: high = a known path to escape the sandbox, read other processes or attack the kernel
 * through a large, often-exploited surface; medium = changes shared state or leaks host
 * information; low = legacy or rarely useful, worth denying but not an escape on its own.
 */
#include "core/dangerous.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define HIGH TB_SEV_HIGH
#define MEDIUM TB_SEV_MEDIUM
#define LOW TB_SEV_LOW

#define FIX_DENY "deny it (remove it from the allowed names; tightbox generate emits EPERM)"
#define FIX_MOUNT "deny it: filesystems are set up by the sandbox before the workload starts"
#define FIX_CLOCK "deny it: the clock is shared with the host"
/* Reasons and fixes several entries share. */
#define WHY_KEYRING "the kernel keyring is not namespaced and is a frequent source of kernel bugs"
#define WHY_MODULE "loads kernel modules: arbitrary code in the kernel"
#define WHY_IO_URING                                                                               \
	"io_uring runs I/O that seccomp never sees and has been a leading source of kernel exploits"
#define WHY_KEXEC "loads a new kernel to boot into"
#define WHY_QUOTA "manipulates filesystem quotas of the host filesystem"
#define WHY_UMOUNT "unmounts filesystems: can reveal what the sandbox hid"
#define WHY_VM86 "enters virtual 8086 mode (i386 only)"
#define FIX_NUMA "deny it unless a NUMA-aware workload needs it"

static const struct tb_dangerous table[] = {
	{"acct", MEDIUM, "switches process accounting to a file of the caller's choosing", FIX_DENY},
	{"add_key", HIGH, WHY_KEYRING, FIX_DENY},
	{"adjtimex", MEDIUM, "can change the host clock's frequency (with CAP_SYS_TIME)", FIX_CLOCK},
	{"bpf", HIGH,
	 "loads eBPF programs and maps: a large kernel attack surface and a way to read kernel memory",
	 FIX_DENY},
	{"chroot", MEDIUM, "changes the root directory; combined with other bugs a classic escape step",
	 FIX_MOUNT},
	{"clock_adjtime", MEDIUM, "can adjust the host clock (with CAP_SYS_TIME)", FIX_CLOCK},
	{"clock_settime", MEDIUM, "can set the host clock (with CAP_SYS_TIME)", FIX_CLOCK},
	{"create_module", LOW, "obsolete module loading interface (removed in Linux 2.6)", FIX_DENY},
	{"delete_module", HIGH, "unloads kernel modules", FIX_DENY},
	{"fanotify_init", MEDIUM, "watches file access across the whole mount or filesystem",
	 FIX_DENY},
	{"finit_module", HIGH, WHY_MODULE, FIX_DENY},
	{"fsconfig", HIGH, "configures a new mount (new mount API)", FIX_MOUNT},
	{"fsmount", HIGH, "creates a mount (new mount API)", FIX_MOUNT},
	{"fsopen", HIGH, "opens a filesystem context for mounting (new mount API)", FIX_MOUNT},
	{"fspick", HIGH, "reconfigures an existing mount (new mount API)", FIX_MOUNT},
	{"get_kernel_syms", LOW, "obsolete: lists kernel symbols", FIX_DENY},
	{"init_module", HIGH, WHY_MODULE, FIX_DENY},
	{"io_uring_enter", HIGH, WHY_IO_URING, FIX_DENY},
	{"io_uring_register", HIGH, WHY_IO_URING, FIX_DENY},
	{"io_uring_setup", HIGH, WHY_IO_URING, FIX_DENY},
	{"ioperm", HIGH, "grants direct access to I/O ports", FIX_DENY},
	{"iopl", HIGH, "raises the I/O privilege level: direct hardware access", FIX_DENY},
	{"kcmp", MEDIUM, "compares kernel objects of two processes: leaks kernel layout (KASLR)",
	 FIX_DENY},
	{"kexec_file_load", HIGH, WHY_KEXEC, FIX_DENY},
	{"kexec_load", HIGH, WHY_KEXEC, FIX_DENY},
	{"keyctl", HIGH, WHY_KEYRING, FIX_DENY},
	{"lookup_dcookie", LOW, "returns paths of directory entries (profiling interface)", FIX_DENY},
	{"mbind", LOW, "changes NUMA memory policy, can degrade other tenants' memory placement",
	 FIX_NUMA},
	{"migrate_pages", MEDIUM, "moves another process's pages between NUMA nodes", FIX_NUMA},
	{"modify_ldt", HIGH, "edits the x86 local descriptor table: a history of kernel exploits",
	 FIX_DENY},
	{"mount", HIGH, "mounts filesystems: with a user namespace, a path to hide or replace files",
	 FIX_MOUNT},
	{"mount_setattr", HIGH, "changes mount properties (read-only, idmapping, propagation)",
	 FIX_MOUNT},
	{"move_mount", HIGH, "attaches mounts (new mount API)", FIX_MOUNT},
	{"move_pages", MEDIUM, "moves pages of another process between NUMA nodes", FIX_DENY},
	{"name_to_handle_at", MEDIUM,
	 "produces file handles that open_by_handle_at can use to leave the mount (shocker)", FIX_DENY},
	{"nfsservctl", LOW, "obsolete NFS server control (removed in Linux 3.1)", FIX_DENY},
	{"open_by_handle_at", HIGH,
	 "opens files by handle, bypassing the mount namespace (the 'shocker' container escape)",
	 FIX_DENY},
	{"open_tree", HIGH, "clones mount trees (new mount API)", FIX_MOUNT},
	{"perf_event_open", HIGH,
	 "performance counters: side channels on other processes and a large kernel attack surface",
	 FIX_DENY},
	{"personality", LOW,
	 "changes the execution domain; some flags (READ_IMPLIES_EXEC) weaken memory protections",
	 "deny it, or allow only personality(0xffffffff) queries and PER_LINUX as Docker does"},
	{"pidfd_getfd", HIGH, "copies a file descriptor out of another process", FIX_DENY},
	{"pivot_root", HIGH, "changes the root mount", FIX_MOUNT},
	{"process_madvise", MEDIUM, "gives memory advice for another process", FIX_DENY},
	{"process_vm_readv", HIGH, "reads another process's memory", FIX_DENY},
	{"process_vm_writev", HIGH, "writes another process's memory", FIX_DENY},
	{"ptrace", HIGH,
	 "traces and rewrites other processes; also bypasses seccomp on kernels before 4.8", FIX_DENY},
	{"query_module", LOW, "obsolete: queries kernel modules", FIX_DENY},
	{"quotactl", MEDIUM, WHY_QUOTA, FIX_DENY},
	{"quotactl_fd", MEDIUM, WHY_QUOTA, FIX_DENY},
	{"reboot", HIGH, "reboots the machine or loads a kexec kernel", FIX_DENY},
	{"request_key", HIGH, WHY_KEYRING, FIX_DENY},
	{"setdomainname", MEDIUM, "changes the NIS domain name (host-wide without a UTS namespace)",
	 FIX_DENY},
	{"sethostname", MEDIUM, "changes the host name (host-wide without a UTS namespace)", FIX_DENY},
	{"setns", HIGH, "joins other namespaces", FIX_DENY},
	{"settimeofday", MEDIUM, "sets the host clock (with CAP_SYS_TIME)", FIX_CLOCK},
	{"swapoff", MEDIUM, "stops swapping to a device", FIX_DENY},
	{"swapon", MEDIUM, "starts swapping to a device", FIX_DENY},
	{"syslog", MEDIUM, "reads and clears the kernel log: leaks kernel addresses", FIX_DENY},
	{"umount", HIGH, WHY_UMOUNT, FIX_MOUNT},
	{"umount2", HIGH, WHY_UMOUNT, FIX_MOUNT},
	{"unshare", HIGH,
	 "creates namespaces: a user namespace gives every capability over new kernel surfaces",
	 FIX_DENY},
	{"uselib", LOW, "obsolete shared-library loader with a history of bugs", FIX_DENY},
	{"userfaultfd", HIGH,
	 "lets user space stall kernel page faults: a standard tool to win kernel race exploits",
	 FIX_DENY},
	{"ustat", LOW, "obsolete filesystem statistics", FIX_DENY},
	{"vhangup", MEDIUM, "hangs up the current terminal", FIX_DENY},
	{"vm86", MEDIUM, WHY_VM86, FIX_DENY},
	{"vm86old", MEDIUM, WHY_VM86, FIX_DENY},
};

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct tb_dangerous *)elem)->name);
}

const struct tb_dangerous *tb_dangerous_lookup(const char *name)
{
	return bsearch(name, table, TB_ARRAY_SIZE(table), sizeof(table[0]), cmp_name);
}

const struct tb_dangerous *tb_dangerous_table(size_t *n)
{
	*n = TB_ARRAY_SIZE(table);
	return table;
}

const char *tb_severity_name(enum tb_severity s)
{
	switch (s) {
	case TB_SEV_INFO:
		return "info";
	case TB_SEV_LOW:
		return "low";
	case TB_SEV_MEDIUM:
		return "medium";
	case TB_SEV_HIGH:
		return "high";
	}
	return "unknown";
}
