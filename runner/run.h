/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tb_run(): run one command in the hardened sandbox and collect a result.
 *
 * The CLI (`tightbox run`), the recorder (`tightbox record`), `tightbox explain` and the tests all
 * call this. Defaults (tb_run_config_init) equal the seed's hardened `docker run` line, so a caller
 * that changes nothing gets the locked-down sandbox.
 */
#ifndef TB_RUN_H
#define TB_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/diag.h"

#define TB_MAX_MOUNTS 32
/* The most bytes of stdout (and of stderr) a run keeps in memory. */
#define TB_OUTPUT_LIMIT_MAX (1ull << 30)
#define TB_MAX_ENV 128
/* The cgroup under which each run's own is made, unless --cgroup-parent says otherwise. */
#define TB_CGROUP_PARENT "tightbox"
/* The sandbox's PATH unless -e PATH=... says otherwise. */
#define TB_RUN_PATH "/usr/local/bin:/usr/bin:/bin"

struct tb_tmpfs {
	char *path;       /* mount point inside the sandbox */
	uint64_t size;    /* bytes */
	unsigned long flags; /* MS_NOEXEC | MS_NOSUID | MS_NODEV ... */
	unsigned mode;    /* 01777 by default */
};

struct tb_volume {
	char *src; /* host path, must exist */
	char *dst; /* absolute path inside the sandbox */
	bool rw;   /* read-only unless the user said rw */
};

/* A file put into the working directory (--input FILE[:NAME]). */
struct tb_run_input {
	char *path; /* host file, read by tightbox (its mode does not matter) */
	char *name; /* one path component inside /sandbox */
};

#define TB_MAX_INPUTS 64

struct tb_rlimit_pair {
	bool set;
	uint64_t soft, hard;
};

/* Where the seccomp filter comes from. */
enum tb_seccomp_mode {
	TB_SECCOMP_DEFAULT,    /* the shipped default profile (profiles/default.json) */
	TB_SECCOMP_FILE,       /* seccomp_path */
	TB_SECCOMP_UNCONFINED, /* no filter at all (explicit user choice) */
};

struct tb_run_config {
	char **argv; /* command to execute (NULL-terminated, owned by caller) */
	char *rootfs; /* "/" by default: shown read-only */
	char *workdir; /* NULL: "/" ("/sandbox" with --script) */
	char *script; /* --script FILE: copied to /sandbox/script.py (the file's mode does not matter) */
	char *code;   /* --code STRING: written to /sandbox/script.py; excludes script */
	char *stdin_path; /* NULL: /dev/null */
	bool stdin_inherit; /* -i: the sandbox reads what tightbox's stdin holds, up to stdin_limit */
	uint64_t stdin_limit; /* bytes of -i input passed on (the rest is counted, not passed) */

	/*
	 * The working directory /sandbox: a writable, size-limited noexec tmpfs holding the script and
	 * the inputs, created when one of script, code, inputs or output_dir is set (as root; an
	 * unprivileged tightbox binds the script read-only instead and refuses the others).
	 */
	struct tb_run_input inputs[TB_MAX_INPUTS];
	size_t n_inputs;
	uint64_t workdir_size;  /* bytes of the /sandbox tmpfs (64m) */
	char *output_dir;       /* --output-dir HOST_DIR: what the code wrote to /sandbox/out is copied there */
	uint64_t output_max_bytes; /* copy-out bounds (64m, 1000 files) */
	uint64_t output_max_files;

	struct tb_tmpfs tmpfs[TB_MAX_MOUNTS];
	size_t n_tmpfs;
	struct tb_volume volumes[TB_MAX_MOUNTS];
	size_t n_volumes;
	char *env[TB_MAX_ENV]; /* "K=V", on top of the minimal PATH/LANG/HOME */
	size_t n_env;

