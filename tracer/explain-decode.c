/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Argument decoder for `tightbox explain`: turns a denied call's raw registers into
 * "mount("none", "/mnt", "tmpfs", MS_NOSUID|MS_NODEV, NULL)". Signatures are keyed by the syscall
 * name libseccomp gave, so every arch shares one table; syscalls not listed print hex arguments.
 */
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <termios.h>
#include <sys/ioctl.h>

#include "core/util.h"
#include "tracer/explain.h"
#include "tracer/internal.h"
#include "tracer/ptrace-supervisor.h"

enum tb_argk {
	A_NONE = 0, /* end of the signature */
	A_INT,
	A_I32, /* int-sized (pid, key serial): shown signed */
	A_UINT,
	A_HEX,
	A_PTR,
	A_FD,
	A_PATH, /* NUL-terminated string in tracee memory */
	A_OFLAGS,
	A_MODE,
	A_CLONE,
	A_AF,
	A_SOCKTYPE,
	A_MSFLAGS,
	A_UMOUNT,
	A_PTRACE,
	A_KEYCTL,
	A_IOCTL,
	A_PRCTL,
	A_SIG,
	A_ATFLAGS,
	A_PROT,
	A_MAPFLAGS,
	A_BPFCMD,
	A_ACCESS,
	A_SECCOMP,
};

struct tb_sig {
	const char *name;
	enum tb_argk a[6];
};

