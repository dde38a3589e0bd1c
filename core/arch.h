/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one table of CPU architectures / syscall ABIs tightbox knows: how libseccomp, the kernel
 * (audit arch), recordings, OCI/Docker profiles and Go (moby's includes.arches) name each one,
 * and which 64-bit arch also runs it. Every module asks here; nothing else keeps arch facts.
 */
#ifndef TB_ARCH_H
#define TB_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tb_arch {
	const char *name;   /* libseccomp's name ("x86_64", "x86", "x32", "aarch64") */
	const char *label;  /* recordings' and reports' name: the kernel's "i386" for x86, else name */
	const char *scmp;   /* the OCI/Docker profile name ("SCMP_ARCH_X86_64") */
	const char *goarch; /* Go's name, which moby compares includes.arches with; NULL: none */
	const char *goalias; /* another name Docker's own profile uses ("x86" for 386); NULL: none */
	const char *parent;  /* libseccomp name of the 64-bit arch that also runs this ABI, or NULL */
	uint32_t token;	     /* SCMP_ARCH_*; 0 when the libseccomp tightbox links lacks it */
	uint32_t audit_arch; /* AUDIT_ARCH_*: seccomp_data.arch and PTRACE_GET_SYSCALL_INFO's arch */
	uint32_t nr_bit;     /* set in every syscall number of this ABI (x32's __X32_SYSCALL_BIT) */
	unsigned clone_flags_index; /* clone's flags argument: 1 on s390/s390x, 0 elsewhere */
};

/* x32 syscalls carry this bit in their number (the kernel's __X32_SYSCALL_BIT). */
#define TB_ARCH_X32_BIT 0x40000000u

/* Every known arch, sorted by name; *@n gets the count. The table is static: never freed. */
const struct tb_arch *tb_arch_all(size_t *n);

/* The arch of libseccomp token @token (SCMP_ARCH_*), NULL when unknown or 0. */
const struct tb_arch *tb_arch_by_token(uint32_t token);

/* The arch named @name: libseccomp's name or the label ("x86" and "i386" both work), else NULL. */
const struct tb_arch *tb_arch_by_name(const char *name);

/* The arch an OCI/Docker profile names "SCMP_ARCH_*" (@scmp), NULL when unknown. */
const struct tb_arch *tb_arch_by_scmp(const char *scmp);

/*
 * The ABI of a syscall stop that reported audit arch @audit_arch and number @nr (an x86_64 stop
 * whose number carries TB_ARCH_X32_BIT is x32). NULL when the table has no such arch.
 */
const struct tb_arch *tb_arch_by_audit(uint32_t audit_arch, uint64_t nr);

/* The arch tightbox runs on (libseccomp's native arch), NULL if the table lacks it. */
const struct tb_arch *tb_arch_native(void);

/* The label of @token ("i386" for SCMP_ARCH_X86), "unknown" when the table lacks it. */
const char *tb_arch_label(uint32_t token);

/* True when @parent (a token) also executes @token's syscalls (x86_64 runs x86 and x32). */
bool tb_arch_is_compat_of(uint32_t parent, uint32_t token);

/* True when @go is a name moby accepts in includes/excludes.arches (a Go arch or Docker alias). */
bool tb_arch_goarch_known(const char *go);

#endif