	uint64_t memory;      /* bytes, 0 = unlimited */
	int64_t memory_swap;  /* bytes of memory+swap, -1 unlimited, 0 = same as memory */
	double cpus;          /* CPUs, 0 = unlimited */
	int64_t pids_limit;   /* -1 unlimited */
	struct tb_rlimit_pair rlimits[16]; /* indexed by RLIMIT_* (--ulimit); nofile/nproc set by default */
	uint64_t shm_size;    /* bytes of the /dev/shm tmpfs, 0 = no /dev/shm */
	uid_t uid;
	gid_t gid;

	enum tb_seccomp_mode seccomp_mode;
	char *seccomp_path;
	char *apparmor_profile; /* NULL: none */
	char *landlock_path;    /* --security-opt landlock=FILE; NULL: the built-in default ruleset */
	bool landlock_off;      /* --security-opt landlock=unconfined */

	double timeout;       /* seconds, 0 = none */
	uint64_t stdout_limit; /* bytes kept */
	uint64_t stderr_limit;
	bool passthrough;     /* write the (capped) output to our stdout/stderr as it arrives */
	bool escape_stdout;   /* ... with terminal control sequences written as \xNN (--escape-output) */
	bool escape_stderr;
	bool trace_denials;   /* compile the profile with deny actions turned into SCMP_ACT_TRACE (explain) */
	char *cgroup_parent;  /* name of the parent cgroup, NULL: TB_CGROUP_PARENT */
	/* Two-phase policy (runner/two-phase.c): with two_phase_path set, argv must be
	 * `python3 FILE [ARGS]`; start-up and the comma-separated @preload modules run under the
	 * filter above, then a bootstrap stacks the filter compiled from two_phase_path before the
	 * first line of FILE runs. */
	char *two_phase_path; /* --two-phase PROFILE2; NULL: one phase */
	char *preload;        /* --preload MODULES ("numpy,pandas"); NULL: none */
	/* `record --phase`: the bootstrap runs with a phase 2 that allows everything (the recorder's
	 * own filter still traces every call); two_phase_path must be NULL. */
	bool two_phase_permissive;
	/* The two-phase bootstrap also gives the Python context (explain and record;
	 * tracer/pyctx.h): runner/python-context.py comes with it. */
	bool python_context;
	/* Warm run (runner/warm.c, `run --warm`, the pool of `serve --pool`): the sandbox starts and
	 * imports @preload, then waits. @warm_fd carries one JSON line of limits (they can only lower
	 * the ones above), then the request the bootstrap reads ({"code", "stdin", "env", "files",
	 * "output"});
	 * the timeout, the output caps and the reported usage count from that line. Needs
	 * two_phase_path, root (the /sandbox tmpfs) and no script, code or stdin of its own. */
	bool warm;
	int warm_fd;
};

/* The stages of a run, in order, as tb_run_result.stage_us times them (`run --debug-timing`). */
enum tb_run_stage {
	TB_RUN_STAGE_VALIDATE,     /* host paths, flags */
	TB_RUN_STAGE_PROFILE,      /* read, parse and compile the profile, or the cached program */
	TB_RUN_STAGE_PLAN,         /* Landlock file, stdin, environment, output buffers */
	TB_RUN_STAGE_CGROUP,       /* create and configure the run's cgroups */
	TB_RUN_STAGE_PIPES,
	TB_RUN_STAGE_JANITOR,      /* fork of the cgroup janitor */
	TB_RUN_STAGE_SIGNALS,      /* signalfd, the /proc visibility check */
	TB_RUN_STAGE_CLONE,        /* clone3 into the new namespaces (the parent's side) */
	TB_RUN_STAGE_IDMAPS,       /* id maps, cgroup attach, recorder hook, handshake */
	TB_RUN_STAGE_CHILD_START,  /* clone until the child begins its setup */
	TB_RUN_STAGE_SESSION,      /* child: own session, fresh keyring */
	TB_RUN_STAGE_CHILD_CGROUP, /* child: v1 cgroups, cgroup namespace, quota files */
	TB_RUN_STAGE_MOUNTS,       /* child: the new root, /dev, volumes, tmpfs, pivot */
	TB_RUN_STAGE_PROC,         /* child: /proc and its masking */
	TB_RUN_STAGE_NSQUOTA,      /* child: namespace quotas to zero */
	TB_RUN_STAGE_HOSTNAME,     /* child: hostname, loopback, workdir, fds */
	TB_RUN_STAGE_RELEASE,      /* child: waiting for the parent's release */
	TB_RUN_STAGE_PRIVS,        /* child: rlimits, AppArmor, capabilities, uid, no_new_privs */
	TB_RUN_STAGE_LANDLOCK,
	TB_RUN_STAGE_LOOKUP,       /* child: find the command */
	/* A recorder's hook, the filter, execve and the program itself, until the init is reaped.
	 * The filter's load is not timed on its own: a timestamp after it could be a syscall the
	 * profile refuses (where the clock has no vDSO), and nothing of tightbox's but execve runs
	 * under the filter. */
	TB_RUN_STAGE_EXEC,
	TB_RUN_STAGE_DRAIN,        /* output drained, result assembled */
	TB_RUN_STAGE_TEARDOWN,     /* cgroups removed, janitor ended, fds closed */
	TB_RUN_STAGE_N,
};

