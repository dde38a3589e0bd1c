/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `docker run`-style options, spelled as docker spells them. Shared by run, record and explain.
 * Defaults come from tb_run_config_init (the seed's hardened line); flags can only keep or tighten
 * the hardening that matters (no --cap-add, no network, no privileged mode).
 */
#include "cli/run-options.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cli/output.h"
#include "core/parse.h"
#include "core/util.h"

void tb_run_cli_help(FILE *f)
{
	fputs("Options (spelled as docker run spells them; defaults are the hardened seed line):\n"
	      "      --network none            only 'none' is accepted (a loopback interface exists)\n"
	      "      --read-only               always on: the root is a read-only view of --rootfs\n"
	      "      --rootfs DIR              root filesystem to show read-only (default /: only\n"
	      "                                /usr /bin /sbin /lib* /etc /opt of the host)\n"
	      "      --tmpfs PATH[:OPTS]       writable tmpfs; OPTS size=N,mode=1777,noexec|exec\n"
	      "                                (default /tmp:size=50m,noexec,nosuid,nodev)\n"
	      "      --shm-size SIZE           size of /dev/shm (default 16m, 0 for none)\n"
	      "  -m, --memory SIZE             memory limit (default 256m)\n"
	      "      --memory-swap SIZE        memory+swap limit, -1 unlimited (default = --memory)\n"
	      "      --cpus N                  CPU quota (default 0.5)\n"
	      "      --pids-limit N            max processes, -1 unlimited (default 64)\n"
	      "      --ulimit NAME=SOFT[:HARD] e.g. nofile=64:64 (default), nproc=32:32 (default)\n"
	      "      --cap-drop ALL            always: every capability set is empty\n"
	      "      --cap-add CAP             refused\n"
	      "      --security-opt no-new-privileges   always on\n"
	      "      --security-opt seccomp=FILE|unconfined   Docker/OCI JSON profile (default:\n"
	      "                                the shipped profiles/default.json)\n"
	      "      --security-opt apparmor=PROFILE   confine with an AppArmor profile where the\n"
	      "                                kernel has AppArmor (else a warning; Landlock stays)\n"
	      "      --security-opt landlock=FILE|unconfined   Landlock ruleset (default: built-in:\n"
	      "                                write only to writable mounts)\n"
	      "  -u, --user UID[:GID]          numeric ids (default 65534:65534; 0 is refused)\n"
	      "  -e, --env K=V | K             set a variable (K alone copies the caller's value);\n"
	      "                                nothing else of the caller's environment is passed\n"
	      "  -v, --volume SRC:DST[:ro|rw]  bind a host path (read-only unless rw; rw is noexec)\n"
	      "  -w, --workdir DIR             working directory (default /, /sandbox with --script)\n"
	      "      --timeout SECONDS         wall-clock limit, kills the whole tree (default 10;\n"
	      "                                fractions and ms/s/m/h suffixes allowed; 0 = none)\n"
	      "      --stdout-limit BYTES      stdout bytes kept (default 10000, at most 1g; the\n"
	      "                                rest is counted)\n"
	      "      --stderr-limit BYTES      stderr bytes kept (default 2000)\n"
	      "      --stdin FILE              file to use as stdin (default /dev/null; a regular\n"
	      "                                file or a character device, never a FIFO)\n"
	      "  -i, --interactive             the sandbox's stdin is tightbox's (read first, up to\n"
	      "                                --stdin-limit bytes, default 16m)\n"
	      "      --escape-output WHEN      auto|always|never: write terminal control sequences\n"
	      "                                of the passed-through output as \\xNN (auto: when\n"
	      "                                that stream is a terminal)\n"
	      "      --script FILE             copy FILE (any mode) to /sandbox/script.py and run\n"
	      "                                python3 /sandbox/script.py when no command is given\n"
	      "      --code STRING             the same with the script's text given inline\n"
	      "      --input FILE[:NAME]       copy FILE into /sandbox as NAME (default: its base name)\n"
	      "      --output-dir HOST_DIR     after the run, copy what the code wrote to /sandbox/out\n"
	      "                                into HOST_DIR (regular files and directories only, no\n"
	      "                                symlinks followed, no setuid bits; bounded by\n"
	      "                                --output-max-bytes 64m and --output-max-files 1000)\n"
	      "      --workdir-size SIZE       the writable noexec /sandbox tmpfs that --script,\n"
	      "                                --code, --input and --output-dir create (default 64m)\n"
	      "      --two-phase PROFILE2      Python only: after start-up and --preload, stack the\n"
	      "                                seccomp profile PROFILE2 before the script's first\n"
	      "                                line (runs python3 -I with a bootstrap; exit 125 if\n"
	      "                                phase 2 cannot be installed)\n"
	      "      --preload MODULES         comma-separated modules imported in phase 1\n"

	      "      --cgroup-parent NAME      parent cgroup name (default tightbox)\n"
	      "      --json                    print one JSON result object instead of the output\n"
	      "      --debug-timing            print the microseconds of each setup stage to stderr\n"
	      "      --rm                      accepted for docker compatibility (no effect)\n",
	      f);
}

__attribute__((format(printf, 3, 4))) static int bad(struct tb_diag *d, const char *flag,
						       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tb_diag_setv(d, NULL, 0, 0, flag, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Re-labels a value parser's diagnostic with the flag it came from. */
static int relabel(struct tb_diag *d, const char *flag, int r)
{
	if (r < 0 && d) {
		char msg[sizeof(d->message)];

		snprintf(msg, sizeof(msg), "%s", d->message);
		tb_diag_set(d, NULL, 0, 0, flag, "%s", msg);
	}
	return r;
}

static int replace_str(char **dst, const char *val)
{
	char *s = strdup(val);

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int security_opt(struct tb_run_config *c, const char *val, struct tb_diag *d)
{
	const char *eq = strchr(val, '=');
	const char *v = eq ? eq + 1 : NULL;
	size_t klen = eq ? (size_t)(eq - val) : strlen(val);

	/* docker accepts both "key=value" and the legacy "key:value". */
	if (!eq && (eq = strchr(val, ':'))) {
		v = eq + 1;
		klen = (size_t)(eq - val);
	}
	if (!strncmp(val, "no-new-privileges", klen) && klen == 17) {
		if (v && strcmp(v, "true") != 0)
			return bad(d, "--security-opt", "no-new-privileges is always on ('%s' refused)", v);
		return 0;
	}
	if (!v || !*v)
		return bad(d, "--security-opt", "'%s' needs a value (e.g. seccomp=FILE)", val);
	if (klen == 7 && !strncmp(val, "seccomp", 7)) {
		if (!strcmp(v, "unconfined")) {
			c->seccomp_mode = TB_SECCOMP_UNCONFINED;
			return 0;
		}
		c->seccomp_mode = TB_SECCOMP_FILE;
		return replace_str(&c->seccomp_path, v);
	}
	if (klen == 8 && !strncmp(val, "apparmor", 8)) {
		if (!strcmp(v, "unconfined")) {
			free(c->apparmor_profile);
			c->apparmor_profile = NULL;
			return 0;
		}
		return replace_str(&c->apparmor_profile, v);
	}
	if (klen == 8 && !strncmp(val, "landlock", 8)) {
		if (!strcmp(v, "unconfined")) {
			c->landlock_off = true;
			return 0;
		}
		c->landlock_off = false;
		return replace_str(&c->landlock_path, v);
	}
	return bad(d, "--security-opt", "unsupported option '%s' (known: no-new-privileges, "
		   "seccomp=, apparmor=, landlock=)", val);
}

static int add_env(struct tb_run_config *c, const char *val, struct tb_diag *d)
{
	char *s;

	if (c->n_env >= TB_MAX_ENV)
		return bad(d, "--env", "too many variables (max %s)", "128");
	if (!*val || *val == '=')
		return bad(d, "--env", "invalid variable '%s' (expected K=V or K)", val);
	if (strchr(val, '=')) {
		s = strdup(val);
	} else {
		/* docker semantics: "-e K" copies the caller's K, and nothing when it is unset. */
		const char *host = getenv(val);

		if (!host)
			return 0;
		if (asprintf(&s, "%s=%s", val, host) < 0)
			s = NULL;
	}
	if (!s)
		return -ENOMEM;
	c->env[c->n_env++] = s;
	return 0;
}

static int add_tmpfs(struct tb_run_config *c, bool *replaced_default, const char *val,
		     struct tb_diag *d)
{
	struct tb_tmpfs t;
	int r = relabel(d, "--tmpfs", tb_parse_tmpfs(val, &t.path, &t.size, &t.flags, &t.mode, d));

	if (r < 0)
		return r;
	/* The first user --tmpfs replaces the default /tmp only if it is for /tmp; same path
	 * twice means the later one wins, as in docker. */
	for (size_t i = 0; i < c->n_tmpfs; i++)
		if (!strcmp(c->tmpfs[i].path, t.path)) {
			free(c->tmpfs[i].path);
			c->tmpfs[i] = t;
			*replaced_default = true;
			return 0;
		}
	if (c->n_tmpfs >= TB_MAX_MOUNTS) {
		free(t.path);
		return bad(d, "--tmpfs", "too many tmpfs mounts%s", "");
	}
	c->tmpfs[c->n_tmpfs++] = t;
	return 0;
}

/* "FILE[:NAME]": NAME one path component (default: FILE's base name), not "out". */
static int add_input(struct tb_run_config *c, const char *val, struct tb_diag *d)
{
	const char *colon = strrchr(val, ':');
	const char *base;
	struct tb_run_input *in;

	if (c->n_inputs >= TB_MAX_INPUTS)
		return bad(d, "--input", "too many inputs (max %d)", TB_MAX_INPUTS);
	if (colon && colon[1] && !strchr(colon + 1, '/')) {
		base = colon + 1;
	} else {
		colon = NULL;
		base = strrchr(val, '/') ? strrchr(val, '/') + 1 : val;
	}
	if (!*val || colon == val || !*base || !strcmp(base, ".") || !strcmp(base, "..") ||
	    !strcmp(base, "out") || strlen(base) > 255)
		return bad(d, "--input", "'%s': expected FILE[:NAME], NAME one path component (not "
			   "'out', '.' or '..')", val);
	in = &c->inputs[c->n_inputs];
	in->path = colon ? strndup(val, (size_t)(colon - val)) : strdup(val);
	in->name = strdup(base);
	if (!in->path || !in->name) {
		free(in->path);
		free(in->name);
		in->path = in->name = NULL;
		return -ENOMEM;
	}
	c->n_inputs++;
	return 0;
}

static int bytes_value(const char *flag, const char *val, uint64_t *out, struct tb_diag *d)
{
	if (!strcmp(val, "0")) {
		*out = 0;
		return 0;
	}
	return relabel(d, flag, tb_parse_size(val, out, d));
}

/* Applies one option; @val is its value ("" for switches, so it is never NULL). */
static int apply(struct tb_run_cli *o, const char *name, const char *val, struct tb_diag *d)
{
	struct tb_run_config *c = &o->cfg;
	static bool dummy;
	int64_t n;
	int r;

	if (!strcmp(name, "--network") || !strcmp(name, "--net")) {
		if (strcmp(val, "none") != 0)
			return bad(d, "--network", "only 'none' is supported (got '%s'): the sandbox "
				   "never has network access", val);
		return 0;
	}
	if (!strcmp(name, "--tmpfs"))
		return add_tmpfs(c, &dummy, val, d);
	if (!strcmp(name, "--memory") || !strcmp(name, "-m"))
		return relabel(d, name, tb_parse_size(val, &c->memory, d));
	if (!strcmp(name, "--memory-swap")) {
		uint64_t v;

		if (!strcmp(val, "-1")) {
			c->memory_swap = -1;
			return 0;
		}
		if ((r = relabel(d, name, tb_parse_size(val, &v, d))) < 0)
			return r;
		c->memory_swap = (int64_t)v;
		return 0;
	}
	if (!strcmp(name, "--shm-size"))
		return bytes_value(name, val, &c->shm_size, d);
	if (!strcmp(name, "--cpus"))
		return relabel(d, name, tb_parse_cpus(val, &c->cpus, d));
	if (!strcmp(name, "--pids-limit")) {
		if ((r = relabel(d, name, tb_parse_int64(val, -1, 4194304, &n, d))) < 0)
			return r;
		c->pids_limit = n == 0 ? -1 : n;
		return 0;
	}
	if (!strcmp(name, "--ulimit")) {
		int res;
		uint64_t so, ha;

		if ((r = relabel(d, name, tb_parse_ulimit(val, &res, &so, &ha, d))) < 0)
			return r;
		c->rlimits[res] = (struct tb_rlimit_pair){true, so, ha};
		return 0;
	}
	if (!strcmp(name, "--cap-drop"))
		return 0; /* every capability is dropped whatever is named */
	if (!strcmp(name, "--cap-add"))
		return bad(d, "--cap-add", "refused: the sandbox runs with no capabilities (got '%s')",
			   val);
	if (!strcmp(name, "--privileged"))
		return bad(d, "--privileged", "refused%s", "");
	if (!strcmp(name, "--security-opt"))
		return security_opt(c, val, d);
	if (!strcmp(name, "--user") || !strcmp(name, "-u"))
		return relabel(d, name, tb_parse_user(val, &c->uid, &c->gid, d));
	if (!strcmp(name, "--env") || !strcmp(name, "-e"))
		return add_env(c, val, d);
	if (!strcmp(name, "--volume") || !strcmp(name, "-v")) {
		struct tb_volume *v;

		if (c->n_volumes >= TB_MAX_MOUNTS)
			return bad(d, name, "too many volumes%s", "");
		v = &c->volumes[c->n_volumes];
		if ((r = relabel(d, name, tb_parse_volume(val, &v->src, &v->dst, &v->rw, d))) < 0)
			return r;
		c->n_volumes++;
		return 0;
	}
	if (!strcmp(name, "--workdir") || !strcmp(name, "-w")) {
		char *p;

		if ((r = relabel(d, name, tb_parse_sandbox_path(val, &p, d))) < 0)
			return r;
		free(c->workdir);
		c->workdir = p;
		return 0;
	}
	if (!strcmp(name, "--rootfs"))
		return replace_str(&c->rootfs, val);
	if (!strcmp(name, "--timeout"))
		return relabel(d, name, tb_parse_duration(val, &c->timeout, d));
	if (!strcmp(name, "--stdout-limit"))
		return bytes_value(name, val, &c->stdout_limit, d);
	if (!strcmp(name, "--stderr-limit"))
		return bytes_value(name, val, &c->stderr_limit, d);
	if (!strcmp(name, "--stdin"))
		return replace_str(&c->stdin_path, val);
	if (!strcmp(name, "--escape-output")) {
		if (!strcmp(val, "auto")) {
			c->escape_stdout = isatty(STDOUT_FILENO);
			c->escape_stderr = isatty(STDERR_FILENO);
		} else if (!strcmp(val, "always") || !strcmp(val, "never")) {
			c->escape_stdout = c->escape_stderr = !strcmp(val, "always");
		} else {
			return bad(d, name, "expected auto, always or never (got '%s')", val);
		}
		return 0;
	}
	if (!strcmp(name, "--script"))
		return replace_str(&c->script, val);
	if (!strcmp(name, "--code"))
		return replace_str(&c->code, val);
	if (!strcmp(name, "--input"))
		return add_input(c, val, d);
	if (!strcmp(name, "--output-dir"))
		return replace_str(&c->output_dir, val);
	if (!strcmp(name, "--workdir-size"))
		return relabel(d, name, tb_parse_size(val, &c->workdir_size, d));
	if (!strcmp(name, "--stdin-limit"))
		return bytes_value(name, val, &c->stdin_limit, d);
	if (!strcmp(name, "--output-max-bytes"))
		return bytes_value(name, val, &c->output_max_bytes, d);
	if (!strcmp(name, "--output-max-files")) {
		if ((r = relabel(d, name, tb_parse_int64(val, 0, 1000000, &n, d))) < 0)
			return r;
		c->output_max_files = (uint64_t)n;
		return 0;
	}
	if (!strcmp(name, "--two-phase"))
		return replace_str(&c->two_phase_path, val);
	if (!strcmp(name, "--preload"))
		return replace_str(&c->preload, val);
	if (!strcmp(name, "--cgroup-parent")) {
		if (!*val || strchr(val, '/') || !strcmp(val, "..") || !strcmp(val, "."))
			return bad(d, name, "invalid cgroup name '%s' (one path component)", val);
		return replace_str(&c->cgroup_parent, val);
	}
	return bad(d, name, "unknown option '%s'", name);
}

static const char *const valued[] = {
	"--network", "--net", "--tmpfs", "--memory", "-m", "--memory-swap", "--shm-size", "--cpus",
	"--pids-limit", "--ulimit", "--cap-drop", "--cap-add", "--security-opt", "--user", "-u",
	"--env", "-e", "--volume", "-v", "--workdir", "-w", "--rootfs", "--timeout",
	"--stdout-limit", "--stderr-limit", "--stdin", "--script", "--cgroup-parent", "--code",
	"--input", "--output-dir", "--workdir-size", "--stdin-limit", "--output-max-bytes",
	"--output-max-files", "--escape-output", "--two-phase", "--preload",
};

static bool takes_value(const char *name)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(valued); i++)
		if (!strcmp(name, valued[i]))
			return true;
	return false;
}

/* "unknown option", with the run option it most likely meant ("--memroy": --memory). */
static int unknown_option(const char *name, struct tb_diag *d)
{
	static const char *const switches[] = {"--help", "--json", "--explain", "--no-python-context", "--read-only",
						"--rm", "--privileged", "--tty"};
	const char *near = tb_cli_closest(name, valued, TB_ARRAY_SIZE(valued));

	if (!near)
		near = tb_cli_closest(name, switches, TB_ARRAY_SIZE(switches));
	if (near)
		return bad(d, name, "unknown option '%s' (did you mean %s?)", name, near);
	return bad(d, name, "unknown option '%s' (see --help)", name);
}

int tb_run_cli_parse(int argc, char **argv, struct tb_run_cli *o, tb_extra_opt_fn extra, void *data,
		     struct tb_diag *d)
{
	struct tb_run_config *c = &o->cfg;
	int i, r;

	memset(o, 0, sizeof(*o));
	if ((r = tb_run_config_init(c)) < 0)
		return r;
	c->passthrough = true;
	/* Untrusted output never drives the caller's terminal unless asked to (--escape-output). */
	c->escape_stdout = isatty(STDOUT_FILENO);
	c->escape_stderr = isatty(STDERR_FILENO);
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		char name[64];
		const char *val = NULL;
		const char *eq;

		if (!strcmp(arg, "--")) {
			i++;
			break;
		}
		if (arg[0] != '-' || !arg[1])
			break; /* the command starts here */
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			o->help = true;
			return 0;
		}
		if (!strcmp(arg, "--json")) {
			o->json = true;
			continue;
		}
		if (!strcmp(arg, "--explain")) {
			o->explain = true;
			continue;
		}
		if (!strcmp(arg, "--no-python-context")) {
			o->no_python_context = true;
			continue;
		}
		if (!strcmp(arg, "--debug-timing")) {
			o->debug_timing = true;
			continue;
		}
		if (!strcmp(arg, "-i") || !strcmp(arg, "--interactive")) {
			c->stdin_inherit = true;
			continue;
		}
		if (!strcmp(arg, "--read-only") || !strcmp(arg, "--rm") || !strcmp(arg, "--init=false"))
			continue;
		if (!strcmp(arg, "-t") || !strcmp(arg, "--tty") || !strcmp(arg, "-it"))
			return bad(d, arg, "%s: no terminal is given to sandboxed code", arg);
		if (!strcmp(arg, "--privileged"))
			return apply(o, arg, "", d);
		eq = strchr(arg, '=');
		if (eq && arg[1] == '-') {
			snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
			val = eq + 1;
		} else {
			snprintf(name, sizeof(name), "%s", arg);
		}
		if (takes_value(name)) {
			if (!val) {
				if (i + 1 >= argc)
					return bad(d, name, "%s needs a value", name);
				val = argv[++i];
			}
			r = apply(o, name, val, d);
			if (r < 0)
				return r;
			continue;
		}
		if (extra) {
			int used = extra(argc, argv, i, data, d);

			if (used < 0)
				return -EINVAL;
			if (used > 0) {
				i += used - 1;
				continue;
			}
		}
		return unknown_option(name, d);
	}
	if (i < argc) {
		c->argv = argv + i;
	} else if (c->script || c->code || c->warm) {
		static char *script_argv[] = {"python3", "/sandbox/script.py", NULL};

		c->argv = script_argv;
	}
	return 0;
}

void tb_run_cli_free(struct tb_run_cli *o)
{
	if (!o)
		return;
	tb_run_config_free(&o->cfg);
}