static const struct tb_sig sigs[] = {
	{"access", {A_PATH, A_ACCESS}},
	{"acct", {A_PATH}},
	{"bind", {A_FD, A_PTR, A_UINT}},
	{"bpf", {A_BPFCMD, A_PTR, A_UINT}},
	{"chdir", {A_PATH}},
	{"chmod", {A_PATH, A_MODE}},
	{"chown", {A_PATH, A_INT, A_INT}},
	{"chroot", {A_PATH}},
	{"clone", {A_CLONE, A_PTR, A_PTR, A_PTR, A_HEX}},
	{"clone3", {A_PTR, A_UINT}},
	{"connect", {A_FD, A_PTR, A_UINT}},
	{"creat", {A_PATH, A_MODE}},
	{"delete_module", {A_PATH, A_HEX}},
	{"execve", {A_PATH, A_PTR, A_PTR}},
	{"execveat", {A_FD, A_PATH, A_PTR, A_PTR, A_ATFLAGS}},
	{"faccessat", {A_FD, A_PATH, A_ACCESS}},
	{"faccessat2", {A_FD, A_PATH, A_ACCESS, A_ATFLAGS}},
	{"fchmodat", {A_FD, A_PATH, A_MODE}},
	{"fchownat", {A_FD, A_PATH, A_INT, A_INT, A_ATFLAGS}},
	{"finit_module", {A_FD, A_PATH, A_HEX}},
	{"fsopen", {A_PATH, A_HEX}},
	{"getdents", {A_FD, A_PTR, A_UINT}},
	{"getdents64", {A_FD, A_PTR, A_UINT}},
	{"init_module", {A_PTR, A_UINT, A_PATH}},
	{"ioctl", {A_FD, A_IOCTL, A_HEX}},
	{"kexec_load", {A_HEX, A_UINT, A_PTR, A_HEX}},
	{"keyctl", {A_KEYCTL, A_I32, A_HEX, A_HEX, A_HEX}},
	{"kill", {A_I32, A_SIG}},
	{"lchown", {A_PATH, A_INT, A_INT}},
	{"link", {A_PATH, A_PATH}},
	{"linkat", {A_FD, A_PATH, A_FD, A_PATH, A_ATFLAGS}},
	{"lstat", {A_PATH, A_PTR}},
	{"mkdir", {A_PATH, A_MODE}},
	{"mkdirat", {A_FD, A_PATH, A_MODE}},
	{"mknod", {A_PATH, A_MODE, A_HEX}},
	{"mknodat", {A_FD, A_PATH, A_MODE, A_HEX}},
	{"mmap", {A_PTR, A_UINT, A_PROT, A_MAPFLAGS, A_FD, A_HEX}},
	{"mount", {A_PATH, A_PATH, A_PATH, A_MSFLAGS, A_PTR}},
	{"mprotect", {A_PTR, A_UINT, A_PROT}},
	{"name_to_handle_at", {A_FD, A_PATH, A_PTR, A_PTR, A_ATFLAGS}},
	{"newfstatat", {A_FD, A_PATH, A_PTR, A_ATFLAGS}},
	{"open", {A_PATH, A_OFLAGS, A_MODE}},
	{"open_by_handle_at", {A_FD, A_PTR, A_OFLAGS}},
	{"openat", {A_FD, A_PATH, A_OFLAGS, A_MODE}},
	{"openat2", {A_FD, A_PATH, A_PTR, A_UINT}},
	{"pipe2", {A_PTR, A_OFLAGS}},
	{"pivot_root", {A_PATH, A_PATH}},
	{"prctl", {A_PRCTL, A_HEX, A_HEX, A_HEX, A_HEX}},
	{"pread64", {A_FD, A_PTR, A_UINT, A_INT}},
	{"process_vm_readv", {A_INT, A_PTR, A_UINT, A_PTR, A_UINT, A_HEX}},
	{"process_vm_writev", {A_INT, A_PTR, A_UINT, A_PTR, A_UINT, A_HEX}},
	{"ptrace", {A_PTRACE, A_I32, A_PTR, A_PTR}},
	{"readlink", {A_PATH, A_PTR, A_UINT}},
	{"readlinkat", {A_FD, A_PATH, A_PTR, A_UINT}},
	{"rename", {A_PATH, A_PATH}},
	{"renameat", {A_FD, A_PATH, A_FD, A_PATH}},
	{"renameat2", {A_FD, A_PATH, A_FD, A_PATH, A_HEX}},
	{"rmdir", {A_PATH}},
	{"seccomp", {A_SECCOMP, A_HEX, A_PTR}},
	{"setns", {A_FD, A_CLONE}},
	{"socket", {A_AF, A_SOCKTYPE, A_INT}},
	{"socketpair", {A_AF, A_SOCKTYPE, A_INT, A_PTR}},
	{"stat", {A_PATH, A_PTR}},
	{"statfs", {A_PATH, A_PTR}},
	{"statx", {A_FD, A_PATH, A_ATFLAGS, A_HEX, A_PTR}},
	{"swapoff", {A_PATH}},
	{"swapon", {A_PATH, A_HEX}},
	{"symlink", {A_PATH, A_PATH}},
	{"symlinkat", {A_PATH, A_FD, A_PATH}},
	{"tgkill", {A_I32, A_I32, A_SIG}},
	{"tkill", {A_I32, A_SIG}},
	{"truncate", {A_PATH, A_INT}},
	{"umount2", {A_PATH, A_UMOUNT}},
	{"unlink", {A_PATH}},
	{"unlinkat", {A_FD, A_PATH, A_ATFLAGS}},
	{"unshare", {A_CLONE}},
	{"utimensat", {A_FD, A_PATH, A_PTR, A_ATFLAGS}},
	{"write", {A_FD, A_PTR, A_UINT}},
	{"writev", {A_FD, A_PTR, A_UINT}},
};

struct tb_sym {
	uint64_t v;
	const char *n;
};

#define S(x) {(uint64_t)(x), #x}

/* Composite flags (O_TMPFILE holds O_DIRECTORY, O_SYNC holds O_DSYNC) come first: put_bits takes
 * the first match. */
static const struct tb_sym oflags[] = {
	S(O_TMPFILE), S(O_SYNC), S(O_WRONLY), S(O_RDWR), S(O_CREAT), S(O_EXCL), S(O_NOCTTY), S(O_TRUNC), S(O_APPEND),
	S(O_NONBLOCK), S(O_DSYNC), S(O_DIRECT), S(O_LARGEFILE), S(O_DIRECTORY), S(O_NOFOLLOW),
	S(O_NOATIME), S(O_CLOEXEC), S(O_PATH), {0, NULL}};
static const struct tb_sym clone_flags[] = {
	S(CLONE_VM), S(CLONE_FS), S(CLONE_FILES), S(CLONE_SIGHAND), S(CLONE_PIDFD), S(CLONE_PTRACE),
	S(CLONE_VFORK), S(CLONE_PARENT), S(CLONE_THREAD), S(CLONE_NEWNS), S(CLONE_SYSVSEM),
	S(CLONE_SETTLS), S(CLONE_PARENT_SETTID), S(CLONE_CHILD_CLEARTID), S(CLONE_DETACHED),
	S(CLONE_UNTRACED), S(CLONE_CHILD_SETTID), S(CLONE_NEWCGROUP), S(CLONE_NEWUTS),
	S(CLONE_NEWIPC), S(CLONE_NEWUSER), S(CLONE_NEWPID), S(CLONE_NEWNET), S(CLONE_IO),
	{0, NULL}};
