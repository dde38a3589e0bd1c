/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ptrace supervisor shared by the recorder and explain (see ptrace-supervisor.h).
 *
 * Attach: PTRACE_SEIZE from the parent while the sandbox child waits to be released, so that
 * PTRACE_O_TRACESECCOMP is set before the child loads a RET_TRACE filter (otherwise every TRACE
 * call fails with ENOSYS). The child cannot stop itself for a PTRACE_TRACEME handshake cleanly:
 * it is the init of a new pid namespace. Seized tracees report their first stop and group stops
 * as PTRACE_EVENT_STOP; there is no job control in the sandbox, so both run on.
 */
#include "tracer/ptrace-supervisor.h"

#include <errno.h>
#include <pthread.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "tracer/ceiling.h"
#include "tracer/pyctx.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* ---- arch facts: core/arch.h, the native arch and the ABIs it runs ---- */

static const struct tb_arch *sv_arches[TB_SV_MAX_ARCH];
static size_t sv_n_arches;
static pthread_once_t sv_arches_once = PTHREAD_ONCE_INIT;

static void arches_init(void)
{
	const struct tb_arch *native = tb_arch_native(), *all;
	size_t n;

	if (!native)
		return;
	sv_arches[sv_n_arches++] = native;
	all = tb_arch_all(&n);
	for (size_t i = 0; i < n && sv_n_arches < TB_SV_MAX_ARCH; i++)
		if (all[i].token && &all[i] != native &&
		    tb_arch_is_compat_of(native->token, all[i].token))
			sv_arches[sv_n_arches++] = &all[i];
}

size_t tb_sv_n_arch(void)
{
	pthread_once(&sv_arches_once, arches_init);
	return sv_n_arches;
}

const struct tb_arch *tb_sv_arch(int idx)
{
	pthread_once(&sv_arches_once, arches_init);
	return sv_arches[idx];
}

static int arch_index(uint32_t audit_arch, uint64_t nr)
{
	const struct tb_arch *a = tb_arch_by_audit(audit_arch, nr);

	for (size_t i = 0; a && i < tb_sv_n_arch(); i++)
		if (sv_arches[i] == a)
			return (int)i;
	return -1;
}

/* ---- tasks (open addressing by pid; a deleted slot keeps its pid as a tombstone) ---- */

struct tb_sv_task {
	pid_t pid;
	bool used;
	bool awaiting_exit; /* resumed with PTRACE_SYSCALL: its exit stop is the client's */
	bool trap_pending;  /* SIGSYS queued for an emulated SECCOMP_RET_TRAP */
	bool own_exit;      /* the exit stop is the supervisor's only (a rewritten exec's) */
	bool python_exec;   /* the exec it is in runs the Python-context bootstrap */
	struct tb_pyctx_exec *pyexec; /* that exec's rewrite, undone if it fails */
	siginfo_t trap;
	void *priv;
};

struct tb_sv {
	const struct tb_sv_ops *ops;
	void *data;
	struct sock_fprog prog; /* the base filter, exported before the fork */
	struct tb_sv_task *tasks;
	size_t n_tasks, n_tombs, cap_tasks;
	pid_t root;
	bool root_killed;
	bool python_execs; /* tb_sv_follow_python */
	int err;
	const char *err_step;
};

static void fail(struct tb_sv *sv, int err, const char *step)
{
	if (!sv->err) {
		sv->err = err;
		sv->err_step = step;
	}
}

static struct tb_sv_task *task_find(struct tb_sv *sv, pid_t pid)
{
	if (!sv->cap_tasks)
		return NULL;
	for (size_t i = (size_t)pid % sv->cap_tasks, n = 0; n < sv->cap_tasks;
	     i = (i + 1) % sv->cap_tasks, n++) {
		if (!sv->tasks[i].used && !sv->tasks[i].pid)
			return NULL;
		if (sv->tasks[i].used && sv->tasks[i].pid == pid)
			return &sv->tasks[i];
	}
	return NULL;
}

