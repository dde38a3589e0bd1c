/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attack-syscalls NAME...: tries each named attack and prints "NAME RET ERRNO" per line.
 *
 * Modelled on bubblewrap's try-syscall: most calls get deliberately invalid arguments (bad
 * pointers, fd -1, unknown flags) so that an UNFILTERED kernel answers EFAULT, EBADF or EINVAL.
 * When the sandbox answers EPERM or ENOSYS instead, the call was stopped by the seccomp filter
 * before the kernel looked at the arguments - it was filtered, not merely failed. The test runs the
 * same probe with seccomp=unconfined to show the kernel's own answer. "all" runs every entry.
 */
#include <errno.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define BAD ((void *)1) /* a pointer no process has mapped: EFAULT if the kernel reads it */

/* clone(@flags | SIGCHLD): a child that exits at once, waited for. */
static long try_clone(unsigned long flags)
{
	long r = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);

	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}

struct attack {
	const char *name;
	long (*fn)(void);
};

/* Kept as small wrappers so each line reads as the call the attacker would make. */
static long a_ptrace_attach(void) { return syscall(SYS_ptrace, PTRACE_ATTACH, 0x7ffffff0, 0, 0); }
static long a_ptrace_traceme(void) { return syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0); }
static long a_process_vm_readv(void)
{
	struct iovec l = {BAD, 16}, r = {BAD, 16};

	return syscall(SYS_process_vm_readv, getpid(), &l, 1, &r, 1, 0);
}
static long a_process_vm_writev(void)
{
	struct iovec l = {BAD, 16}, r = {BAD, 16};

	return syscall(SYS_process_vm_writev, getpid(), &l, 1, &r, 1, 0);
}
static long a_unshare_newuser(void) { return syscall(SYS_unshare, CLONE_NEWUSER); }
static long a_unshare_badflags(void) { return syscall(SYS_unshare, CLONE_NEWUSER | 0x1); }
static long a_setns(void) { return syscall(SYS_setns, -1, CLONE_NEWNET); }
static long a_mount(void) { return syscall(SYS_mount, BAD, BAD, BAD, 0, NULL); }
static long a_umount2(void) { return syscall(SYS_umount2, "/", 0x7fff0000); }
static long a_chroot(void) { return syscall(SYS_chroot, BAD); }
static long a_pivot_root(void) { return syscall(SYS_pivot_root, BAD, BAD); }
static long a_keyctl(void) { return syscall(SYS_keyctl, 0x7fff, 0, 0, 0, 0); }
static long a_keyctl_session(void)
{
	return syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "tb-attack", 0, 0, 0);
}
static long a_add_key(void) { return syscall(SYS_add_key, BAD, BAD, NULL, 0, 0); }
static long a_request_key(void) { return syscall(SYS_request_key, BAD, BAD, NULL, 0); }
static long a_bpf(void) { return syscall(SYS_bpf, 5 /* BPF_PROG_LOAD */, BAD, 128); }
static long a_perf_event_open(void) { return syscall(SYS_perf_event_open, BAD, 0, -1, -1, 0); }
static long a_userfaultfd(void) { return syscall(SYS_userfaultfd, 0x7fff0000); }
static long a_io_uring_setup(void) { return syscall(SYS_io_uring_setup, 1, BAD); }
static long a_io_uring_enter(void) { return syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0); }
static long a_open_by_handle_at(void) { return syscall(SYS_open_by_handle_at, -1, BAD, 0); }
static long a_name_to_handle_at(void)
{
	return syscall(SYS_name_to_handle_at, -1, BAD, BAD, BAD, 0);
}
/* stdin is /dev/null: the unfiltered kernel says ENOTTY. */
static long a_ioctl_tiocsti(void) { return syscall(SYS_ioctl, 0, TIOCSTI, "x"); }
/* The kernel truncates the request to 32 bits: a filter comparing all 64 would be fooled. */
static long a_ioctl_tiocsti_hi(void)
{
	return syscall(SYS_ioctl, 0, 0xffffffff00005412UL, "x");
}
static long a_personality_rie(void) { return syscall(SYS_personality, READ_IMPLIES_EXEC); }
static long a_personality_norand(void) { return syscall(SYS_personality, ADDR_NO_RANDOMIZE); }
static long a_clone_newuser(void) { return try_clone(CLONE_NEWUSER); }
static long a_clone_newns(void) { return try_clone(CLONE_NEWNS); }
static long a_clone3(void) { return syscall(SYS_clone3, BAD, 88); }
static long a_kcmp(void) { return syscall(SYS_kcmp, getpid(), getpid(), 0x7fff, 0, 0); }
static long a_pidfd_getfd(void) { return syscall(SYS_pidfd_getfd, -1, 0, 0); }
static long a_init_module(void) { return syscall(SYS_init_module, BAD, 16, BAD); }
static long a_finit_module(void) { return syscall(SYS_finit_module, -1, BAD, 0); }
static long a_kexec_load(void) { return syscall(SYS_kexec_load, 0, 0, BAD, 0x7fff0000UL); }
static long a_reboot(void) { return syscall(SYS_reboot, 0, 0, 0, NULL); }
static long a_swapon(void) { return syscall(SYS_swapon, BAD, 0); }
static long a_syslog(void) { return syscall(SYS_syslog, 0x7fff, NULL, 0); }
static long a_acct(void) { return syscall(SYS_acct, BAD); }
static long a_sethostname(void) { return syscall(SYS_sethostname, BAD, 1); }
static long a_settimeofday(void) { return syscall(SYS_settimeofday, BAD, BAD); }
static long a_iopl(void) { return syscall(SYS_iopl, 3); }
static long a_ioperm(void) { return syscall(SYS_ioperm, 0, 1024, 1); }
static long a_modify_ldt(void) { return syscall(SYS_modify_ldt, 0x7fff, BAD, 0); }
static long a_fsopen(void) { return syscall(SYS_fsopen, BAD, 0); }
static long a_open_tree(void) { return syscall(SYS_open_tree, -1, BAD, 0); }
static long a_move_mount(void) { return syscall(SYS_move_mount, -1, BAD, -1, BAD, 0); }
static long a_mount_setattr(void) { return syscall(SYS_mount_setattr, -1, BAD, 0, BAD, 0); }
static long a_fanotify_init(void) { return syscall(SYS_fanotify_init, 0x7fff0000, 0); }
static long a_quotactl(void) { return syscall(SYS_quotactl, 0, BAD, 0, NULL); }
static long a_move_pages(void) { return syscall(SYS_move_pages, 0, 1, BAD, BAD, BAD, 0); }
static long a_mbind(void) { return syscall(SYS_mbind, BAD, 4096, 0x7fff, NULL, 0, 0); }
/* Names no hardened profile allows (they are not in the dangerous table either): the filter's
 * default action answers. */