/* A short name for @s ("cgroup", "mounts", ...); "?" when out of range. */
const char *tb_run_stage_name(enum tb_run_stage s);

/* Result of one run. Strings are owned by the result (tb_run_result_free). */
struct tb_run_result {
	char *out;       /* first stdout_limit bytes, NUL-terminated (may contain NULs inside) */
	size_t out_len;
	char *err;
	size_t err_len;
	uint64_t out_bytes, err_bytes; /* totals the program produced */
	bool out_truncated, err_truncated;
	/* Beyond the limit the first half and the last half are kept, with a marker line between
	 * them (out/err hold head + marker + tail): the bytes left out of the middle. */
	uint64_t out_omitted, err_omitted;
	uint64_t stdin_bytes;   /* -i: bytes read from tightbox's stdin */
	bool stdin_truncated;   /* -i: stdin held more than stdin_limit (not passed on) */
	bool has_output;        /* output_dir was set: the output_* fields are valid */
	uint64_t output_files, output_bytes; /* copied to output_dir */
	char **output_skipped;  /* "NAME: why" for what was not copied (symlink, device, bound), or NULL */
	bool exited;     /* exit_code valid */
	int exit_code;
	int signal;      /* >0 when killed by a signal */
	bool timed_out;
	bool oom_killed;
	bool exec_failed; /* the command could not be executed: exec_errno says why */
	int exec_errno;
	uint64_t wall_ms, cpu_ms, max_rss_kib;
	char *error;     /* NULL, or why tightbox itself failed (setup step and errno) */
	struct tb_warning *warnings; /* n_warnings of them (e.g. TB_WARN_NO_CGROUP), may be NULL */
	size_t n_warnings;
	uint64_t stage_us[TB_RUN_STAGE_N]; /* microseconds per stage; 0 for stages not reached */
};

/*
 * Hooks that let the recorder and the explainer work inside the very same sandbox.
 * All may be NULL.
 */
struct tb_run_hooks {
	void *data;
	/*
	 * In the sandbox child, after every other hardening step and immediately before the seccomp
	 * filter would be loaded (and then execve). Return 0 to go on, -errno to abort the run.
	 * The ptrace recorder loads its own RET_TRACE filter here; the bpf recorder makes a marker call.
	 */
	int (*child_before_filter)(void *data);
	/* When true, the configured seccomp filter is not loaded (recording without enforcement). */
	bool skip_filter;
	/* In the parent, once the child exists and is in its cgroup2 directory (the v1 ones it joins
	 * itself), before it is released to run anything of the command. */
	int (*parent_started)(pid_t child, void *data);
	/*
	 * In the parent, for every waitpid(-1, __WALL) result other than the final exit of the sandbox
	 * init (ptrace stops, exits of traced descendants, and ptrace stops of the init itself).
	 * The hook must resume stopped tracees itself.
	 */
	void (*parent_on_wait)(pid_t pid, int status, void *data);
	/*
	 * In the parent, once @res is complete and nothing that follows changes it (the sandbox init
	 * is reaped, its output drained; no /sandbox/out copy-out is due): before the teardown, so
	 * that a caller can pass the result on while the cgroups are removed (`run --warm --json`).
	 * Not called when the run failed.
	 */
	void (*result_ready)(const struct tb_run_result *res, void *data);
};