static int task_grow(struct tb_sv *sv)
{
	/* Rehashing drops the tombstones; double only when live tasks need it. */
	size_t ncap = sv->cap_tasks ? sv->cap_tasks : 64, ocap = sv->cap_tasks;
	struct tb_sv_task *old = sv->tasks, *nt;

	if ((sv->n_tasks + 1) * 4 > ncap)
		ncap *= 2;
	nt = calloc(ncap, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	sv->tasks = nt;
	sv->n_tombs = 0;
	sv->cap_tasks = ncap;
	sv->n_tasks = 0;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].used) {
			size_t j = (size_t)old[i].pid % ncap;

			while (nt[j].used)
				j = (j + 1) % ncap;
			nt[j] = old[i];
			sv->n_tasks++;
		}
	free(old);
	return 0;
}

/* Finds or adds @pid. Adding may move every task: pointers from before are stale. */
static struct tb_sv_task *task_add(struct tb_sv *sv, pid_t pid)
{
	struct tb_sv_task *t = task_find(sv, pid);

	if (t)
		return t;
	if ((sv->n_tasks + sv->n_tombs + 1) * 2 > sv->cap_tasks && task_grow(sv) < 0) {
		fail(sv, -ENOMEM, "tracking a process");
		return NULL;
	}
	for (size_t i = (size_t)pid % sv->cap_tasks;; i = (i + 1) % sv->cap_tasks)
		if (!sv->tasks[i].used) {
			if (sv->tasks[i].pid)
				sv->n_tombs--;
			sv->tasks[i] = (struct tb_sv_task){.pid = pid, .used = true};
			sv->n_tasks++;
			return &sv->tasks[i];
		}
}

static void priv_free(struct tb_sv *sv, struct tb_sv_task *t)
{
	if (t->priv && sv->ops->free_priv)
		sv->ops->free_priv(t->priv);
	t->priv = NULL;
}

static void task_del(struct tb_sv *sv, struct tb_sv_task *t)
{
	priv_free(sv, t);
	tb_pyctx_exec_free(TB_TAKE_PTR(t->pyexec));
	t->used = false; /* the pid stays as a tombstone so probing continues past it */
	sv->n_tasks--;
	sv->n_tombs++;
}

/* ---- /proc ---- */

pid_t tb_sv_proc_status(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	pid_t v = 0;
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		for (char *s = line + klen + 1, *end; *s; s = end) {
			long n = strtol(s, &end, 10);

			if (end == s)
				break;
			v = (pid_t)n;
		}
		break;
	}
	return v;
}

int tb_sv_proc_link(pid_t pid, const char *what, char *buf, size_t size)
{
	char p[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%d/%s", (int)pid, what);
	n = readlink(p, buf, size - 1);
	if (n < 0)
		return tb_negerrno();
	buf[n] = '\0';
	/* "pipe:[12]", "socket:[3]", "anon_inode:..." are not paths. */
	return buf[0] == '/' ? 0 : -ENOENT;
}

/* ---- tracee memory ---- */

ssize_t tb_sv_read_str(pid_t pid, uint64_t addr, char *buf, size_t size, bool *terminated)
{
	size_t got = 0;

	*terminated = false;
	if (!addr)
		return -EFAULT;
	while (got < size) {
		/* Never cross a page boundary in one read: the next page may be unmapped. */
		size_t chunk = 4096 - ((addr + got) & 4095);
		struct iovec local, remote;
		char *nul;
		ssize_t n;

		if (chunk > size - got)
			chunk = size - got;
		local = (struct iovec){buf + got, chunk};
		remote = (struct iovec){(void *)(uintptr_t)(addr + got), chunk};
		n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (n <= 0)
			break;
		if ((nul = memchr(buf + got, '\0', (size_t)n))) {
			*terminated = true;
			return nul - buf;
		}
		got += (size_t)n;
	}
	return got ? (ssize_t)got : -EFAULT;
}

int tb_sv_read_string(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	bool terminated;
	ssize_t n = tb_sv_read_str(pid, addr, buf, size, &terminated);

	if (n < 0)
		return (int)n;
	if (terminated)
		return 0;
	return (size_t)n == size ? -ENAMETOOLONG : -EFAULT;
}

int tb_sv_read_mem(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

int tb_sv_write_mem(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	struct iovec local = {(void *)buf, len}, remote = {(void *)(uintptr_t)addr, len};

	return process_vm_writev(pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

/* True when @pid has a handler for @sig (SigCgt in /proc/PID/status). */
static bool sig_caught(pid_t pid, int sig)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	bool found = false;
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		/* NOLINTNEXTLINE(cert-err34-c): /proc/PID/status is kernel-written hex */
		found = sscanf(line, "SigCgt: %llx", &mask) == 1;
	return found && (mask >> (sig - 1)) & 1;
}

/* ---- setup ---- */

/* The explain base filter's watch rules (TB_SV_WATCH_*). */
static int watch_rules(void *ctx, void *arg)
{
	unsigned watch = *(const unsigned *)arg;
	int r = 0;

	if (watch & TB_SV_WATCH_MARKERS)
		r = seccomp_rule_add(ctx, SCMP_ACT_TRACE(TB_SV_DATA_MARKER), SCMP_SYS(write), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, TB_PYCTX_FD));
	if (r == 0 && (watch & TB_SV_WATCH_EXECS))
		r = seccomp_rule_add(ctx, SCMP_ACT_TRACE(TB_SV_DATA_EXEC), SCMP_SYS(execve), 0);
	if (r == 0 && (watch & TB_SV_WATCH_EXECS))
		r = seccomp_rule_add(ctx, SCMP_ACT_TRACE(TB_SV_DATA_EXEC), SCMP_SYS(execveat), 0);
	if (r == 0 && (watch & TB_SV_WATCH_STDERR))
		r = seccomp_rule_add(ctx, SCMP_ACT_TRACE(TB_SV_DATA_STDERR), SCMP_SYS(write), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, 2));
	if (r == 0 && (watch & TB_SV_WATCH_STDERR))
		r = seccomp_rule_add(ctx, SCMP_ACT_TRACE(TB_SV_DATA_STDERR), SCMP_SYS(writev), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, 2));
	return r;
}

