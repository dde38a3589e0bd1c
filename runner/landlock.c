/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Landlock, applied in the sandbox child after no_new_privs. Best effort across ABI versions: access
 * rights the kernel does not know are dropped from the ruleset instead of failing, as the Landlock
 * documentation recommends, so one ruleset works on every kernel from 5.13 on.
 *
 * The default ruleset (no --security-opt landlock=FILE) mirrors the mounts: read everywhere,
 * write only beneath the writable mounts, execute only where nothing is writable, no signals or
 * abstract unix sockets outside the sandbox, and (ABI 9) no connect to a socket file the sandbox
 * did not create: the right is handled and granted nowhere, so a host socket inside a volume
 * stays unreachable while the sandbox's own sockets (same Landlock domain) work. No mount flag can
 * do this: connect needs only write permission on the socket inode, which a read-only mount
 * does not remove.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/util.h"
#include "runner/internal.h"

/* UAPI values newer than Debian 12's linux-libc-dev (kernel 6.1 headers). */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
/* ABI 9: connect()/sendmsg() to a pathname unix socket needs this right on the socket's path. */
#ifndef LANDLOCK_ACCESS_FS_RESOLVE_UNIX
#define LANDLOCK_ACCESS_FS_RESOLVE_UNIX (1ULL << 16)
#endif
#define TB_LL_RULE_NET_PORT 2
#define TB_LL_NET_BIND_TCP (1ULL << 0)
#define TB_LL_NET_CONNECT_TCP (1ULL << 1)
#define TB_LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define TB_LL_SCOPE_SIGNAL (1ULL << 1)

/* struct landlock_ruleset_attr as of ABI 6; older kernels get a shorter size. */
struct tb_ll_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct tb_ll_net_port {
	uint64_t allowed_access;
	uint64_t port;
};

#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_WRITE                                                                                   \
	(LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |                           \
	 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | \
	 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM |  \
	 LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE)

static uint64_t fs_mask_for_abi(int abi)
{
	uint64_t m = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */

	if (abi >= 2)
		m |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		m |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		m |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	if (abi >= 9)
		m |= LANDLOCK_ACCESS_FS_RESOLVE_UNIX;
	return m;
}

int tb_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return v > 0 ? (int)v : 0;
}

static int add_path(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	struct landlock_path_beneath_attr pb = {0};
	_cleanup_close_ int fd = -1;
	struct stat st;

	access &= handled;
	if (!access)
		return 0;
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : tb_negerrno(); /* rules for absent paths are moot */
	if (fstat(fd, &st) < 0)
		return tb_negerrno();
	/* Directory-only rights on a file make the kernel refuse the rule. */
	if (!S_ISDIR(st.st_mode))
		access &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
			  LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
			  LANDLOCK_ACCESS_FS_IOCTL_DEV;
	pb.allowed_access = access;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
		return tb_negerrno();
	return 0;
}

static bool is_writable_mount(const struct tb_run_config *c, const char *path)
{
	if (tb_workdir_wanted(c) && !strcmp(path, "/sandbox"))
		return true;
	for (size_t i = 0; i < c->n_tmpfs; i++)
		if (!strcmp(c->tmpfs[i].path, path))
			return true;
	for (size_t i = 0; i < c->n_volumes; i++)
		if (c->volumes[i].rw && !strcmp(c->volumes[i].dst, path))
			return true;
	return false;
}

struct exec_ctx {
	int rs;
	const struct tb_run_config *c;
	uint64_t handled;
};

static int add_exec_rule(const char *name, unsigned char type, void *data)
{
	struct exec_ctx *e = data;
	char path[300];

	if (name[0] == '.' || !strcmp(name, "dev") || !strcmp(name, "proc") || !strcmp(name, "sys"))
		return 0;
	/* Not through a top-level symlink (bin -> usr/bin): its target lies beneath another
	 * top-level entry, which has a rule of its own when it may have one, and the link's name
	 * must not grant execute beneath a writable or virtual mount it points into. Five rules
	 * (20 syscalls) fewer on a merged-/usr system. */
	if (type == DT_LNK)
		return 0;
	snprintf(path, sizeof(path), "/%s", name);
	if (is_writable_mount(e->c, path))
		return 0;
	return add_path(e->rs, path, LANDLOCK_ACCESS_FS_EXECUTE, e->handled);
}

