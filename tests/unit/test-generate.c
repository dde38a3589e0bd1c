/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tb_generate(): determinism, the rules it writes, arch mapping, runtime preludes, bad input, and
 * real enforcement: a forked child loads the generated profile (compiled by core/profile.c, as
 * `tightbox run` does) and makes the calls the argument rules are about.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include <cmocka.h>

#include "core/landlock-ruleset.h"
#include "core/internal.h"
#include "core/profile.h"
#include "core/recording.h"
#include "core/strv.h"
#include "generator/generate.h"

#define CLONE_NEWUSER_FLAG 0x10000000UL

static struct tb_recording *rec_new(const char *arch, const char *workload,
				    const char *const *names)
{
	struct tb_recording *r = tb_recording_new();

	assert_non_null(r);
	r->prov.arch = strdup(arch);
	for (size_t i = 0; names[i]; i++)
		assert_int_equal(tb_recording_add_syscall(r, arch, names[i], 1), 0);
	assert_int_equal(tb_recording_set_workload(r, workload), 0);
	return r;
}

static const char *const basic[] = {"read",	  "write",  "openat", "close", "mmap",
				    "exit_group", "ioctl",  "socket", "clone", "clone3",
				    "futex",	  "ptrace", NULL};

static struct tb_recording *basic_rec(void)
{
	struct tb_recording *r = rec_new("x86_64", "basic", basic);
	const char *ioctl_key[] = {"a1"}, *sock_keys[] = {"a0", "a1", "a2"};
	uint64_t tcgets[] = {TCGETS}, unix_sock[] = {AF_UNIX, SOCK_STREAM, 0};

	assert_int_equal(tb_recording_add_args(r, "x86_64", "ioctl", 1, ioctl_key, tcgets, 3), 0);
	assert_int_equal(tb_recording_add_args(r, "x86_64", "socket", 3, sock_keys, unix_sock, 1),
			 0);
	assert_int_equal(tb_recording_add_file(r, "/usr/lib/python3.11/os.py", TB_FOP_READ, true),
			 0);
	assert_int_equal(tb_recording_add_file(r, "/etc/pwned", TB_FOP_CREATE, false), 0);
	assert_int_equal(tb_recording_add_executable(r, "/usr/bin/python3.11"), 0);
	assert_int_equal(tb_recording_add_family(r, "AF_UNIX"), 0);
	return r;
}

static void gen(struct tb_recording *r, struct tb_gen_opts *o, struct tb_gen_result *res)
{
	struct tb_gen_input in = {.path = "rec.json", .rec = r};
	struct tb_diag d;
	char buf[1024];

	tb_diag_clear(&d);
	if (tb_generate(&in, 1, o, res, &d) < 0)
		fail_msg("generate: %s", tb_diag_format(&d, buf, sizeof(buf)));
}

static json_t *rules_of(const char *text)
{
	json_error_t e;
	json_t *root = json_loads(text, 0, &e);

	assert_non_null(root);
	return root;
}

/* The rule whose names include @name and whose action is @action (and errnoRet when >= 0). */
static json_t *find_rule(json_t *root, const char *name, const char *action, int errno_ret,
			 bool with_args)
{
	size_t i, j;
	json_t *r, *n;

	json_array_foreach(json_object_get(root, "syscalls"), i, r)
	{
		if (strcmp(json_string_value(json_object_get(r, "action")), action))
			continue;
		if (errno_ret >= 0 &&
		    json_integer_value(json_object_get(r, "errnoRet")) != errno_ret)
			continue;
		if (with_args != (json_object_get(r, "args") != NULL))
			continue;
		json_array_foreach(json_object_get(r, "names"), j,
				   n) if (!strcmp(json_string_value(n), name)) return r;
	}
	return NULL;
}

static bool summary_has(const struct tb_gen_result *res, size_t arch, const char *name)
{
	for (char **n = res->arches[arch].names; n && *n; n++)
		if (!strcmp(*n, name))
			return true;
	return false;
}