int tb_sv_new(enum tb_sv_base base, unsigned watch, const struct tb_sv_ops *ops, void *data,
	      struct tb_sv **out)
{
	static const struct tb_sv_ops none;
	struct tb_sv *sv = calloc(1, sizeof(*sv));
	uint32_t def = base == TB_SV_BASE_RECORD ? SCMP_ACT_TRACE(0) : SCMP_ACT_ALLOW;
	unsigned parts = TB_CEILING_LISTENER;
	int r;

	if (!sv)
		return -ENOMEM;
	sv->ops = ops ? ops : &none;
	sv->data = data;
	if (base != TB_SV_BASE_EXPLAIN)
		parts |= TB_CEILING_DANGEROUS;
	r = tb_ceiling_filter(def, SCMP_ACT_TRACE(TB_SV_CEILING_DATA(TB_CEILING_ERRNO)), parts,
			      base == TB_SV_BASE_EXPLAIN && watch ? watch_rules : NULL, &watch,
			      &sv->prog);
	if (r < 0) {
		free(sv);
		return r;
	}
	*out = sv;
	return 0;
}

void tb_sv_free(struct tb_sv *sv)
{
	if (!sv)
		return;
	for (size_t i = 0; i < sv->cap_tasks; i++)
		if (sv->tasks[i].used) {
			priv_free(sv, &sv->tasks[i]);
			tb_pyctx_exec_free(sv->tasks[i].pyexec);
		}
	free(sv->tasks);
	free(sv->prog.filter);
	free(sv);
}

int tb_sv_error(const struct tb_sv *sv, const char **step)
{
	if (step)
		*step = sv->err_step;
	return sv->err;
}

bool tb_sv_root_killed(const struct tb_sv *sv)
{
	return sv->root_killed;
}

pid_t tb_sv_root(const struct tb_sv *sv)
{
	return sv->root;
}

void tb_sv_follow_python(struct tb_sv *sv)
{
	sv->python_execs = true;
}

/* In the sandbox child, where the runner would load the profile's filter: no allocation. */
static int hook_child_before_filter(void *data)
{
	struct tb_sv *sv = data;

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &sv->prog) < 0)
		return tb_negerrno();
	return 0;
}

static int hook_parent_started(pid_t child, void *data)
{
	struct tb_sv *sv = data;
	const unsigned long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
				   PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL |
				   PTRACE_O_TRACESYSGOOD;

	if (ptrace(PTRACE_SEIZE, child, NULL, (void *)opts) < 0)
		return tb_negerrno();
	if (!task_add(sv, child))
		return -ENOMEM;
	sv->root = child;
	return 0;
}

/* ---- answering a stop ---- */