/* "python", "python3", "/usr/bin/python3.11": @argv0 names a Python interpreter. */
bool tb_run_is_python(const char *argv0);

/*
 * The command that runs @argv under the Python-context bootstrap (tracer/pyctx.h): `python3
 * [OPTIONS] -c BOOTSTRAP MODE TARGET [ARGS]` for `python3 [OPTIONS] SCRIPT|-c CODE|-m MODULE
 * [ARGS]`. 0 and *@out (free with free(); the strings are @argv's or static) when @argv is such a
 * command; -ENOTSUP with *@why saying why not (static) when it is not; -ENOMEM.
 */
int tb_run_python_context_argv(char *const *argv, char ***out, const char **why);
/* Which of tightbox's Python bootstraps @arg is the text of (a command that already runs one). */
enum tb_run_bootstrap {
	TB_RUN_BOOTSTRAP_NONE,
	TB_RUN_BOOTSTRAP_CONTEXT, /* it gives the Python context: python-context.py's, or two-phase's
				   * with it */
	TB_RUN_BOOTSTRAP_OTHER,   /* the plain two-phase bootstrap */
};
enum tb_run_bootstrap tb_run_bootstrap_kind(const char *arg);

/* Fills @c with the hardened defaults (the seed's docker run line). Returns 0 or -ENOMEM. */
int tb_run_config_init(struct tb_run_config *c);
/* Frees what tb_run_config_init and the tb_run_config_* setters allocated. Accepts NULL. */
void tb_run_config_free(struct tb_run_config *c);

/*
 * Runs @c->argv in the sandbox. Returns 0 when the run happened (whatever the program did: see
 * @res), or -errno when tightbox could not set the sandbox up; then @diag says why and nothing of
 * the command ran. @res is filled in both cases (error set on failure). @hooks may be NULL.
 */
int tb_run(const struct tb_run_config *c, const struct tb_run_hooks *hooks, struct tb_run_result *res,
	   struct tb_diag *diag);

/* Appends a warning of @kind about @subject (may be NULL) with a printf-style message. 0 or -ENOMEM. */
int tb_run_result_warnf(struct tb_run_result *res, enum tb_warning_kind kind, const char *subject,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Frees the strings of @r. Accepts NULL. */
void tb_run_result_free(struct tb_run_result *r);

struct json_t;
/* The documented JSON object for @r (a new jansson reference; the caller may add members, e.g.
 * "explain"). NULL on ENOMEM. */
struct json_t *tb_run_result_to_json(const struct tb_run_result *r);

/* Writes @r as the documented JSON object (one line) to @fd. Returns 0 or -errno. */
int tb_run_result_write_json(const struct tb_run_result *r, int fd);

/* docker-compatible exit status for @r: child code, 128+sig, 124 timeout, 125/126/127. */
int tb_run_result_exit_status(const struct tb_run_result *r);

/*
 * The bytes of memory the cgroups a run's own would be made under (@parent, NULL: TB_CGROUP_PARENT,
 * and each level above it up to the hierarchy's root, which in a container's cgroup namespace is
 * the container's own cgroup) can still give before one of their limits: the least of limit minus
 * usage. UINT64_MAX when none of them is limited (or there is no memory controller to read).
 */
uint64_t tb_cgroup_memory_room(const char *parent);

#endif