static long a_memfd_create(void) { return syscall(SYS_memfd_create, BAD, 0); }
static long a_mknodat(void) { return syscall(SYS_mknodat, -1, BAD, 0, 0); }
static long a_inotify_init1(void) { return syscall(SYS_inotify_init1, 0x7fff0000); }
static long a_timerfd_create(void) { return syscall(SYS_timerfd_create, 0x7fff, 0); }
static long a_mq_open(void) { return syscall(SYS_mq_open, BAD, 0, 0, NULL); }
static long a_shmget(void) { return syscall(SYS_shmget, 0, ~0UL, 0); }
static long a_msgget(void) { return syscall(SYS_msgget, 0, 0x7fff0000); }
static long a_pidfd_open(void) { return syscall(SYS_pidfd_open, -1, 0); }
static long a_seccomp(void) { return syscall(SYS_seccomp, 0x7fff, 0, NULL); }
static long a_landlock_create_ruleset(void) { return syscall(SYS_landlock_create_ruleset, BAD, 0, 0x7fff); }
static long a_socket_packet(void) { return syscall(SYS_socket, 17 /* AF_PACKET */, 3, 0); }
static long a_socket_netlink(void) { return syscall(SYS_socket, 16 /* AF_NETLINK */, 3, 9 /* NETLINK_AUDIT */); }
static long a_socket_inet_raw(void) { return syscall(SYS_socket, 2, 3 /* SOCK_RAW */, 1); }