static void resume(pid_t pid, enum __ptrace_request how, int sig)
{
	/* ESRCH: the tracee was killed meanwhile; its exit arrives through waitpid. */
	(void)ptrace(how, pid, NULL, (void *)(uintptr_t)sig);
}

static void resume_task(struct tb_sv_task *t, int sig)
{
	resume(t->pid, t->awaiting_exit ? PTRACE_SYSCALL : PTRACE_CONT, sig);
}

/*
 * Skips the call the tracee is stopped in and makes it return @ret (the x86_64 register set
 * covers i386 tasks too). With orig_rax = -1 the kernel runs nothing and leaves rax, so the
 * program sees exactly @ret.
 */
static int skip_syscall(pid_t pid, long ret)
{
	struct user_regs_struct regs;

	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0)
		return tb_negerrno();
	regs.orig_rax = (unsigned long long)-1;
	regs.rax = (unsigned long long)ret;
	if (ptrace(PTRACE_SETREGS, pid, 0, &regs) < 0)
		return tb_negerrno();
	return 0;
}

/* SECCOMP_RET_KILL_PROCESS: the thread group dies before the call runs. */
static void kill_group(struct tb_sv *sv, pid_t pid)
{
	pid_t tgid = tb_sv_proc_status(pid, "Tgid");

	(void)skip_syscall(pid, -ENOSYS);
	if ((tgid > 0 ? tgid : pid) == sv->root)
		sv->root_killed = true;
	kill(tgid > 0 ? tgid : pid, SIGKILL);
}

static void refuse_errno(struct tb_sv *sv, pid_t pid, int err)
{
	int r = skip_syscall(pid, -(long)err);

	if (r < 0 && r != -ESRCH) {
		/* Could not make the call fail: never let it run instead. */
		fail(sv, r, "skipping a denied syscall");
		kill(pid, SIGKILL);
		return;
	}
	resume(pid, PTRACE_CONT, 0);
}

/*
 * SECCOMP_RET_TRAP: the call is skipped and SIGSYS arrives with si_code SYS_SECCOMP; the kernel
 * rolls the registers back (rax = the number again) so a handler sees the call as made. SIGSYS
 * is queued now and its siginfo filled in at the delivery stop (a tracer cannot send a
 * kernel-coded siginfo). A sandbox init without a handler would die of it (force_sig_seccomp
 * lifts SIGNAL_UNKILLABLE for an untraced init); a traced one would drop it: kill it instead.
 */
static void refuse_trap(struct tb_sv *sv, struct tb_sv_task *t, const struct tb_sv_call *c)
{
	pid_t tgid = tb_sv_proc_status(t->pid, "Tgid");

	if ((tgid > 0 ? tgid : t->pid) == sv->root && !sig_caught(t->pid, SIGSYS)) {
		kill_group(sv, t->pid);
		return;
	}
	memset(&t->trap, 0, sizeof(t->trap));
	t->trap.si_signo = SIGSYS;
	t->trap.si_code = SYS_SECCOMP;
	t->trap.si_call_addr = (void *)(uintptr_t)c->ip;
	t->trap.si_syscall = (int)c->raw_nr;
	t->trap.si_arch = c->audit_arch;
	t->trap_pending = true;
	if (skip_syscall(t->pid, (long)c->raw_nr) == 0)
		tgkill(tgid, t->pid, SIGSYS);
	resume(t->pid, PTRACE_CONT, 0);
}

/*
 * An exec that will run: a CPython >= 3.8 child runs the Python-context bootstrap first
 * (tracer/pyctx.h); its exit stop undoes the rewrite when the exec fails.
 */
static void python_exec(struct tb_sv *sv, struct tb_sv_task *t, const struct tb_sv_call *c,
			struct tb_sv_answer *a)
{
	int r;

	tb_pyctx_exec_free(TB_TAKE_PTR(t->pyexec));
	r = tb_pyctx_exec(c, &t->pyexec);
	if (r < 0) {
		fail(sv, r, "giving a child interpreter its Python context");
		return;
	}
	t->python_exec = r != TB_PYCTX_EXEC_NONE;
	if (t->pyexec && a->verdict == TB_SV_CONTINUE) {
		t->own_exit = true;
		a->verdict = TB_SV_EXIT_STOP;
	}
}