static const struct tb_sym ms_flags[] = {
	S(MS_RDONLY), S(MS_NOSUID), S(MS_NODEV), S(MS_NOEXEC), S(MS_SYNCHRONOUS), S(MS_REMOUNT),
	S(MS_MANDLOCK), S(MS_DIRSYNC), S(MS_NOSYMFOLLOW), S(MS_NOATIME), S(MS_NODIRATIME),
	S(MS_BIND), S(MS_MOVE), S(MS_REC), S(MS_SILENT), S(MS_POSIXACL), S(MS_UNBINDABLE),
	S(MS_PRIVATE), S(MS_SLAVE), S(MS_SHARED), S(MS_RELATIME), S(MS_KERNMOUNT),
	S(MS_I_VERSION), S(MS_STRICTATIME), S(MS_LAZYTIME), {0, NULL}};
static const struct tb_sym umount_flags[] = {S(MNT_FORCE), S(MNT_DETACH), S(MNT_EXPIRE),
					     S(UMOUNT_NOFOLLOW), {0, NULL}};
static const struct tb_sym at_flags[] = {S(AT_SYMLINK_NOFOLLOW), S(AT_REMOVEDIR),
					 S(AT_SYMLINK_FOLLOW), S(AT_NO_AUTOMOUNT), S(AT_EMPTY_PATH),
					 {0, NULL}};
static const struct tb_sym prot_flags[] = {S(PROT_READ), S(PROT_WRITE), S(PROT_EXEC),
					   S(PROT_GROWSDOWN), S(PROT_GROWSUP), {0, NULL}};
static const struct tb_sym map_flags[] = {
	S(MAP_SHARED), S(MAP_PRIVATE), S(MAP_FIXED), S(MAP_ANONYMOUS), S(MAP_32BIT),
	S(MAP_GROWSDOWN), S(MAP_DENYWRITE), S(MAP_EXECUTABLE), S(MAP_LOCKED), S(MAP_NORESERVE),
	S(MAP_POPULATE), S(MAP_NONBLOCK), S(MAP_STACK), S(MAP_HUGETLB), S(MAP_FIXED_NOREPLACE),
	{0, NULL}};
static const struct tb_sym access_flags[] = {S(R_OK), S(W_OK), S(X_OK), {0, NULL}};
static const struct tb_sym sock_flags[] = {S(SOCK_NONBLOCK), S(SOCK_CLOEXEC), {0, NULL}};

/* Enumerations (exact values). */
static const struct tb_sym afs[] = {
	S(AF_UNSPEC), S(AF_UNIX), S(AF_INET), S(AF_AX25), S(AF_IPX), S(AF_APPLETALK),
	S(AF_NETROM), S(AF_BRIDGE), S(AF_ATMPVC), S(AF_X25), S(AF_INET6), S(AF_ROSE),
	S(AF_DECnet), S(AF_NETBEUI), S(AF_SECURITY), S(AF_KEY), S(AF_NETLINK), S(AF_PACKET),
	S(AF_ECONET), S(AF_ATMSVC), S(AF_RDS), S(AF_IRDA), S(AF_PPPOX), S(AF_WANPIPE),
	S(AF_LLC), S(AF_IB), S(AF_MPLS), S(AF_CAN), S(AF_TIPC), S(AF_BLUETOOTH), S(AF_IUCV),
	S(AF_RXRPC), S(AF_ISDN), S(AF_PHONET), S(AF_IEEE802154), S(AF_CAIF), S(AF_ALG),
	S(AF_NFC), S(AF_VSOCK), S(AF_KCM), S(AF_QIPCRTR), S(AF_SMC), S(AF_XDP), {0, NULL}};
static const struct tb_sym socktypes[] = {S(SOCK_STREAM), S(SOCK_DGRAM), S(SOCK_RAW),
					  S(SOCK_RDM), S(SOCK_SEQPACKET), S(SOCK_DCCP),
					  S(SOCK_PACKET), {0, NULL}};
