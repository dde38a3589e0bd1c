/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tightbox generate`: minimal policies from recordings (docs/generate.md).
 *
 * Pipeline, one stage per file: model.c (recordings -> per-arch allowed sets, with arch-map.c's
 * cross-arch equivalents and runtime-prelude.c's runtime syscalls), then three emitters of that
 * model: seccomp.c (Docker/OCI JSON), apparmor.c (AppArmor profile), landlock.c (Landlock
 * ruleset). export.c turns a generated seccomp.json into docker/podman/OCI/Kubernetes/SPO wiring.
 */
#ifndef TB_GENERATE_H
#define TB_GENERATE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"
#include "core/recording.h"

#define TB_GEN_MAX_ARCHES 8

enum tb_gen_args {
	TB_GEN_ARGS_NONE,   /* names only */
	TB_GEN_ARGS_SAFE,   /* clone without namespaces, socket per domain, personality per value,
			     * ioctl without TIOCSTI/TIOCLINUX (the default) */
	TB_GEN_ARGS_STRICT, /* safe + ioctl and prctl allowlists from the recordings */
};

enum tb_gen_runtime {
	TB_GEN_RUNTIME_TIGHTBOX, /* `tightbox run` loads the filter right before execve */
	TB_GEN_RUNTIME_RUNC,	 /* runc (docker, podman) runs a few syscalls after loading it */
};

/* Which statically reachable names (tightbox scan) join the recorded ones. */
enum tb_gen_static {
	TB_GEN_STATIC_NONE, /* recordings only */
	TB_GEN_STATIC_SAFE, /* names reached through imported glibc functions (the table) */
	TB_GEN_STATIC_ALL,  /* also syscall() calls and inline instructions with a known number */
};

/* One statically reachable syscall (from a scan, docs/scan.md). */
struct tb_gen_static_name {
	const char *name; /* libseccomp name on @arch of tb_gen_opts.static_arch */
	unsigned via;	  /* enum tb_scan_via bits: 1 import, 2 syscall(), 4 inline */
	const char *why;  /* "python3.11 imports sigaltstack" (the rule's comment says "static: " why) */
};

struct tb_gen_opts {
	/* libseccomp arch names ("x86_64", "aarch64"); n_arches == 0 means the native arch only. */
	const char *arches[TB_GEN_MAX_ARCHES];
	size_t n_arches;
	unsigned runtimes; /* 1 << enum tb_gen_runtime for each runtime to allow; 0: tightbox */
	enum tb_gen_args args;
	const char *name; /* AppArmor profile name; NULL: "tightbox-sandbox" */
	/* Statically reachable names (generate --scan); the dangerous set stays EPERM whatever
	 * they say. */
	enum tb_gen_static static_mode;
	const struct tb_gen_static_name *statics;
	size_t n_statics;
	const char *static_arch;   /* the arch the scan was made on ("x86_64") */
	const char *static_source; /* the scan file, for diagnostics */
	/* Tokens of tb_gen_risky_tokens() a recording may allow (generate --allow-risky); NULL:
	 * none, so memfd_create, execveat, seccomp, personality(READ_IMPLIES_EXEC) and the
	 * kernel-facing socket families (but NETLINK_ROUTE) stay denied whatever was recorded. */
	char *const *allow_risky;
};

/* One recording and the file it came from (for diagnostics). */
struct tb_gen_input {
	const char *path;
	const struct tb_recording *rec;
};

struct tb_gen_arch_summary {
	char *arch;	/* libseccomp name */
	size_t allowed; /* names allowed (unconditionally or with argument rules) */
	char **names;	/* those names, sorted, NULL-terminated */
};

/* Everything `tightbox generate` writes, as text, plus what the summary shows. */
struct tb_gen_result {
	char *seccomp;	/* Docker/OCI seccomp JSON */
	char *apparmor; /* AppArmor profile text */
	char *landlock; /* docs/landlock-format.md JSON */
	char *profile_name;
	struct tb_gen_arch_summary arches[TB_GEN_MAX_ARCHES];
	size_t n_arches;
	char **groups;	  /* groups with at least one allowed name, in emission order */
	char **workloads; /* sorted, unique */
	char **notes;	  /* things the user should know (dropped names, denied dangerous calls) */
	/* On the first target arch: names allowed because recorded (or mapped from a recording),
	 * allowed only because statically reachable, and recorded or reachable names that are
	 * dangerous and therefore denied. */
	size_t n_recorded, n_static_only, n_dangerous_denied;
};

/* Fills @o with the defaults: native arch, runtime tightbox, args safe. */
#define TB_GEN_RUNTIME_BIT(rt) (1u << (rt))
void tb_gen_opts_init(struct tb_gen_opts *o);

/* The NULL-terminated tokens `--allow-risky` accepts (static storage). */
const char *const *tb_gen_risky_tokens(void);

/*
 * Generates all three policies from @n recordings. Returns 0 and fills @out, or -EINVAL with @diag
 * naming the input file and the problem (a recording from an arch not targeted, no syscalls, an
 * unknown --arch), or -ENOMEM. @out is untouched on failure.
 */
int tb_generate(const struct tb_gen_input *in, size_t n, const struct tb_gen_opts *o,
		struct tb_gen_result *out, struct tb_diag *diag);

/*
 * `generate --phases`: turns @seccomp, the profile tb_generate made from the @n user-phase
 * recordings (`record --phase user`), into the phase-2 profile of a two-phase run
 * (generator/phases.c says what it takes away). On success *@out is the JSON text and *@allowed
 * the sorted names it allows (both malloc'd). 0, -EINVAL (@seccomp is not a profile), -ENOMEM.
 */
int tb_gen_phase2(const char *seccomp, const struct tb_gen_input *user, size_t n, char **out,
		  char ***allowed);

/* Frees what tb_generate stored in @r. Accepts NULL. */
void tb_gen_result_free(struct tb_gen_result *r);

enum tb_export_format {
	TB_EXPORT_DOCKER,
	TB_EXPORT_PODMAN,
	TB_EXPORT_OCI,
	TB_EXPORT_KUBERNETES,
	TB_EXPORT_SPO,
};

struct tb_export_opts {
	enum tb_export_format format;
	const char
	    *profile_dir;  /* absolute directory holding seccomp.json (and the AppArmor file) */
	const char *image; /* NULL: "tightbox-sandbox:latest" */
	const char *name;  /* AppArmor profile / resource name; NULL: "tightbox-sandbox" */
	bool apparmor;	   /* add the AppArmor option (false on hosts without AppArmor) */
	/* Why @apparmor is false ("AppArmor is not enabled in this kernel"), for the note; NULL:
	 * no note (the user said --no-apparmor). */
	const char *apparmor_off_reason;
	bool json; /* kubernetes, spo: JSON instead of YAML */
	/* Absolute host path of the script, mounted read-only at /sandbox/script.py (docker,
	 * podman, oci: a bind mount; kubernetes: a ConfigMap key); NULL: nothing mounted. */
	const char *script;
	/* Absolute host paths mounted read-only at /sandbox/input/BASENAME, NULL-terminated; NULL:
	 * none. Kubernetes takes regular files only (their contents go into the ConfigMap). */
	char *const *inputs;
	/* oci: root.path, absolute (`ctr run --config` needs that); NULL: "rootfs", beside
	 * config.json in the bundle (runc run --bundle). */
	const char *rootfs;
	char *const
	    *command; /* command to run, NULL-terminated; NULL: python3 /sandbox/script.py */
};

/* "docker" -> TB_EXPORT_DOCKER ... 0 or -EINVAL. */
int tb_export_format_parse(const char *s, enum tb_export_format *out);

/*
 * What the output of @o cannot say in its own terms (Kubernetes has no "no network", pids limit or
 * rlimits per Pod; AppArmor left out; the profile must be copied to the nodes), one line each, as
 * a new NULL-terminated vector in *@out. The docker/podman/YAML outputs carry them as `#` comments;
 * a caller printing JSON should show them beside it. 0 or -ENOMEM.
 */
int tb_export_notes(const struct tb_export_opts *o, char ***out);

/*
 * Renders the deployment wiring for @o->profile_dir/seccomp.json as text (*@out, malloc'd): a shell
 * command line for docker/podman, JSON for oci, YAML (or JSON with @o->json) for kubernetes/spo.
 * -EINVAL with @diag when the profile is missing or malformed, when it denies a syscall runc makes
 * after loading the filter (every container would fail before the workload starts: the message
 * names `tightbox generate --runtime`), or when an input cannot be mounted as asked.
 */
int tb_export(const struct tb_export_opts *o, char **out, struct tb_diag *diag);

#endif