static void on_seccomp_stop(struct tb_sv *sv, struct tb_sv_task *t)
{
	struct __ptrace_syscall_info si;
	struct tb_sv_answer a = {TB_SV_CONTINUE, 0};
	struct tb_sv_call c;

	memset(&si, 0, sizeof(si));
	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->pid, (void *)sizeof(si), &si) <= 0 ||
	    si.op != PTRACE_SYSCALL_INFO_SECCOMP) {
		/* Vanished (SIGKILL) or not a seccomp stop after all. */
		resume(t->pid, PTRACE_CONT, 0);
		return;
	}
	c = (struct tb_sv_call){
		.pid = t->pid,
		.arch = arch_index(si.arch, si.seccomp.nr),
		.audit_arch = si.arch,
		.raw_nr = si.seccomp.nr,
		.ip = si.instruction_pointer,
		.data = si.seccomp.ret_data,
	};
	c.nr = c.arch >= 0 ? si.seccomp.nr & ~(uint64_t)sv_arches[c.arch]->nr_bit : si.seccomp.nr;
	memcpy(c.args, si.seccomp.args, sizeof(c.args));
	if (TB_SV_IS_CEILING(c.data))
		c.ceiling_errno = (int)(c.data & 0xfffu);
	t->awaiting_exit = false;
	t->own_exit = false;
	if (sv->ops->on_seccomp)
		a = sv->ops->on_seccomp(sv->data, &c, &t->priv);
	if (c.ceiling_errno)
		a = (struct tb_sv_answer){TB_SV_ERRNO, c.ceiling_errno};
	if (sv->python_execs && (a.verdict == TB_SV_CONTINUE || a.verdict == TB_SV_EXIT_STOP))
		python_exec(sv, t, &c, &a);
	switch (a.verdict) {
	case TB_SV_CONTINUE:
		resume(t->pid, PTRACE_CONT, 0);
		return;
	case TB_SV_EXIT_STOP:
		t->awaiting_exit = true;
		resume(t->pid, PTRACE_SYSCALL, 0);
		return;
	case TB_SV_ERRNO:
		refuse_errno(sv, t->pid, a.err);
		return;
	case TB_SV_TRAP:
		refuse_trap(sv, t, &c);
		return;
	case TB_SV_KILL:
		kill_group(sv, t->pid);
		return;
	}
}

static void on_syscall_exit(struct tb_sv *sv, struct tb_sv_task *t)
{
	struct __ptrace_syscall_info si;

	t->awaiting_exit = false;
	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->pid, (void *)sizeof(si), &si) > 0 &&
	    si.op == PTRACE_SYSCALL_INFO_EXIT) {
		/* Still here: the exec failed, and the program sees its argv as it was. */
		if (t->pyexec && si.exit.is_error)
			tb_pyctx_exec_undo(t->pid, t->pyexec);
		tb_pyctx_exec_free(TB_TAKE_PTR(t->pyexec));
		t->python_exec = false;
		if (!t->own_exit && sv->ops->on_exit)
			sv->ops->on_exit(sv->data, t->pid, !si.exit.is_error, si.exit.rval, &t->priv);
	}
	t->own_exit = false;
	resume(t->pid, PTRACE_CONT, 0);
}

static void on_exec_event(struct tb_sv *sv, struct tb_sv_task *t)
{
	unsigned long former = 0;

	/* A non-leader thread that execs takes over the leader's pid: move its state over. */
	if (ptrace(PTRACE_GETEVENTMSG, t->pid, NULL, &former) == 0 && (pid_t)former != t->pid) {
		struct tb_sv_task *old = task_find(sv, (pid_t)former);

		if (old) {
			priv_free(sv, t);
			t->priv = TB_TAKE_PTR(old->priv);
			t->awaiting_exit = old->awaiting_exit;
			t->own_exit = old->own_exit;
			t->python_exec = old->python_exec;
			task_del(sv, old);
		}
	}
	/* The exec happened: the old image, and what the rewrite would put back, are gone. */
	tb_pyctx_exec_free(TB_TAKE_PTR(t->pyexec));
	if (sv->ops->on_exec)
		sv->ops->on_exec(sv->data, t->pid, t->python_exec, &t->priv);
	t->python_exec = false;
	/* Keep PTRACE_SYSCALL if the exit stop of this execve is wanted. */
	resume_task(t, 0);
}