static const struct tb_sym ptrace_reqs[] = {
	S(PTRACE_TRACEME), S(PTRACE_PEEKTEXT), S(PTRACE_PEEKDATA), S(PTRACE_PEEKUSER),
	S(PTRACE_POKETEXT), S(PTRACE_POKEDATA), S(PTRACE_POKEUSER), S(PTRACE_CONT),
	S(PTRACE_KILL), S(PTRACE_SINGLESTEP), S(PTRACE_GETREGS), S(PTRACE_SETREGS),
	S(PTRACE_GETFPREGS), S(PTRACE_SETFPREGS), S(PTRACE_ATTACH), S(PTRACE_DETACH),
	S(PTRACE_SYSCALL), S(PTRACE_SETOPTIONS), S(PTRACE_GETEVENTMSG), S(PTRACE_GETSIGINFO),
	S(PTRACE_SETSIGINFO), S(PTRACE_GETREGSET), S(PTRACE_SETREGSET), S(PTRACE_SEIZE),
	S(PTRACE_INTERRUPT), S(PTRACE_LISTEN), S(PTRACE_PEEKSIGINFO), S(PTRACE_GETSIGMASK),
	S(PTRACE_SETSIGMASK), S(PTRACE_SECCOMP_GET_FILTER), S(PTRACE_SECCOMP_GET_METADATA),
	S(PTRACE_GET_SYSCALL_INFO), {0, NULL}};
static const struct tb_sym keyctl_ops[] = {
	S(KEYCTL_GET_KEYRING_ID), S(KEYCTL_JOIN_SESSION_KEYRING), S(KEYCTL_UPDATE),
	S(KEYCTL_REVOKE), S(KEYCTL_CHOWN), S(KEYCTL_SETPERM), S(KEYCTL_DESCRIBE),
	S(KEYCTL_CLEAR), S(KEYCTL_LINK), S(KEYCTL_UNLINK), S(KEYCTL_SEARCH), S(KEYCTL_READ),
	S(KEYCTL_INSTANTIATE), S(KEYCTL_NEGATE), S(KEYCTL_SET_REQKEY_KEYRING),
	S(KEYCTL_SET_TIMEOUT), S(KEYCTL_ASSUME_AUTHORITY), S(KEYCTL_GET_SECURITY),
	S(KEYCTL_SESSION_TO_PARENT), S(KEYCTL_REJECT), S(KEYCTL_INSTANTIATE_IOV),
	S(KEYCTL_INVALIDATE), S(KEYCTL_GET_PERSISTENT), S(KEYCTL_DH_COMPUTE),
	S(KEYCTL_PKEY_QUERY), S(KEYCTL_PKEY_ENCRYPT), S(KEYCTL_PKEY_DECRYPT),
	S(KEYCTL_PKEY_SIGN), S(KEYCTL_PKEY_VERIFY), S(KEYCTL_RESTRICT_KEYRING),
	S(KEYCTL_MOVE), S(KEYCTL_CAPABILITIES), S(KEYCTL_WATCH_KEY), {0, NULL}};
static const struct tb_sym ioctls[] = {
	S(TCGETS), S(TCSETS), S(TCSETSW), S(TCSETSF), S(TIOCSCTTY), S(TIOCGPGRP), S(TIOCSPGRP),
	S(TIOCOUTQ), S(TIOCSTI), S(TIOCGWINSZ), S(TIOCSWINSZ), S(TIOCMGET), S(FIONREAD),
	S(TIOCLINUX), S(TIOCCONS), S(FIONBIO), S(TIOCNOTTY), S(TIOCSETD), S(TIOCGETD),
	S(TIOCGPTN), S(TIOCSPTLCK), S(FIONCLEX), S(FIOCLEX), S(FIOASYNC), S(TIOCGSID),
	{0, NULL}};
