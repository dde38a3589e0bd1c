/* SPDX-License-Identifier: Apache-2.0 */
#include "core/arch.h"

#include <linux/audit.h>
#include <seccomp.h>
#include <string.h>

#include "core/util.h"

/*
 * The OCI runtime spec (config-linux.md) names some arches newer than the libseccomp we link:
 * they still parse in profiles, with token 0 (compiling a filter for them only warns).
 */
#ifndef SCMP_ARCH_LOONGARCH64
#define SCMP_ARCH_LOONGARCH64 0
#endif
#ifndef SCMP_ARCH_M68K
#define SCMP_ARCH_M68K 0
#endif
#ifndef SCMP_ARCH_SH
#define SCMP_ARCH_SH 0
#endif
#ifndef SCMP_ARCH_SHEB
#define SCMP_ARCH_SHEB 0
#endif

#define A(n, l, s, go, alias, par, tok, audit, bit, clone)                                        \
	{.name = (n), .label = (l), .scmp = (s), .goarch = (go), .goalias = (alias),              \
	 .parent = (par), .token = (tok), .audit_arch = (audit), .nr_bit = (bit),                 \
	 .clone_flags_index = (clone)}

/* Sorted by name (the unit test checks it). */
static const struct tb_arch arches[] = {
	A("aarch64", "aarch64", "SCMP_ARCH_AARCH64", "arm64", NULL, NULL, SCMP_ARCH_AARCH64,
	  AUDIT_ARCH_AARCH64, 0, 0),
	A("arm", "arm", "SCMP_ARCH_ARM", "arm", NULL, "aarch64", SCMP_ARCH_ARM, AUDIT_ARCH_ARM, 0, 0),
	A("loongarch64", "loongarch64", "SCMP_ARCH_LOONGARCH64", "loong64", NULL, NULL,
	  SCMP_ARCH_LOONGARCH64, AUDIT_ARCH_LOONGARCH64, 0, 0),
	A("m68k", "m68k", "SCMP_ARCH_M68K", NULL, NULL, NULL, SCMP_ARCH_M68K, AUDIT_ARCH_M68K, 0, 0),
	A("mips", "mips", "SCMP_ARCH_MIPS", "mips", NULL, NULL, SCMP_ARCH_MIPS, AUDIT_ARCH_MIPS, 0, 0),
	A("mips64", "mips64", "SCMP_ARCH_MIPS64", "mips64", NULL, NULL, SCMP_ARCH_MIPS64,
	  AUDIT_ARCH_MIPS64, 0, 0),
	A("mips64n32", "mips64n32", "SCMP_ARCH_MIPS64N32", NULL, NULL, NULL, SCMP_ARCH_MIPS64N32,
	  AUDIT_ARCH_MIPS64N32, 0, 0),
	A("mipsel", "mipsel", "SCMP_ARCH_MIPSEL", "mipsle", NULL, NULL, SCMP_ARCH_MIPSEL,
	  AUDIT_ARCH_MIPSEL, 0, 0),
	A("mipsel64", "mipsel64", "SCMP_ARCH_MIPSEL64", "mips64le", NULL, NULL, SCMP_ARCH_MIPSEL64,
	  AUDIT_ARCH_MIPSEL64, 0, 0),
	A("mipsel64n32", "mipsel64n32", "SCMP_ARCH_MIPSEL64N32", NULL, NULL, NULL,
	  SCMP_ARCH_MIPSEL64N32, AUDIT_ARCH_MIPSEL64N32, 0, 0),
	A("parisc", "parisc", "SCMP_ARCH_PARISC", NULL, NULL, NULL, SCMP_ARCH_PARISC,
	  AUDIT_ARCH_PARISC, 0, 0),
	A("parisc64", "parisc64", "SCMP_ARCH_PARISC64", NULL, NULL, NULL, SCMP_ARCH_PARISC64,
	  AUDIT_ARCH_PARISC64, 0, 0),
	A("ppc", "ppc", "SCMP_ARCH_PPC", "ppc", NULL, "ppc64", SCMP_ARCH_PPC, AUDIT_ARCH_PPC, 0, 0),
	A("ppc64", "ppc64", "SCMP_ARCH_PPC64", "ppc64", NULL, NULL, SCMP_ARCH_PPC64, AUDIT_ARCH_PPC64,
	  0, 0),
	A("ppc64le", "ppc64le", "SCMP_ARCH_PPC64LE", "ppc64le", NULL, NULL, SCMP_ARCH_PPC64LE,
	  AUDIT_ARCH_PPC64LE, 0, 0),
	A("riscv64", "riscv64", "SCMP_ARCH_RISCV64", "riscv64", NULL, NULL, SCMP_ARCH_RISCV64,
	  AUDIT_ARCH_RISCV64, 0, 0),
	/* s390 passes clone's stack first and its flags second. */
	A("s390", "s390", "SCMP_ARCH_S390", "s390", NULL, "s390x", SCMP_ARCH_S390, AUDIT_ARCH_S390, 0,
	  1),
	A("s390x", "s390x", "SCMP_ARCH_S390X", "s390x", NULL, NULL, SCMP_ARCH_S390X,
	  AUDIT_ARCH_S390X, 0, 1),
	A("sh", "sh", "SCMP_ARCH_SH", NULL, NULL, NULL, SCMP_ARCH_SH, AUDIT_ARCH_SHEL, 0, 0),
	A("sheb", "sheb", "SCMP_ARCH_SHEB", NULL, NULL, NULL, SCMP_ARCH_SHEB, AUDIT_ARCH_SH, 0, 0),
	/* x32 shares x86_64's audit arch; its numbers carry a bit instead. Docker spells it "x32". */
	A("x32", "x32", "SCMP_ARCH_X32", "x32", NULL, "x86_64", SCMP_ARCH_X32, AUDIT_ARCH_X86_64,
	  TB_ARCH_X32_BIT, 0),
	/* The kernel, strace and recordings call it i386; Docker's profile also says "x86". */
	A("x86", "i386", "SCMP_ARCH_X86", "386", "x86", "x86_64", SCMP_ARCH_X86, AUDIT_ARCH_I386, 0,
	  0),
	A("x86_64", "x86_64", "SCMP_ARCH_X86_64", "amd64", NULL, NULL, SCMP_ARCH_X86_64,
	  AUDIT_ARCH_X86_64, 0, 0),
};
#undef A