static const struct attack attacks[] = {
	{"ptrace_attach", a_ptrace_attach},
	{"ptrace_traceme", a_ptrace_traceme},
	{"process_vm_readv", a_process_vm_readv},
	{"process_vm_writev", a_process_vm_writev},
	{"unshare_newuser", a_unshare_newuser},
	{"unshare_badflags", a_unshare_badflags},
	{"clone_newuser", a_clone_newuser},
	{"clone_newns", a_clone_newns},
	{"clone3", a_clone3},
	{"setns", a_setns},
	{"mount", a_mount},
	{"umount2", a_umount2},
	{"chroot", a_chroot},
	{"pivot_root", a_pivot_root},
	{"keyctl", a_keyctl},
	{"keyctl_session", a_keyctl_session},
	{"add_key", a_add_key},
	{"request_key", a_request_key},
	{"bpf", a_bpf},
	{"perf_event_open", a_perf_event_open},
	{"userfaultfd", a_userfaultfd},
	{"io_uring_setup", a_io_uring_setup},
	{"io_uring_enter", a_io_uring_enter},
	{"open_by_handle_at", a_open_by_handle_at},
	{"name_to_handle_at", a_name_to_handle_at},
	{"ioctl_tiocsti", a_ioctl_tiocsti},
	{"ioctl_tiocsti_hi", a_ioctl_tiocsti_hi},
	{"personality_read_implies_exec", a_personality_rie},
	{"personality_addr_no_randomize", a_personality_norand},
	{"kcmp", a_kcmp},
	{"pidfd_getfd", a_pidfd_getfd},
	{"init_module", a_init_module},
	{"finit_module", a_finit_module},
	{"kexec_load", a_kexec_load},
	{"reboot", a_reboot},
	{"swapon", a_swapon},
	{"syslog", a_syslog},
	{"acct", a_acct},
	{"sethostname", a_sethostname},
	{"settimeofday", a_settimeofday},
	{"iopl", a_iopl},
	{"ioperm", a_ioperm},
	{"modify_ldt", a_modify_ldt},
	{"fsopen", a_fsopen},
	{"open_tree", a_open_tree},
	{"move_mount", a_move_mount},
	{"mount_setattr", a_mount_setattr},
	{"fanotify_init", a_fanotify_init},
	{"quotactl", a_quotactl},
	{"move_pages", a_move_pages},
	{"mbind", a_mbind},
	{"memfd_create", a_memfd_create},
	{"mknodat", a_mknodat},
	{"inotify_init1", a_inotify_init1},
	{"timerfd_create", a_timerfd_create},
	{"mq_open", a_mq_open},
	{"shmget", a_shmget},
	{"msgget", a_msgget},
	{"pidfd_open", a_pidfd_open},
	{"seccomp", a_seccomp},
	{"landlock_create_ruleset", a_landlock_create_ruleset},
	{"socket_packet", a_socket_packet},
	{"socket_netlink", a_socket_netlink},
	{"socket_inet_raw", a_socket_inet_raw},
};

static void run_one(const struct attack *a)
{
	long r;

	errno = 0;
	r = a->fn();
	printf("%s %ld %d\n", a->name, r, r < 0 ? errno : 0);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int status = 0;

	for (int i = 1; i < argc; i++) {
		bool found = false;

		for (size_t k = 0; k < sizeof(attacks) / sizeof(attacks[0]); k++)
			if (!strcmp(argv[i], "all") || !strcmp(argv[i], attacks[k].name)) {
				/* TRACEME would make tightbox our tracer: only on explicit request. */
				if (!strcmp(argv[i], "all") && !strcmp(attacks[k].name, "ptrace_traceme"))
					continue;
				run_one(&attacks[k]);
				found = true;
			}
		if (!found) {
			fprintf(stderr, "unknown attack %s\n", argv[i]);
			status = 2;
		}
	}
	return status;
}