static const struct tb_sym prctl_ops[] = {
	S(PR_SET_PDEATHSIG), S(PR_GET_PDEATHSIG), S(PR_GET_DUMPABLE), S(PR_SET_DUMPABLE),
	S(PR_GET_KEEPCAPS), S(PR_SET_KEEPCAPS), S(PR_SET_NAME), S(PR_GET_NAME),
	S(PR_GET_SECCOMP), S(PR_SET_SECCOMP), S(PR_CAPBSET_READ), S(PR_CAPBSET_DROP),
	S(PR_GET_SECUREBITS), S(PR_SET_SECUREBITS), S(PR_SET_TIMERSLACK), S(PR_SET_MM),
	S(PR_SET_PTRACER), S(PR_SET_CHILD_SUBREAPER), S(PR_GET_CHILD_SUBREAPER),
	S(PR_SET_NO_NEW_PRIVS), S(PR_GET_NO_NEW_PRIVS), S(PR_SET_THP_DISABLE), S(PR_CAP_AMBIENT),
	S(PR_SET_VMA), {0, NULL}};
static const struct tb_sym sigs_tab[] = {
	S(SIGHUP), S(SIGINT), S(SIGQUIT), S(SIGILL), S(SIGTRAP), S(SIGABRT), S(SIGBUS),
	S(SIGFPE), S(SIGKILL), S(SIGUSR1), S(SIGSEGV), S(SIGUSR2), S(SIGPIPE), S(SIGALRM),
	S(SIGTERM), S(SIGCHLD), S(SIGCONT), S(SIGSTOP), S(SIGTSTP), S(SIGTTIN), S(SIGTTOU),
	S(SIGSYS), {0, NULL}};
/* bpf(2) commands and seccomp(2) operations by value (uapi enums; values are ABI). */
static const struct tb_sym bpf_cmds[] = {
	{0, "BPF_MAP_CREATE"}, {1, "BPF_MAP_LOOKUP_ELEM"}, {2, "BPF_MAP_UPDATE_ELEM"},
	{3, "BPF_MAP_DELETE_ELEM"}, {4, "BPF_MAP_GET_NEXT_KEY"}, {5, "BPF_PROG_LOAD"},
	{6, "BPF_OBJ_PIN"}, {7, "BPF_OBJ_GET"}, {8, "BPF_PROG_ATTACH"}, {9, "BPF_PROG_DETACH"},
	{10, "BPF_PROG_TEST_RUN"}, {0, NULL}};
static const struct tb_sym seccomp_ops[] = {{0, "SECCOMP_SET_MODE_STRICT"},
					    {1, "SECCOMP_SET_MODE_FILTER"},
					    {2, "SECCOMP_GET_ACTION_AVAIL"},
					    {3, "SECCOMP_GET_NOTIF_SIZES"},
					    {0, NULL}};

static const struct tb_sig *find_sig(const char *name)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(sigs); i++)
		if (!strcmp(sigs[i].name, name))
			return &sigs[i];
	return NULL;
}

static const char *sym_enum(const struct tb_sym *t, uint64_t v)
{
	for (; t->n; t++)
		if (t->v == v)
			return t->n;
	return NULL;
}

/* "A|B|0x40": named bits first, leftover bits in hex. */
static void put_bits(FILE *f, const struct tb_sym *t, uint64_t v)
{
	bool first = true;

	for (; t->n; t++)
		if (t->v && (v & t->v) == t->v) {
			fprintf(f, "%s%s", first ? "" : "|", t->n);
			first = false;
			v &= ~t->v;
		}
	if (v || first)
		fprintf(f, first ? "0x%llx" : "|0x%llx", (unsigned long long)v);
}

static void put_enum(FILE *f, const struct tb_sym *t, uint64_t v)
{
	const char *n = sym_enum(t, v);

	if (n)
		fputs(n, f);
	else
		fprintf(f, "%llu", (unsigned long long)v);
}