static void test_deterministic_and_shape(void **state)
{
	struct tb_recording *r = basic_rec();
	struct tb_gen_result a = {0}, b = {0};
	struct tb_gen_opts o;
	json_t *root;

	tb_gen_opts_init(&o);
	gen(r, &o, &a);
	gen(r, &o, &b);
	assert_string_equal(a.seccomp, b.seccomp);
	assert_string_equal(a.apparmor, b.apparmor);
	assert_string_equal(a.landlock, b.landlock);

	root = rules_of(a.seccomp);
	assert_string_equal(json_string_value(json_object_get(root, "defaultAction")),
			    "SCMP_ACT_ERRNO");
	assert_int_equal(json_integer_value(json_object_get(root, "defaultErrnoRet")), ENOSYS);
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(root, "architectures"), 0)),
	    "SCMP_ARCH_X86_64");
	assert_null(json_object_get(root, "archMap"));
	/* Dangerous: explicit EPERM, even though the recording made the call. */
	assert_non_null(find_rule(root, "ptrace", "SCMP_ACT_ERRNO", EPERM, false));
	assert_non_null(find_rule(root, "mount", "SCMP_ACT_ERRNO", EPERM, false));
	assert_null(find_rule(root, "ptrace", "SCMP_ACT_ALLOW", -1, false));
	assert_false(summary_has(&a, 0, "ptrace"));
	assert_non_null(a.notes);
	/* clone3 ENOSYS, clone only with arguments, read in a group rule with a comment. */
	assert_non_null(find_rule(root, "clone3", "SCMP_ACT_ERRNO", ENOSYS, false));
	assert_null(find_rule(root, "clone", "SCMP_ACT_ALLOW", -1, false));
	assert_non_null(find_rule(root, "clone", "SCMP_ACT_ALLOW", -1, true));
	assert_non_null(
	    strstr(json_string_value(json_object_get(
		       find_rule(root, "read", "SCMP_ACT_ALLOW", -1, false), "comment")),
		   "@basic-io"));
	assert_non_null(
	    strstr(json_string_value(json_object_get(
		       find_rule(root, "read", "SCMP_ACT_ALLOW", -1, false), "comment")),
		   "basic"));
	/* Runtime prelude for tightbox: execve, marked. */
	assert_non_null(
	    strstr(json_string_value(json_object_get(
		       find_rule(root, "execve", "SCMP_ACT_ALLOW", -1, false), "comment")),
		   "runtime prelude: tightbox"));
	json_decref(root);

	assert_non_null(strstr(a.apparmor, "abi <abi/3.0>,"));
	assert_non_null(strstr(a.apparmor, "deny capability,"));
	assert_non_null(strstr(a.apparmor, "/usr/lib/python3*/** r,"));
	assert_non_null(strstr(a.apparmor, "/{,usr/}bin/python3.11 mrix,"));
	assert_non_null(strstr(a.apparmor, "  network unix,"));
	assert_non_null(strstr(a.apparmor, "deny network inet,"));
	assert_null(strstr(a.apparmor, "pwned")); /* failed operations are not granted */
	tb_gen_result_free(&a);
	tb_gen_result_free(&b);
	tb_gen_result_free(NULL);
	tb_recording_free(r);
}

