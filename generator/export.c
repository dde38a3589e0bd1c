/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tightbox export`: the deployment wiring for a generated profile directory. The limits are the
 * seed's hardened `docker run` line, spelled in each target's own terms.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/profile.h"
#include "core/util.h"
#include "generator/internal.h"

#define DEFAULT_IMAGE "tightbox-sandbox:latest"
#define DEFAULT_NAME "tightbox-sandbox"

/* The seed's limits, once. */
#define LIM_MEMORY_BYTES 268435456LL /* 256m */
#define LIM_CPU_QUOTA 50000	     /* 0.5 CPU of a 100 ms period */
#define LIM_CPU_PERIOD 100000
#define LIM_PIDS 64
#define LIM_NOFILE 64
#define LIM_NPROC 32
#define LIM_UID 65534
#define LIM_TMP_SIZE "50m"

int tb_export_format_parse(const char *s, enum tb_export_format *out)
{
	static const struct {
		const char *name;
		enum tb_export_format f;
	} formats[] = {
	    {"docker", TB_EXPORT_DOCKER},  {"podman", TB_EXPORT_PODMAN},
	    {"oci", TB_EXPORT_OCI},	   {"kubernetes", TB_EXPORT_KUBERNETES},
	    {"k8s", TB_EXPORT_KUBERNETES}, {"spo", TB_EXPORT_SPO},
	};

	for (size_t i = 0; i < TB_ARRAY_SIZE(formats); i++)
		if (!strcmp(s, formats[i].name)) {
			*out = formats[i].f;
			return 0;
		}
	return -EINVAL;
}

/* Single-quotes @s for a POSIX shell unless it is made of harmless characters only. */
static int shell_quote(FILE *f, const char *s)
{
	if (s[0] && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			      "@%+=:,./_-") == strlen(s))
		return fputs(s, f);
	fputc('\'', f);
	for (const char *c = s; *c; c++)
		if (*c == '\'')
			fputs("'\\''", f);
		else
			fputc(*c, f);
	return fputc('\'', f);
}

static void opt_line(FILE *f, const char *flag, const char *value)
{
	fprintf(f, " \\\n  %s", flag);
	if (value) {
		fputc(' ', f);
		shell_quote(f, value);
	}
}

static int render_cli(const struct tb_export_opts *o, const char *seccomp, FILE *f)
{
	_cleanup_free_ char *sec = NULL, *aa = NULL;
	const char *name = o->name ? o->name : DEFAULT_NAME;

	if (asprintf(&sec, "seccomp=%s", seccomp) < 0 || asprintf(&aa, "apparmor=%s", name) < 0)
		return -ENOMEM;
	fprintf(f, "%s run --rm", o->format == TB_EXPORT_PODMAN ? "podman" : "docker");
	opt_line(f, "--network", "none");
	opt_line(f, "--read-only", NULL);
	opt_line(f, "--tmpfs", "/tmp:size=" LIM_TMP_SIZE ",noexec,nosuid,nodev");
	opt_line(f, "--memory", "256m");
	opt_line(f, "--memory-swap", "256m");
	opt_line(f, "--cpus", "0.5");
	opt_line(f, "--pids-limit", "64");
	opt_line(f, "--cap-drop", "ALL");
	opt_line(f, "--security-opt", "no-new-privileges");
	opt_line(f, "--security-opt", sec);
	if (o->apparmor)
		opt_line(f, "--security-opt", aa);
	opt_line(f, "--ulimit", "nofile=64:64");
	opt_line(f, "--ulimit", "nproc=32:32");
	opt_line(f, "--user", "65534:65534");
	fprintf(f, " \\\n  ");
	shell_quote(f, o->image ? o->image : DEFAULT_IMAGE);
	if (o->command && o->command[0]) {
		for (char *const *c = o->command; *c; c++) {
			fputc(' ', f);
			shell_quote(f, *c);
		}
	} else {
		fputs(" python3 /sandbox/script.py", f);
	}
	fputc('\n', f);
	return 0;
}

/* Go arch name of the host, which decides includes/excludes "arches" like moby does. */
static const char *native_goarch(void)
{
	const struct tb_arch *a = tb_arch_native();

	return a ? a->goarch : "amd64";
}

static bool in_array(json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) if (json_is_string(v) &&
					!strcmp(json_string_value(v), s)) return true;
	return false;
}

/*
 * The OCI runtime-spec form of a Docker-format profile: architectures flattened from archMap,
 * conditional rules resolved for this host (no capabilities held), comments dropped.
 */
static json_t *oci_seccomp(json_t *docker, bool with_default_errno)
{
	json_t *out = json_object(), *arches = json_array(), *rules = json_array();
	json_t *v, *map, *list;
	const char *go = native_goarch();
	size_t i;

	json_object_set(out, "defaultAction", json_object_get(docker, "defaultAction"));
	if (with_default_errno && json_object_get(docker, "defaultErrnoRet"))
		json_object_set(out, "defaultErrnoRet", json_object_get(docker, "defaultErrnoRet"));
	list = json_object_get(docker, "architectures");
	json_array_foreach(list, i, v) json_array_append(arches, v);
	map = json_object_get(docker, "archMap");
	json_array_foreach(map, i, v)
	{
		size_t j;
		json_t *sub;

		json_array_append(arches, json_object_get(v, "architecture"));
		json_array_foreach(json_object_get(v, "subArchitectures"), j, sub)
		    json_array_append(arches, sub);
	}
	json_object_set_new(out, "architectures", arches);
	json_array_foreach(json_object_get(docker, "syscalls"), i, v)
	{
		json_t *inc = json_object_get(v, "includes"), *exc = json_object_get(v, "excludes");
		json_t *r;

		if (inc && json_object_get(inc, "caps"))
			continue; /* the sandbox holds no capabilities */
		if (inc && json_object_get(inc, "arches") &&
		    !in_array(json_object_get(inc, "arches"), go))
			continue;
		if (exc && json_object_get(exc, "arches") &&
		    in_array(json_object_get(exc, "arches"), go))
			continue;
		r = json_object();
		json_object_set(r, "names", json_object_get(v, "names"));
		json_object_set(r, "action", json_object_get(v, "action"));
		if (json_object_get(v, "errnoRet"))
			json_object_set(r, "errnoRet", json_object_get(v, "errnoRet"));
		if (json_object_get(v, "args"))
			json_object_set(r, "args", json_object_get(v, "args"));
		json_array_append_new(rules, r);
	}
	json_object_set_new(out, "syscalls", rules);
	return out;
}

static void default_command(json_t *a)
{
	json_array_append_new(a, json_string("python3"));
	json_array_append_new(a, json_string("/sandbox/script.py"));
}

/* In mount order: /dev before what lives in it. /dev/shm is where POSIX semaphores live
 * (multiprocessing's locks); /tmp is the seed's noexec 50m tmpfs. */
static json_t *oci_mounts(void)
{
	static const struct {
		const char *dst, *type, *src;
		const char *opts[6];
	} mounts[] = {
	    {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
	    {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
	    {"/dev/pts",
	     "devpts",
	     "devpts",
	     {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
	    {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
	    {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
	    {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
	    {"/tmp",
	     "tmpfs",
	     "tmpfs",
	     /* NOLINTNEXTLINE(bugprone-suspicious-missing-comma): "size=" LIM_TMP_SIZE is one option */
	     {"nosuid", "nodev", "noexec", "mode=1777", "size=" LIM_TMP_SIZE}},
	};
	json_t *a = json_array();

	for (size_t i = 0; a && i < TB_ARRAY_SIZE(mounts); i++) {
		json_t *opts = json_array();

		for (size_t j = 0; j < TB_ARRAY_SIZE(mounts[i].opts) && mounts[i].opts[j]; j++)
			json_array_append_new(opts, json_string(mounts[i].opts[j]));
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o}", "destination",
						   mounts[i].dst, "type", mounts[i].type, "source",
						   mounts[i].src, "options", opts));
	}
	return a;
}

static json_t *oci_config(const struct tb_export_opts *o, json_t *docker)
{
	const char *name = o->name ? o->name : DEFAULT_NAME;
	json_t *args = json_array();
	json_t *process, *linux_, *root;

	if (o->command && o->command[0])
		for (char *const *c = o->command; *c; c++)
			json_array_append_new(args, json_string(*c));
	else
		default_command(args);
	process = json_pack(
	    "{s:o, s:b, s:{s:i, s:i}, s:[s,s,s], s:s, s:{s:[], s:[], s:[], s:[], s:[]},"
	    " s:[{s:s, s:i, s:i}, {s:s, s:i, s:i}]}",
	    "args", args, "noNewPrivileges", 1, "user", "uid", LIM_UID, "gid", LIM_UID, "env",
	    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
	    "HOME=/tmp", "cwd", "/", "capabilities", "bounding", "effective", "inheritable",
	    "permitted", "ambient", "rlimits", "type", "RLIMIT_NOFILE", "soft", LIM_NOFILE, "hard",
	    LIM_NOFILE, "type", "RLIMIT_NPROC", "soft", LIM_NPROC, "hard", LIM_NPROC);
	if (o->apparmor)
		json_object_set_new(process, "apparmorProfile", json_string(name));
	linux_ = json_pack(
	    "{s:{s:{s:I, s:I}, s:{s:I, s:I}, s:{s:I}},"
	    " s:[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}], s:o,"
	    " s:[s,s,s,s,s,s,s,s], s:[s,s,s,s,s,s]}",
	    "resources", "memory", "limit", (json_int_t)LIM_MEMORY_BYTES, "swap",
	    (json_int_t)LIM_MEMORY_BYTES, "cpu", "quota", (json_int_t)LIM_CPU_QUOTA, "period",
	    (json_int_t)LIM_CPU_PERIOD, "pids", "limit", (json_int_t)LIM_PIDS, "namespaces", "type",
	    "pid", "type", "network", "type", "ipc", "type", "uts", "type", "mount", "seccomp",
	    oci_seccomp(docker, true), "maskedPaths", "/proc/acpi", "/proc/kcore", "/proc/keys",
	    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	    "/sys/firmware", "readonlyPaths", "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq",
	    "/proc/sys", "/proc/sysrq-trigger");
	root = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o, s:o}", "ociVersion", "1.0.2",
			 "process", process, "root", "path", "rootfs", "readonly", 1, "hostname",
			 "sandbox", "linux", linux_, "mounts", oci_mounts(), "annotations",
			 json_pack("{s:s}", "org.tightbox.profile", name));
	return root;
}

static json_t *k8s_pod(const struct tb_export_opts *o)
{
	const char *name = o->name ? o->name : DEFAULT_NAME;
	_cleanup_free_ char *local = NULL;
	json_t *cmd = json_array(), *sc, *container;

	if (asprintf(&local, "tightbox/%s.json", name) < 0)
		return NULL;
	if (o->command && o->command[0])
		for (char *const *c = o->command; *c; c++)
			json_array_append_new(cmd, json_string(*c));
	else
		default_command(cmd);
	sc = json_pack("{s:b, s:b, s:b, s:i, s:i, s:{s:[s]}, s:{s:s, s:s}}",
		       "allowPrivilegeEscalation", 0, "readOnlyRootFilesystem", 1, "runAsNonRoot",
		       1, "runAsUser", LIM_UID, "runAsGroup", LIM_UID, "capabilities", "drop",
		       "ALL", "seccompProfile", "type", "Localhost", "localhostProfile", local);
	if (o->apparmor)
		json_object_set_new(
		    sc, "appArmorProfile",
		    json_pack("{s:s, s:s}", "type", "Localhost", "localhostProfile", name));
	container =
	    json_pack("{s:s, s:s, s:o, s:o, s:{s:{s:s, s:s, s:s}, s:{s:s, s:s}},"
		      " s:[{s:s, s:s}]}",
		      "name", "sandbox", "image", o->image ? o->image : DEFAULT_IMAGE, "command",
		      cmd, "securityContext", sc, "resources", "limits", "memory", "256Mi", "cpu",
		      "500m", "ephemeral-storage", "50Mi", "requests", "memory", "256Mi", "cpu",
		      "500m", "volumeMounts", "name", "tmp", "mountPath", "/tmp");
	return json_pack(
	    "{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:b, s:b, s:b, s:b, s:b, s:s, s:i,"
	    " s:{s:i, s:i, s:i, s:b, s:{s:s, s:s}}, s:[o],"
	    " s:[{s:s, s:{s:s, s:s}}]}}",
	    "apiVersion", "v1", "kind", "Pod", "metadata", "name", name, "labels",
	    "app.kubernetes.io/managed-by", "tightbox", "spec", "automountServiceAccountToken", 0,
	    "enableServiceLinks", 0, "hostNetwork", 0, "hostPID", 0, "hostIPC", 0, "restartPolicy",
	    "Never", "activeDeadlineSeconds", 60, "securityContext", "runAsUser", LIM_UID,
	    "runAsGroup", LIM_UID, "fsGroup", LIM_UID, "runAsNonRoot", 1, "seccompProfile", "type",
	    "Localhost", "localhostProfile", local, "containers", container, "volumes", "name",
	    "tmp", "emptyDir", "medium", "Memory", "sizeLimit", "50Mi");
}

static json_t *spo_profile(const struct tb_export_opts *o, json_t *docker)
{
	const char *name = o->name ? o->name : DEFAULT_NAME;
	/* The operator's SeccompProfile spec has no defaultErrnoRet: the default stays EPERM
	 * there, and clone3's explicit ENOSYS rule keeps glibc's fallback working. */
	json_t *spec = oci_seccomp(docker, false);

	return json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:o}", "apiVersion",
			 "security-profiles-operator.x-k8s.io/v1beta1", "kind", "SeccompProfile",
			 "metadata", "name", name, "annotations", "description",
			 "generated by tightbox generate; tightbox export --format spo", "spec",
			 spec);
}

int tb_export(const struct tb_export_opts *o, char **out, struct tb_diag *diag)
{
	_cleanup_free_ char *seccomp = NULL, *buf = NULL;
	struct tb_profile *p = NULL;
	json_t *docker = NULL, *doc = NULL;
	json_error_t jerr;
	size_t len = 0;
	FILE *f;
	int r;

	if (asprintf(&seccomp, "%s/seccomp.json", o->profile_dir) < 0)
		return -ENOMEM;
	/* The project's own reader validates the profile, so a broken file is named here. */
	r = tb_profile_load(seccomp, &p, diag);
	if (r < 0) {
		if (!diag || !diag->message[0])
			tb_diag_set(diag, seccomp, 0, 0, NULL, "cannot read the profile: %s",
				    strerror(-r));
		return r == -EINVAL ? r : -EINVAL;
	}
	tb_profile_free(p);
	docker = json_load_file(seccomp, JSON_REJECT_DUPLICATES, &jerr);
	if (!docker) {
		tb_diag_set(diag, seccomp, jerr.line, jerr.column, NULL, "%s", jerr.text);
		return -EINVAL;
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		json_decref(docker);
		return -ENOMEM;
	}
	switch (o->format) {
	case TB_EXPORT_DOCKER:
	case TB_EXPORT_PODMAN:
		r = render_cli(o, seccomp, f);
		break;
	case TB_EXPORT_OCI:
		doc = oci_config(o, docker);
		break;
	case TB_EXPORT_KUBERNETES:
		doc = k8s_pod(o);
		break;
	case TB_EXPORT_SPO:
		doc = spo_profile(o, docker);
		break;
	}
	if (o->format != TB_EXPORT_DOCKER && o->format != TB_EXPORT_PODMAN) {
		if (!doc || json_dumpf(doc, f, JSON_INDENT(2) | JSON_SORT_KEYS) < 0)
			r = -ENOMEM;
		else
			fputc('\n', f);
	}
	json_decref(doc);
	json_decref(docker);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0)
		return r;
	*out = TB_TAKE_PTR(buf);
	return 0;
}
