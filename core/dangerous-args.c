/* SPDX-License-Identifier: Apache-2.0 */
/* The dangerous argument values (core/dangerous-args.h). Data: values are the kernel's uapi. */
#include "core/dangerous-args.h"

#include <string.h>

#include "core/util.h"

#define NS(flag, bit)                                                                              \
	{                                                                                          \
		"clone", TB_DARG_CLONE_NS, 0, bit, bit, flag,                                      \
		    "new namespaces are the sandbox's job"                                         \
	}
#define FAMILY(af, nr, why)                                                                        \
	{                                                                                          \
		"socket", TB_DARG_SOCKET_FAMILY, 0, 0xffffffffu, nr, af, why                       \
	}

static const struct tb_dangerous_arg table[] = {
    NS("CLONE_NEWNS", 0x00020000),
    NS("CLONE_NEWCGROUP", 0x02000000),
    NS("CLONE_NEWUTS", 0x04000000),
    NS("CLONE_NEWIPC", 0x08000000),
    NS("CLONE_NEWUSER", 0x10000000),
    NS("CLONE_NEWPID", 0x20000000),
    NS("CLONE_NEWNET", 0x40000000),
    {"ioctl", TB_DARG_IOCTL, 1, 0xffffffffu, 0x5412, "TIOCSTI",
     "injects input into the controlling terminal"},
    {"ioctl", TB_DARG_IOCTL, 1, 0xffffffffu, 0x541C, "TIOCLINUX",
     "console selection can inject input"},
    FAMILY("AF_KEY", 15, "IPsec key management: a kernel-facing surface"),
    FAMILY("AF_NETLINK", 16, "talks to kernel subsystems directly"),
    FAMILY("AF_PACKET", 17, "raw link-layer access"),
    FAMILY("AF_ALG", 38, "the kernel crypto API: a history of kernel bugs"),
    FAMILY("AF_VSOCK", 40, "a host-only transport to the hypervisor"),
    FAMILY("AF_XDP", 44, "raw frames from network devices"),
};

const struct tb_dangerous_arg *tb_dangerous_args(size_t *n)
{
	*n = TB_ARRAY_SIZE(table);
	return table;
}

const struct tb_dangerous_arg *tb_dangerous_arg_match(const char *syscall, const uint64_t args[6])
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(table); i++)
		if (!strcmp(table[i].syscall, syscall) &&
		    (args[table[i].index] & table[i].mask) == table[i].value)
			return &table[i];
	return NULL;
}

int tb_dangerous_arg_syscall(const char *syscall)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(table); i++)
		if (!strcmp(table[i].syscall, syscall))
			return 1;
	return 0;
}