static void test_landlock_output(void **state)
{
	struct tb_recording *r = basic_rec();
	struct tb_gen_result res = {0};
	struct tb_ll_ruleset *rs = NULL;
	struct tb_gen_opts o;
	struct tb_diag d;
	bool tmp = false, py = false, exe = false;

	tb_gen_opts_init(&o);
	gen(r, &o, &res);
	assert_int_equal(tb_ll_ruleset_parse(res.landlock, strlen(res.landlock), "ll", &rs, &d), 0);
	for (size_t i = 0; i < rs->n_rules; i++) {
		if (!strcmp(rs->rules[i].path, "/tmp"))
			tmp = (rs->rules[i].access & TB_LL_FS_WRITE_FILE) != 0;
		if (!strcmp(rs->rules[i].path, "/usr/lib/python3.11"))
			py = rs->rules[i].access & TB_LL_FS_READ_FILE &&
			     !(rs->rules[i].access & TB_LL_FS_WRITE_FILE);
		if (!strcmp(rs->rules[i].path, "/usr/bin/python3.11"))
			exe = (rs->rules[i].access & TB_LL_FS_EXECUTE) != 0;
		assert_null(strstr(rs->rules[i].path, "pwned"));
	}
	assert_true(tmp && py && exe);
	assert_true(rs->restrict_net); /* no IP family recorded */
	tb_ll_ruleset_free(rs);
	tb_gen_result_free(&res);
	tb_recording_free(r);
}

static void test_arch_mapping(void **state)
{
	static const char *const names[] = {"open", "stat", "fork",	  "pipe", "arch_prctl",
					    "time", "read", "exit_group", NULL};
	struct tb_recording *r = rec_new("x86_64", "legacy", names);
	struct tb_gen_result res = {0};
	struct tb_gen_opts o;
	json_t *root, *rule;
	bool noted_arch_prctl = false;

	tb_gen_opts_init(&o);
	o.arches[0] = "x86_64";
	o.arches[1] = "aarch64";
	o.n_arches = 2;
	gen(r, &o, &res);
	assert_int_equal(res.n_arches, 2);
	assert_string_equal(res.arches[1].arch, "aarch64");
	assert_true(summary_has(&res, 0, "open"));
	assert_true(summary_has(&res, 1, "openat"));
	assert_true(summary_has(&res, 1, "newfstatat"));
	assert_true(summary_has(&res, 1, "pipe2"));
	assert_false(summary_has(&res, 1, "open"));
	assert_false(summary_has(&res, 1, "arch_prctl"));
	assert_false(summary_has(&res, 0, "openat")); /* x86_64 keeps exactly what it used */
	for (char **n = res.notes; n && *n; n++)
		noted_arch_prctl |= strstr(*n, "arch_prctl") != NULL;
	assert_true(noted_arch_prctl);
	root = rules_of(res.seccomp);
	assert_int_equal(json_array_size(json_object_get(root, "archMap")), 2);
	assert_null(json_object_get(root, "architectures"));
	/* Names only one arch needs carry includes.arches (Go names, as moby compares them). */
	rule = find_rule(root, "openat", "SCMP_ACT_ALLOW", -1, false);
	assert_non_null(rule);
	assert_string_equal(json_string_value(json_array_get(
				json_object_get(json_object_get(rule, "includes"), "arches"), 0)),
			    "arm64");
	json_decref(root);
	tb_gen_result_free(&res);
	tb_recording_free(r);
}

static void test_runc_prelude(void **state)
{
	struct tb_recording *r = basic_rec();
	struct tb_gen_result res = {0};
	struct tb_gen_opts o;
	json_t *root, *rule;

	tb_gen_opts_init(&o);
	o.runtimes = TB_GEN_RUNTIME_BIT(TB_GEN_RUNTIME_RUNC);
	gen(r, &o, &res);
	root = rules_of(res.seccomp);
	rule = find_rule(root, "fstatfs", "SCMP_ACT_ALLOW", -1, false);
	assert_non_null(rule);
	assert_non_null(
	    strstr(json_string_value(json_object_get(rule, "comment")), "runtime prelude: runc"));
	json_decref(root);
	tb_gen_result_free(&res);
	tb_recording_free(r);
}

/* issue 16: the vDSO-backed calls are allowed whatever the recording saw (a host without a vDSO
 * clock source sends them to the kernel); time exists on x86_64 only. */