static void on_fork_event(struct tb_sv *sv, pid_t pid, bool thread)
{
	unsigned long child = 0;
	struct tb_sv_task *t, *c = NULL;

	if (ptrace(PTRACE_GETEVENTMSG, pid, NULL, &child) == 0 && child)
		c = task_add(sv, (pid_t)child);
	/* The table may have moved. */
	t = task_find(sv, pid);
	/* A child whose first stop came first has state already: its parent's is older news. */
	if (c && t && !c->priv && sv->ops->on_fork)
		sv->ops->on_fork(sv->data, pid, (pid_t)child, thread, &t->priv, &c->priv);
	if (t)
		resume_task(t, 0);
	else
		resume(pid, PTRACE_CONT, 0);
}

/*
 * The root is the init of the sandbox's pid namespace. The kernel lets a fault kill such an init
 * only when it is not traced (force_sig_fault clears SIGNAL_UNKILLABLE only for untraced tasks):
 * re-injected by a tracer, the signal is dropped and the faulting instruction loops forever. So
 * a crash of the root detaches it with the signal, and it dies the way it does under `run`.
 */
static bool root_fatal_fault(struct tb_sv *sv, pid_t pid, int sig, const siginfo_t *si)
{
	if (pid != sv->root || si->si_code <= 0)
		return false;
	if (sig != SIGSEGV && sig != SIGBUS && sig != SIGILL && sig != SIGFPE && sig != SIGSYS &&
	    sig != SIGTRAP)
		return false;
	return !sig_caught(pid, sig);
}

static void on_signal(struct tb_sv *sv, struct tb_sv_task *t, int sig)
{
	siginfo_t si;

	if (sig == SIGSYS && t->trap_pending) {
		t->trap_pending = false;
		(void)ptrace(PTRACE_SETSIGINFO, t->pid, NULL, &t->trap);
		resume(t->pid, PTRACE_CONT, SIGSYS);
		return;
	}
	if (ptrace(PTRACE_GETSIGINFO, t->pid, NULL, &si) < 0) {
		/* No siginfo: not a signal to deliver. */
		resume_task(t, 0);
		return;
	}
	if (root_fatal_fault(sv, t->pid, sig, &si)) {
		pid_t pid = t->pid;

		task_del(sv, t);
		resume(pid, PTRACE_DETACH, sig);
		return;
	}
	/* An ordinary signal: deliver it as if no one were watching. */
	resume_task(t, sig);
}

static void hook_parent_on_wait(pid_t pid, int status, void *data)
{
	struct tb_sv *sv = data;
	struct tb_sv_task *t = task_find(sv, pid);
	int sig, event;

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (t && sv->ops->on_task_exit)
			sv->ops->on_task_exit(sv->data, pid, status, &t->priv);
		if (t)
			task_del(sv, t);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	sig = WSTOPSIG(status);
	event = (int)((unsigned)status >> 16);
	/* An auto-attached child whose first stop came before its parent's fork event. */
	if (!t && !(t = task_add(sv, pid))) {
		resume(pid, PTRACE_CONT, 0);
		return;
	}
	if (event == PTRACE_EVENT_STOP) {
		/* A new tracee's first stop or a group stop: no job control here, run on. */
		resume_task(t, 0);
		return;
	}
	if (sig == (SIGTRAP | 0x80)) {
		if (t->awaiting_exit)
			on_syscall_exit(sv, t);
		else
			resume(pid, PTRACE_CONT, 0);
		return;
	}
	if (sig == SIGTRAP && event) {
		switch (event) {
		case PTRACE_EVENT_SECCOMP:
			on_seccomp_stop(sv, t);
			return;
		case PTRACE_EVENT_EXEC:
			on_exec_event(sv, t);
			return;
		case PTRACE_EVENT_FORK:
		case PTRACE_EVENT_VFORK:
		case PTRACE_EVENT_CLONE:
			on_fork_event(sv, pid, event == PTRACE_EVENT_CLONE);
			return;
		default:
			resume(pid, PTRACE_CONT, 0);
			return;
		}
	}
	on_signal(sv, t, sig);
}

void tb_sv_hooks(struct tb_sv *sv, struct tb_run_hooks *h)
{
	h->data = sv;
	h->child_before_filter = hook_child_before_filter;
	h->parent_started = hook_parent_started;
	h->parent_on_wait = hook_parent_on_wait;
}