static int add_default_rules(int rs, const struct tb_run_config *c, uint64_t handled)
{
	static const char *const devs[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random",
					   "/dev/urandom"};
	int r;

	if ((r = add_path(rs, "/", FS_READ, handled)) < 0)
		return r;
	/* Execute beneath each top-level directory that is not a writable or virtual mount. */
	{
		struct exec_ctx ec = {.rs = rs, .c = c, .handled = handled};

		if ((r = tb_for_each_dirent("/", add_exec_rule, &ec)) < 0)
			return r;
	}
	for (size_t i = 0; i < c->n_tmpfs; i++) {
		uint64_t acc = FS_READ | ((c->tmpfs[i].flags & MS_RDONLY) ? 0 : FS_WRITE) |
			       ((c->tmpfs[i].flags & MS_NOEXEC) ? 0 : LANDLOCK_ACCESS_FS_EXECUTE);

		if ((r = add_path(rs, c->tmpfs[i].path, acc, handled)) < 0)
			return r;
	}
	for (size_t i = 0; i < c->n_volumes; i++)
		if (c->volumes[i].rw && (r = add_path(rs, c->volumes[i].dst, FS_READ | FS_WRITE, handled)) < 0)
			return r;
	/* The working directory: writable, never executable (its tmpfs is noexec too). */
	if (tb_workdir_wanted(c) && (r = add_path(rs, "/sandbox", FS_READ | FS_WRITE, handled)) < 0)
		return r;
	if (c->shm_size && (r = add_path(rs, "/dev/shm", FS_READ | FS_WRITE, handled)) < 0)
		return r;
	for (size_t i = 0; i < TB_ARRAY_SIZE(devs); i++)
		if ((r = add_path(rs, devs[i],
				  LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
					  LANDLOCK_ACCESS_FS_IOCTL_DEV,
				  handled)) < 0)
			return r;
	return 0;
}

void tb_landlock_unenforced(const struct tb_ll_ruleset *rs, int abi, char *buf, size_t len)
{
	/* The built-in ruleset handles every right and both scopes (add_default_rules). */
	const uint64_t fs = rs ? rs->handled_fs : ~0ULL;
	const struct {
		bool wanted;
		int abi;
		const char *what;
	} parts[] = {
		{fs & LANDLOCK_ACCESS_FS_REFER, 2, "refer"},
		{fs & LANDLOCK_ACCESS_FS_TRUNCATE, 3, "truncate"},
		{rs && rs->restrict_net, 4, "tcp bind/connect rules"},
		{fs & LANDLOCK_ACCESS_FS_IOCTL_DEV, 5, "ioctl_dev"},
		{!rs || rs->scope_signal, 6, "signal scope"},
		{!rs || rs->scope_abstract_unix, 6, "abstract_unix_socket scope"},
	};
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < TB_ARRAY_SIZE(parts) && used < len; i++) {
		int n;

		if (!parts[i].wanted || abi >= parts[i].abi)
			continue;
		n = snprintf(buf + used, len - used, "%s%s (ABI %d)", used ? ", " : "", parts[i].what,
			     parts[i].abi);
		used = n < 0 ? len : used + (size_t)n;
	}
}

int tb_landlock_apply(const struct tb_run_config *c, const struct tb_ll_ruleset *rs, int abi)
{
	struct tb_ll_attr attr = {0};
	size_t attr_size = abi >= 6 ? sizeof(attr) : abi >= 4 ? 16 : 8;
	uint64_t handled;
	_cleanup_close_ int fd = -1;
	int r;

	handled = (rs ? rs->handled_fs : ~0ULL) & fs_mask_for_abi(abi);
	attr.handled_access_fs = handled;
	if (abi >= 4 && rs && rs->restrict_net)
		attr.handled_access_net = TB_LL_NET_BIND_TCP | TB_LL_NET_CONNECT_TCP;
	if (abi >= 6 && (!rs || rs->scope_signal))
		attr.scoped |= TB_LL_SCOPE_SIGNAL;
	if (abi >= 6 && (!rs || rs->scope_abstract_unix))
		attr.scoped |= TB_LL_SCOPE_ABSTRACT_UNIX;
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
	if (fd < 0)
		return tb_negerrno();
	if (!rs) {
		r = add_default_rules(fd, c, handled);
	} else {
		r = 0;
		for (size_t i = 0; i < rs->n_rules && r == 0; i++)
			r = add_path(fd, rs->rules[i].path, rs->rules[i].access, handled);
		for (size_t i = 0; attr.handled_access_net && i < rs->n_bind_ports && r == 0; i++) {
			struct tb_ll_net_port np = {TB_LL_NET_BIND_TCP, rs->bind_ports[i]};

			if (syscall(SYS_landlock_add_rule, fd, TB_LL_RULE_NET_PORT, &np, 0) < 0)
				r = tb_negerrno();
		}
		for (size_t i = 0; attr.handled_access_net && i < rs->n_connect_ports && r == 0; i++) {
			struct tb_ll_net_port np = {TB_LL_NET_CONNECT_TCP, rs->connect_ports[i]};

			if (syscall(SYS_landlock_add_rule, fd, TB_LL_RULE_NET_PORT, &np, 0) < 0)
				r = tb_negerrno();
		}
	}
	if (r < 0)
		return r;
	if (syscall(SYS_landlock_restrict_self, fd, 0) < 0)
		return tb_negerrno();
	return 0;
}