static void test_vdso_baseline(void **state)
{
	static const char *const vdso[] = {"clock_gettime", "clock_getres", "gettimeofday", "getcpu"};
	struct tb_recording *r = basic_rec();
	struct tb_gen_result res = {0};
	struct tb_gen_opts o;
	json_t *root;

	tb_gen_opts_init(&o);
	o.arches[0] = "x86_64";
	o.arches[1] = "aarch64";
	o.n_arches = 2;
	gen(r, &o, &res);
	root = rules_of(res.seccomp);
	for (size_t i = 0; i < sizeof(vdso) / sizeof(vdso[0]); i++) {
		assert_true(summary_has(&res, 0, vdso[i]));
		assert_true(summary_has(&res, 1, vdso[i]));
		assert_non_null(find_rule(root, vdso[i], "SCMP_ACT_ALLOW", -1, false));
	}
	assert_true(summary_has(&res, 0, "time"));
	assert_false(summary_has(&res, 1, "time"));
	json_decref(root);
	tb_gen_result_free(&res);
	tb_recording_free(r);
}

/* Legacy forms of allowed calls come along (creat, open of openat), on the arch that has them. */
static void test_legacy_forms(void **state)
{
	struct tb_recording *r = basic_rec();
	struct tb_gen_result res = {0};
	struct tb_gen_opts o;
	json_t *root, *rule;

	tb_gen_opts_init(&o);
	gen(r, &o, &res);
	root = rules_of(res.seccomp);
	assert_true(summary_has(&res, 0, "open"));
	assert_true(summary_has(&res, 0, "creat"));
	assert_false(summary_has(&res, 0, "stat")); /* newfstatat was not recorded */
	rule = find_rule(root, "creat", "SCMP_ACT_ALLOW", -1, false);
	assert_non_null(rule);
	assert_non_null(strstr(json_string_value(json_object_get(rule, "comment")), "legacy forms"));
	json_decref(root);
	tb_gen_result_free(&res);
	tb_recording_free(r);
}

static void test_args_modes(void **state)
{
	struct tb_recording *r = basic_rec();
	struct tb_gen_result none = {0}, strict = {0};
	struct tb_gen_opts o;
	json_t *root, *rule;
	size_t i, n_ioctl = 0;

	tb_gen_opts_init(&o);
	o.args = TB_GEN_ARGS_NONE;
	gen(r, &o, &none);
	assert_null(strstr(none.seccomp, "\"args\""));
	root = rules_of(none.seccomp);
	assert_non_null(find_rule(root, "ioctl", "SCMP_ACT_ALLOW", -1, false));
	json_decref(root);

	o.args = TB_GEN_ARGS_STRICT;
	gen(r, &o, &strict);
	root = rules_of(strict.seccomp);
	json_array_foreach(json_object_get(root, "syscalls"), i, rule)
	{
		json_t *arg = json_array_get(json_object_get(rule, "args"), 0);

		if (strcmp(json_string_value(json_array_get(json_object_get(rule, "names"), 0)),
			   "ioctl") ||
		    strcmp(json_string_value(json_object_get(rule, "action")), "SCMP_ACT_ALLOW"))
			continue;
		/* Only the recorded request, compared on its low 32 bits. */
		assert_int_equal(json_integer_value(json_object_get(arg, "value")), 0xffffffff);
		assert_int_equal(json_integer_value(json_object_get(arg, "valueTwo")), TCGETS);
		n_ioctl++;
	}
	assert_int_equal(n_ioctl, 1);
	json_decref(root);
	tb_gen_result_free(&none);
	tb_gen_result_free(&strict);
	tb_recording_free(r);
}