const struct tb_arch *tb_arch_all(size_t *n)
{
	*n = TB_ARRAY_SIZE(arches);
	return arches;
}

const struct tb_arch *tb_arch_by_token(uint32_t token)
{
	for (size_t i = 0; token && i < TB_ARRAY_SIZE(arches); i++)
		if (arches[i].token == token)
			return &arches[i];
	return NULL;
}

const struct tb_arch *tb_arch_by_name(const char *name)
{
	for (size_t i = 0; name && i < TB_ARRAY_SIZE(arches); i++)
		if (!strcmp(arches[i].name, name) || !strcmp(arches[i].label, name))
			return &arches[i];
	return NULL;
}

const struct tb_arch *tb_arch_by_scmp(const char *scmp)
{
	for (size_t i = 0; scmp && i < TB_ARRAY_SIZE(arches); i++)
		if (!strcmp(arches[i].scmp, scmp))
			return &arches[i];
	return NULL;
}

const struct tb_arch *tb_arch_by_audit(uint32_t audit_arch, uint64_t nr)
{
	const struct tb_arch *plain = NULL;

	/* Arches sharing an audit arch differ by a bit in the number (x32 within x86_64). */
	for (size_t i = 0; i < TB_ARRAY_SIZE(arches); i++) {
		const struct tb_arch *a = &arches[i];

		if (a->audit_arch != audit_arch)
			continue;
		if (a->nr_bit && (nr & a->nr_bit))
			return a;
		if (!a->nr_bit)
			plain = a;
	}
	return plain;
}

const struct tb_arch *tb_arch_native(void)
{
	return tb_arch_by_token(seccomp_arch_native());
}

const char *tb_arch_label(uint32_t token)
{
	const struct tb_arch *a = tb_arch_by_token(token);

	return a ? a->label : "unknown";
}

bool tb_arch_is_compat_of(uint32_t parent, uint32_t token)
{
	const struct tb_arch *p = tb_arch_by_token(parent), *a = tb_arch_by_token(token);

	return p && a && a->parent && !strcmp(a->parent, p->name);
}

bool tb_arch_goarch_known(const char *go)
{
	for (size_t i = 0; go && i < TB_ARRAY_SIZE(arches); i++)
		if ((arches[i].goarch && !strcmp(arches[i].goarch, go)) ||
		    (arches[i].goalias && !strcmp(arches[i].goalias, go)))
			return true;
	return false;
}