/* The string at @addr of @pid, NUL-terminated in @buf: its length, or -1 when nothing was readable. */
static ssize_t read_tracee_str(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	bool terminated;
	ssize_t n = tb_sv_read_str(pid, addr, buf, size - 1, &terminated);

	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static void put_string(FILE *f, pid_t pid, uint64_t addr)
{
	char buf[1024];
	ssize_t n;

	if (!addr) {
		fputs("NULL", f);
		return;
	}
	n = pid > 0 ? read_tracee_str(pid, addr, buf, sizeof(buf)) : -1;
	if (n < 0) {
		fprintf(f, "0x%llx", (unsigned long long)addr);
		return;
	}
	fputc('"', f);
	for (ssize_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)buf[i];
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
	if ((size_t)n == sizeof(buf) - 1)
		fputs("...", f);
}

static void put_arg(FILE *f, pid_t pid, enum tb_argk k, uint64_t v)
{
	int32_t i32 = (int32_t)(uint32_t)v;

	switch (k) {
	case A_INT:
		fprintf(f, "%lld", (long long)(int64_t)v);
		break;
	case A_I32:
		fprintf(f, "%d", i32);
		break;
	case A_UINT:
		fprintf(f, "%llu", (unsigned long long)v);
		break;
	case A_FD:
		if (i32 == AT_FDCWD)
			fputs("AT_FDCWD", f);
		else
			fprintf(f, "%d", i32);
		break;
	case A_PATH:
		put_string(f, pid, v);
		break;
	case A_OFLAGS:
		if ((v & O_ACCMODE) == O_RDONLY)
			fputs(v & ~(uint64_t)O_ACCMODE ? "O_RDONLY|" : "O_RDONLY", f);
		if (v & ~(uint64_t)O_ACCMODE || (v & O_ACCMODE) != O_RDONLY)
			put_bits(f, oflags, v);
		break;
	case A_MODE:
		if (v)
			fprintf(f, "0%llo", (unsigned long long)v);
		else
			fputc('0', f);
		break;
	case A_CLONE:
		/* The low byte of clone's flags is the exit signal. */
		put_bits(f, clone_flags, v & ~0xffull);
		if (v & 0xff) {
			const char *s = sym_enum(sigs_tab, v & 0xff);
			if (s)
				fprintf(f, "|%s", s);
			else
				fprintf(f, "|%llu", (unsigned long long)(v & 0xff));
		}
		break;
	case A_AF:
		put_enum(f, afs, (uint32_t)v);
		break;
	case A_SOCKTYPE:
		put_enum(f, socktypes, v & 0xf);
		if (v & ~0xfull) {
			fputc('|', f);
			put_bits(f, sock_flags, v & ~0xfull);
		}
		break;
	case A_MSFLAGS:
		put_bits(f, ms_flags, v & ~(uint64_t)MS_MGC_MSK);
		break;
	case A_UMOUNT:
		put_bits(f, umount_flags, v);
		break;
	case A_PTRACE:
		put_enum(f, ptrace_reqs, v);
		break;
	case A_KEYCTL:
		put_enum(f, keyctl_ops, (uint32_t)v);
		break;
	case A_IOCTL: {
		const char *s = sym_enum(ioctls, (uint32_t)v);
		if (s)
			fputs(s, f);
		else
			fprintf(f, "0x%llx", (unsigned long long)(uint32_t)v);
		break;
	}
	case A_PRCTL:
		put_enum(f, prctl_ops, (uint32_t)v);
		break;
	case A_SIG:
		put_enum(f, sigs_tab, (uint32_t)v);
		break;
	case A_ATFLAGS:
		put_bits(f, at_flags, v);
		break;
	case A_PROT:
		if (!v)
			fputs("PROT_NONE", f);
		else
			put_bits(f, prot_flags, v);
		break;
	case A_MAPFLAGS:
		put_bits(f, map_flags, v);
		break;
	case A_BPFCMD:
		put_enum(f, bpf_cmds, (uint32_t)v);
		break;
	case A_ACCESS:
		if (!v)
			fputs("F_OK", f);
		else
			put_bits(f, access_flags, v);
		break;
	case A_SECCOMP:
		put_enum(f, seccomp_ops, (uint32_t)v);
		break;
	case A_PTR:
		if (!v) {
			fputs("NULL", f);
			break;
		}
		/* fall through */
	case A_HEX:
	case A_NONE:
		fprintf(f, "0x%llx", (unsigned long long)v);
		break;
	}
}

int tb_explain_decode(pid_t pid, const char *name, const uint64_t args[6], char **text)
{
	const struct tb_sig *s = find_sig(name);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	fprintf(f, "%s(", name);
	for (int i = 0; i < 6; i++) {
		enum tb_argk k = s ? s->a[i] : A_HEX;
		if (s && k == A_NONE)
			break;
		/* Unknown signature: show only arguments up to the last non-zero one. */
		if (!s) {
			int last = -1;
			for (int j = 0; j < 6; j++)
				if (args[j])
					last = j;
			if (i > last)
				break;
		}
		if (i)
			fputs(", ", f);
		put_arg(f, pid, k, args[i]);
	}
	fputc(')', f);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*text = buf;
	return 0;
}