static void test_bad_input(void **state)
{
	static const char *const names[] = {"read", NULL};
	struct tb_recording *a64 = rec_new("aarch64", "arm", names);
	struct tb_recording *empty = tb_recording_new();
	struct tb_gen_result res = {0};
	struct tb_gen_input in = {.path = "arm.json", .rec = a64};
	struct tb_gen_opts o;
	struct tb_diag d;

	tb_gen_opts_init(&o);
	assert_int_equal(tb_generate(&in, 1, &o, &res, &d), -EINVAL);
	assert_string_equal(d.file, "arm.json");
	assert_non_null(strstr(d.message, "aarch64"));
	assert_non_null(strstr(d.message, "--arch"));
	assert_null(res.seccomp);

	empty->prov.arch = strdup("x86_64");
	in = (struct tb_gen_input){.path = "empty.json", .rec = empty};
	assert_int_equal(tb_generate(&in, 1, &o, &res, &d), -EINVAL);
	assert_string_equal(d.file, "empty.json");
	assert_non_null(strstr(d.message, "no syscalls"));

	o.arches[0] = "vax";
	o.n_arches = 1;
	in = (struct tb_gen_input){.path = "arm.json", .rec = a64};
	assert_int_equal(tb_generate(&in, 1, &o, &res, &d), -EINVAL);
	assert_non_null(strstr(d.message, "vax"));
	/* With --arch aarch64 the same recording is fine. */
	o.arches[0] = "aarch64";
	assert_int_equal(tb_generate(&in, 1, &o, &res, &d), 0);
	tb_gen_result_free(&res);
	tb_recording_free(a64);
	tb_recording_free(empty);
}

/* The child's result: 200+errno, 0 for success, 199 when the filter could not be loaded. */
static int child_call(const struct sock_fprog *prog, long nr, unsigned long a0, unsigned long a1,
		      unsigned long a2)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		long r;

		signal(SIGSYS, SIG_DFL);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0)
			_exit(199);
		r = syscall(nr, a0, a1, a2, 0, 0);
		if (r > 0 && nr == SYS_clone)
			_exit(0); /* the parent side of a clone that worked */
		if (r == 0 && nr == SYS_clone)
			syscall(SYS_exit_group, 0);
		_exit(r < 0 ? 200 + errno : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		fail_msg("child killed by signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

static void test_enforced(void **state)
{
	struct tb_recording *r = basic_rec();
	struct tb_gen_result res = {0};
	struct tb_profile *p = NULL;
	struct sock_fprog prog;
	struct tb_compile_opts co = {0};
	struct tb_gen_opts o;
	struct tb_diag d;
	void *ctx = NULL;
	char buf[1024];
	unsigned long hi = 1UL << 32;
	char c = 'x';
	int fd = open("/dev/null", O_RDWR);

	assert_true(fd >= 0);
#if defined(__SANITIZE_ADDRESS__)
	/* The sanitizer runtime in the child makes calls a profile for this recording denies. */
	close(fd);
	tb_recording_free(r);
	skip();
#endif
	tb_gen_opts_init(&o);
	gen(r, &o, &res);
	if (tb_profile_parse(res.seccomp, strlen(res.seccomp), "gen.json", &p, &d) < 0 ||
	    tb_profile_compile(p, &co, &ctx, &d) < 0)
		fail_msg("the generated profile does not compile: %s",
			 tb_diag_format(&d, buf, sizeof(buf)));
	assert_int_equal(tb_profile_export_bpf(ctx, &prog), 0);
	/* TIOCSTI is refused with EPERM, also with high bits set in the 64-bit register. */
	assert_int_equal(child_call(&prog, SYS_ioctl, fd, TIOCSTI, (unsigned long)&c), 200 + EPERM);
	assert_int_equal(child_call(&prog, SYS_ioctl, fd, TIOCSTI | hi, (unsigned long)&c),
			 200 + EPERM);
	assert_int_equal(child_call(&prog, SYS_ioctl, fd, TIOCLINUX | hi, (unsigned long)&c),
			 200 + EPERM);
	/* Other requests reach the kernel (/dev/null is not a tty). */
	assert_int_equal(child_call(&prog, SYS_ioctl, fd, TCGETS, (unsigned long)buf),
			 200 + ENOTTY);
	assert_int_equal(child_call(&prog, SYS_ioctl, fd, FIONREAD | hi, (unsigned long)buf),
			 200 + ENOTTY);
	/* clone: namespaces EPERM, a plain fork works; clone3 ENOSYS. */
	assert_int_equal(child_call(&prog, SYS_clone, CLONE_NEWUSER_FLAG | SIGCHLD, 0, 0),
			 200 + EPERM);
	assert_int_equal(child_call(&prog, SYS_clone, SIGCHLD, 0, 0), 0);
	assert_int_equal(child_call(&prog, SYS_clone3, 0, 0, 0), 200 + ENOSYS);
	/* socket: the recorded family works, AF_PACKET is EPERM (high bits too), others ENOSYS. */
	assert_int_equal(child_call(&prog, SYS_socket, AF_UNIX, SOCK_STREAM, 0), 0);
	assert_int_equal(child_call(&prog, SYS_socket, AF_PACKET | hi, SOCK_RAW, 0), 200 + EPERM);
	assert_int_equal(child_call(&prog, SYS_socket, AF_INET, SOCK_STREAM, 0), 200 + ENOSYS);
	/* Dangerous and unlisted names. */
	assert_int_equal(child_call(&prog, SYS_ptrace, 0, 0, 0), 200 + EPERM);
	assert_int_equal(child_call(&prog, SYS_unshare, CLONE_NEWUSER_FLAG, 0, 0), 200 + EPERM);
	assert_int_equal(child_call(&prog, SYS_getppid, 0, 0, 0), 200 + ENOSYS);
	free(prog.filter);
	tb_profile_ctx_free(ctx);
	tb_profile_free(p);
	close(fd);
	tb_gen_result_free(&res);
	tb_recording_free(r);
}

/* generate --phases: phase 2 drops execve/seccomp and anonymous executable memory unless the
 * user-phase recordings show them. */
static void test_phase2(void **state)
{
	static const char *const user[] = {"read", "write", "mmap", "mprotect", "exit_group",
					   "seccomp", NULL};
	const char *prot_key[] = {"a2"};
	uint64_t rw[] = {PROT_READ | PROT_WRITE}, rx[] = {PROT_READ | PROT_EXEC};
	struct tb_recording *r = rec_new("x86_64", "user", user);
	struct tb_gen_result res = {0};
	struct tb_gen_opts o;
	struct tb_gen_input in = {.path = "user.json", .rec = r};
	char *text = NULL, **names = NULL;
	json_t *root, *rule;

	(void)state;
	tb_gen_opts_init(&o);
	assert_int_equal(tb_recording_add_args(r, "x86_64", "mprotect", 1, prot_key, rw, 2), 0);
	gen(r, &o, &res);
	/* The tightbox prelude allows execve for the runner's exec: phase 2 does not need it. */
	assert_non_null(strstr(res.seccomp, "\"execve\""));
	assert_int_equal(tb_gen_phase2(res.seccomp, &in, 1, &text, &names), 0);
	root = rules_of(text);
	assert_null(find_rule(root, "execve", "SCMP_ACT_ALLOW", -1, false));
	assert_null(find_rule(root, "seccomp", "SCMP_ACT_ALLOW", -1, false));
	assert_null(find_rule(root, "mmap", "SCMP_ACT_ALLOW", -1, false));
	assert_null(find_rule(root, "mprotect", "SCMP_ACT_ALLOW", -1, false));
	rule = find_rule(root, "mprotect", "SCMP_ACT_ALLOW", -1, true);
	assert_non_null(rule);
	assert_int_equal(json_integer_value(json_object_get(
			     json_array_get(json_object_get(rule, "args"), 0), "value")),
			 PROT_EXEC);
	assert_non_null(find_rule(root, "mmap", "SCMP_ACT_ALLOW", -1, true));
	assert_non_null(find_rule(root, "read", "SCMP_ACT_ALLOW", -1, false));
	assert_true(tb_strv_has(names, "mmap") && !tb_strv_has(names, "execve") &&
		    !tb_strv_has(names, "seccomp"));
	/* The whole filter compiles (libseccomp takes the masked rules). */
	{
		struct tb_profile *p = NULL;
		struct tb_compile_opts co = {0};
		struct tb_diag d;
		void *ctx = NULL;

		assert_int_equal(tb_profile_parse(text, strlen(text), "phase2.json", &p, &d), 0);
		assert_int_equal(tb_profile_compile(p, &co, &ctx, &d), 0);
		tb_profile_ctx_free(ctx);
		tb_profile_free(p);
	}
	json_decref(root);
	free(text);
	tb_strv_free(names);
	tb_gen_result_free(&res);

	/* A user phase that made memory executable and ran a program keeps both. */
	assert_int_equal(tb_recording_add_args(r, "x86_64", "mprotect", 1, prot_key, rx, 1), 0);
	assert_int_equal(tb_recording_add_syscall(r, "x86_64", "execve", 1), 0);
	gen(r, &o, &res);
	assert_int_equal(tb_gen_phase2(res.seccomp, &in, 1, &text, &names), 0);
	root = rules_of(text);
	assert_non_null(find_rule(root, "execve", "SCMP_ACT_ALLOW", -1, false));
	assert_non_null(find_rule(root, "mprotect", "SCMP_ACT_ALLOW", -1, false));
	assert_null(find_rule(root, "mmap", "SCMP_ACT_ALLOW", -1, false));
	json_decref(root);
	free(text);
	tb_strv_free(names);
	tb_gen_result_free(&res);
	assert_int_equal(tb_gen_phase2("{\"no\": 1}", &in, 1, &text, &names), -EINVAL);
	tb_recording_free(r);
}

/* The compiled phase 2 of @r's profile. */
static void phase2_prog(struct tb_recording *r, struct sock_fprog *prog)
{
	struct tb_gen_input in = {.path = "user.json", .rec = r};
	struct tb_gen_result res = {0};
	struct tb_compile_opts co = {0};
	struct tb_profile *p = NULL;
	char *text = NULL, **names = NULL;
	struct tb_gen_opts o;
	struct tb_diag d;
	void *ctx = NULL;

	tb_gen_opts_init(&o);
	gen(r, &o, &res);
	assert_int_equal(tb_gen_phase2(res.seccomp, &in, 1, &text, &names), 0);
	assert_int_equal(tb_profile_parse(text, strlen(text), "phase2.json", &p, &d), 0);
	assert_int_equal(tb_profile_compile(p, &co, &ctx, &d), 0);
	assert_int_equal(tb_profile_export_bpf(ctx, prog), 0);
	tb_profile_ctx_free(ctx);
	tb_profile_free(p);
	free(text);
	tb_strv_free(names);
	tb_gen_result_free(&res);
}

/* Filter installation and SHM_EXEC, through the compiled phase 2 in a child: prctl stays for its
 * other options, PR_SET_SECCOMP and shmat with SHM_EXEC get the default errno (ENOSYS), unless a
 * user-phase recording used PR_SET_SECCOMP. */
static void test_phase2_enforced(void **state)
{
	static const char *const user[] = {"read", "write", "exit_group", "prctl", "shmat", NULL};
	const char *key[] = {"a0"};
	uint64_t set_name[] = {PR_SET_NAME}, set_seccomp[] = {PR_SET_SECCOMP};
	struct tb_recording *r = rec_new("x86_64", "user", user);
	struct sock_fprog prog = {0};
	char name[] = "phase2";

	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	tb_recording_free(r);
	skip(); /* the sanitizer runtime in the child makes calls this profile denies */
#endif
	assert_int_equal(tb_recording_add_args(r, "x86_64", "prctl", 1, key, set_name, 1), 0);
	phase2_prog(r, &prog);
	assert_int_equal(child_call(&prog, SYS_prctl, PR_SET_NAME, (unsigned long)name, 0), 0);
	/* SECCOMP_MODE_STRICT: had it been allowed, the child's _exit would be SIGKILLed. */
	assert_int_equal(child_call(&prog, SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0),
			 200 + ENOSYS);
	assert_int_equal(child_call(&prog, SYS_shmat, (unsigned long)-1, 0, SHM_EXEC),
			 200 + ENOSYS);
	assert_int_equal(child_call(&prog, SYS_shmat, (unsigned long)-1, 0, 0), 200 + EINVAL);
	free(prog.filter);
	/* Recorded in the user phase: prctl keeps every option. */
	assert_int_equal(tb_recording_add_args(r, "x86_64", "prctl", 1, key, set_seccomp, 1), 0);
	phase2_prog(r, &prog);
	assert_int_equal(child_call(&prog, SYS_prctl, PR_SET_SECCOMP, 99, 0), 200 + EINVAL);
	free(prog.filter);
	tb_recording_free(r);
}

static void test_export(void **state)
{
	struct tb_recording *r = basic_rec();
	struct tb_gen_result res = {0};
	struct tb_export_opts eo = {.format = TB_EXPORT_OCI, .apparmor = true};
	char dir[] = "/tmp/tb-test-export-XXXXXX", path[256];
	char *text = NULL;
	struct tb_gen_opts o;
	struct tb_diag d;
	json_error_t je;
	json_t *oci;
	FILE *f;

	tb_gen_opts_init(&o);
	gen(r, &o, &res);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/seccomp.json", dir);
	eo.profile_dir = dir;
	/* Missing profile: an error naming it. */
	assert_int_equal(tb_export(&eo, &text, &d), -EINVAL);
	assert_non_null(strstr(d.file, "seccomp.json"));
	/* The tightbox-only profile lacks runc's prelude: refused, naming the generate flag. */
	f = fopen(path, "w");
	fputs(res.seccomp, f);
	fclose(f);
	assert_int_equal(tb_export(&eo, &text, &d), -EINVAL);
	assert_non_null(strstr(d.message, "fstatfs"));
	assert_non_null(strstr(d.message, "--runtime tightbox,runc"));
	tb_gen_result_free(&res);
	o.runtimes = TB_GEN_RUNTIME_BIT(TB_GEN_RUNTIME_TIGHTBOX) | TB_GEN_RUNTIME_BIT(TB_GEN_RUNTIME_RUNC);
	gen(r, &o, &res);
	f = fopen(path, "w");
	fputs(res.seccomp, f);
	fclose(f);
	assert_int_equal(tb_export(&eo, &text, &d), 0);
	oci = json_loads(text, 0, &je);
	assert_non_null(oci);
	assert_true(
	    json_is_true(json_object_get(json_object_get(oci, "process"), "noNewPrivileges")));
	assert_int_equal(
	    json_integer_value(json_object_get(
		json_object_get(json_object_get(json_object_get(oci, "linux"), "resources"),
				"pids"),
		"limit")),
	    64);
	assert_non_null(json_object_get(json_object_get(oci, "linux"), "seccomp"));
	json_decref(oci);
	free(text);
	eo.format = TB_EXPORT_DOCKER;
	assert_int_equal(tb_export(&eo, &text, &d), 0);
	assert_non_null(strstr(text, "--security-opt seccomp="));
	assert_non_null(strstr(text, "--cap-drop ALL"));
	free(text);
	unlink(path);
	rmdir(dir);
	tb_gen_result_free(&res);
	tb_recording_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_deterministic_and_shape),
	    cmocka_unit_test(test_landlock_output),
	    cmocka_unit_test(test_arch_mapping),
	    cmocka_unit_test(test_runc_prelude),
	    cmocka_unit_test(test_vdso_baseline),
	    cmocka_unit_test(test_legacy_forms),
	    cmocka_unit_test(test_args_modes),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_enforced),
	    cmocka_unit_test(test_export),
	    cmocka_unit_test(test_phase2),
	    cmocka_unit_test(test_phase2_enforced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
