/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `tightbox export`: the deployment wiring for a generated profile directory. The limits are the
 * seed's hardened `docker run` line, spelled in each target's own terms.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/audit.h"
#include "core/fileio.h"
#include "core/profile.h"
#include "core/strv.h"
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

/* Where the script and the inputs appear in the container. */
#define SANDBOX_DIR "/sandbox"
#define SCRIPT_PATH SANDBOX_DIR "/script.py"
#define INPUT_DIR SANDBOX_DIR "/input"
#define SCRIPT_KEY "script.py"
/* A ConfigMap holds at most 1 MiB (etcd's object limit). */
#define CONFIGMAP_MAX (1u << 20)

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

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* Every note as a `# ` comment line: the output stays a valid shell script or YAML stream. */
static void comment_notes(FILE *f, char *const *notes)
{
	for (char *const *n = notes; n && *n; n++)
		fprintf(f, "# note: %s\n", *n);
}

static int render_cli(const struct tb_export_opts *o, const char *seccomp, char *const *notes,
		      FILE *f)
{
	_cleanup_free_ char *sec = NULL, *aa = NULL;
	const char *name = o->name ? o->name : DEFAULT_NAME;

	if (asprintf(&sec, "seccomp=%s", seccomp) < 0 || asprintf(&aa, "apparmor=%s", name) < 0)
		return -ENOMEM;
	comment_notes(f, notes);
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
	if (o->script) {
		_cleanup_free_ char *v = NULL;

		if (asprintf(&v, "%s:" SCRIPT_PATH ":ro", o->script) < 0)
			return -ENOMEM;
		opt_line(f, "--volume", v);
	}
	for (char *const *in = o->inputs; in && *in; in++) {
		_cleanup_free_ char *v = NULL;

		if (asprintf(&v, "%s:" INPUT_DIR "/%s:ro", *in, base_name(*in)) < 0)
			return -ENOMEM;
		opt_line(f, "--volume", v);
	}
	if (o->script || o->inputs)
		opt_line(f, "--workdir", SANDBOX_DIR);
	fprintf(f, " \\\n  ");
	shell_quote(f, o->image ? o->image : DEFAULT_IMAGE);
	if (o->command && o->command[0]) {
		for (char *const *c = o->command; *c; c++) {
			fputc(' ', f);
			shell_quote(f, *c);
		}
	} else {
		fputs(" python3 " SCRIPT_PATH, f);
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

/* The script and the inputs as read-only bind mounts (OCI "mounts" entries). */
static int oci_bind_mounts(const struct tb_export_opts *o, json_t *a)
{
	if (o->script &&
	    json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:[s,s,s,s]}", "destination",
					       SCRIPT_PATH, "type", "bind", "source", o->script,
					       "options", "rbind", "ro", "nosuid", "nodev")) < 0)
		return -ENOMEM;
	for (char *const *in = o->inputs; in && *in; in++) {
		_cleanup_free_ char *dst = NULL;

		if (asprintf(&dst, INPUT_DIR "/%s", base_name(*in)) < 0 ||
		    json_array_append_new(a,
					  json_pack("{s:s, s:s, s:s, s:[s,s,s,s]}", "destination",
						    dst, "type", "bind", "source", *in, "options",
						    "rbind", "ro", "nosuid", "nodev")) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* In mount order: /dev before what lives in it. /dev/shm is where POSIX semaphores live
 * (multiprocessing's locks); /tmp is the seed's noexec 50m tmpfs; then the script and inputs. */
static json_t *oci_mounts(const struct tb_export_opts *o)
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
	     /* "size=" LIM_TMP_SIZE is one option */
	     /* NOLINTNEXTLINE(bugprone-suspicious-missing-comma) */
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
	if (a && oci_bind_mounts(o, a) < 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *command_array(const struct tb_export_opts *o)
{
	json_t *args = json_array();

	if (o->command && o->command[0])
		for (char *const *c = o->command; *c; c++)
			json_array_append_new(args, json_string(*c));
	else
		default_command(args);
	return args;
}

static const char *work_dir(const struct tb_export_opts *o)
{
	return o->script || o->inputs ? SANDBOX_DIR : "/";
}

static json_t *oci_config(const struct tb_export_opts *o, json_t *docker)
{
	const char *name = o->name ? o->name : DEFAULT_NAME;
	json_t *process, *linux_, *root;

	process = json_pack(
	    "{s:o, s:b, s:{s:i, s:i}, s:[s,s,s], s:s, s:{s:[], s:[], s:[], s:[], s:[]},"
	    " s:[{s:s, s:i, s:i}, {s:s, s:i, s:i}]}",
	    "args", command_array(o), "noNewPrivileges", 1, "user", "uid", LIM_UID, "gid", LIM_UID,
	    "env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	    "LANG=C.UTF-8", "HOME=/tmp", "cwd", work_dir(o), "capabilities", "bounding",
	    "effective", "inheritable", "permitted", "ambient", "rlimits", "type", "RLIMIT_NOFILE",
	    "soft", LIM_NOFILE, "hard", LIM_NOFILE, "type", "RLIMIT_NPROC", "soft", LIM_NPROC,
	    "hard", LIM_NPROC);
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
			 "process", process, "root", "path", o->rootfs ? o->rootfs : "rootfs",
			 "readonly", 1, "hostname", "sandbox", "linux", linux_, "mounts",
			 oci_mounts(o), "annotations",
			 json_pack("{s:s}", "org.tightbox.profile", name));
	return root;
}

/* ConfigMap keys: what Kubernetes accepts ([-._a-zA-Z0-9]+, at most 253). */
static bool configmap_key_ok(const char *k)
{
	return k[0] && strlen(k) <= 253 &&
	       strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._") ==
		   strlen(k) &&
	       strcmp(k, ".") && strcmp(k, "..");
}

/* Adds the file at @path under @key to @data, counting its size into *@total. */
static int configmap_add(json_t *data, const char *key, const char *path, size_t *total,
			 struct tb_diag *diag)
{
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t len = 0;
	json_t *v;
	int r;

	if (!configmap_key_ok(key)) {
		tb_diag_set(diag, path, 0, 0, NULL,
			    "'%s' is not a ConfigMap key (letters, digits, '-', '_', '.' only)",
			    key);
		return -EINVAL;
	}
	if (json_object_get(data, key)) {
		tb_diag_set(diag, path, 0, 0, NULL,
			    "a second file named '%s': ConfigMap keys must differ", key);
		return -EINVAL;
	}
	if (stat(path, &st) < 0) {
		tb_diag_set(diag, path, 0, 0, NULL, "%s", strerror(errno));
		return -EINVAL;
	}
	if (!S_ISREG(st.st_mode)) {
		tb_diag_set(diag, path, 0, 0, NULL,
			    "not a regular file: a ConfigMap carries files only");
		return -EINVAL;
	}
	r = tb_read_file(path, CONFIGMAP_MAX, &text, &len);
	if (r < 0 || *total + len > CONFIGMAP_MAX) {
		tb_diag_set(diag, path, 0, 0, NULL, "%s",
			    r == -EFBIG || r == 0 ? "too large for a ConfigMap (1 MiB in all)"
						  : strerror(-r));
		return -EINVAL;
	}
	v = memchr(text, 0, len) ? NULL : json_stringn(text, len);
	if (!v) {
		tb_diag_set(
		    diag, path, 0, 0, NULL,
		    "not UTF-8 text: a ConfigMap's data holds text only (mount binary inputs "
		    "from a volume instead)");
		return -EINVAL;
	}
	*total += len;
	return json_object_set_new(data, key, v) < 0 ? -ENOMEM : 0;
}

static json_t *k8s_labels(const char *name)
{
	return json_pack("{s:s, s:s}", "app.kubernetes.io/name", name,
			 "app.kubernetes.io/managed-by", "tightbox");
}

/* The script and inputs as one ConfigMap, or NULL in *@out when there are none. */
static int k8s_configmap(const struct tb_export_opts *o, json_t **out, struct tb_diag *diag)
{
	const char *name = o->name ? o->name : DEFAULT_NAME;
	_cleanup_free_ char *cm = NULL;
	json_t *data;
	size_t total = 0;
	int r = 0;

	*out = NULL;
	if (!o->script && !o->inputs)
		return 0;
	data = json_object();
	if (!data || asprintf(&cm, "%s-files", name) < 0) {
		json_decref(data);
		return -ENOMEM;
	}
	if (o->script)
		r = configmap_add(data, SCRIPT_KEY, o->script, &total, diag);
	for (char *const *in = o->inputs; r == 0 && in && *in; in++)
		r = configmap_add(data, base_name(*in), *in, &total, diag);
	if (r < 0) {
		json_decref(data);
		return r;
	}
	*out = json_pack("{s:s, s:s, s:{s:s, s:o}, s:b, s:o}", "apiVersion", "v1", "kind",
			 "ConfigMap", "metadata", "name", cm, "labels", k8s_labels(name),
			 "immutable", 1, "data", data);
	return *out ? 0 : -ENOMEM;
}

/* Deny all ingress and egress for the Pod (what --network none means, where the CNI enforces it).
 */
static json_t *k8s_network_policy(const struct tb_export_opts *o)
{
	const char *name = o->name ? o->name : DEFAULT_NAME;

	return json_pack("{s:s, s:s, s:{s:s, s:o}, s:{s:{s:{s:s}}, s:[s,s]}}", "apiVersion",
			 "networking.k8s.io/v1", "kind", "NetworkPolicy", "metadata", "name", name,
			 "labels", k8s_labels(name), "spec", "podSelector", "matchLabels",
			 "app.kubernetes.io/name", name, "policyTypes", "Ingress", "Egress");
}

static json_t *k8s_pod(const struct tb_export_opts *o)
{
	const char *name = o->name ? o->name : DEFAULT_NAME;
	_cleanup_free_ char *local = NULL, *cm = NULL;
	json_t *sc, *container, *mounts, *volumes;

	if (asprintf(&local, "tightbox/%s.json", name) < 0 || asprintf(&cm, "%s-files", name) < 0)
		return NULL;
	sc = json_pack("{s:b, s:b, s:b, s:i, s:i, s:{s:[s]}, s:{s:s, s:s}}",
		       "allowPrivilegeEscalation", 0, "readOnlyRootFilesystem", 1, "runAsNonRoot",
		       1, "runAsUser", LIM_UID, "runAsGroup", LIM_UID, "capabilities", "drop",
		       "ALL", "seccompProfile", "type", "Localhost", "localhostProfile", local);
	if (o->apparmor)
		json_object_set_new(
		    sc, "appArmorProfile",
		    json_pack("{s:s, s:s}", "type", "Localhost", "localhostProfile", name));
	mounts = json_pack("[{s:s, s:s}]", "name", "tmp", "mountPath", "/tmp");
	volumes = json_pack("[{s:s, s:{s:s, s:s}}]", "name", "tmp", "emptyDir", "medium", "Memory",
			    "sizeLimit", "50Mi");
	if (o->script)
		json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:b}", "name", "files",
							"mountPath", SCRIPT_PATH, "subPath",
							SCRIPT_KEY, "readOnly", 1));
	for (char *const *in = o->inputs; in && *in; in++) {
		_cleanup_free_ char *dst = NULL;

		if (asprintf(&dst, INPUT_DIR "/%s", base_name(*in)) < 0)
			break;
		json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:b}", "name", "files",
							"mountPath", dst, "subPath", base_name(*in),
							"readOnly", 1));
	}
	if (o->script || o->inputs)
		json_array_append_new(volumes,
				      json_pack("{s:s, s:{s:s, s:i}}", "name", "files", "configMap",
						"name", cm, "defaultMode", 0444));
	container =
	    json_pack("{s:s, s:s, s:o, s:s, s:o, s:{s:{s:s, s:s, s:s}, s:{s:s, s:s}}, s:o}", "name",
		      "sandbox", "image", o->image ? o->image : DEFAULT_IMAGE, "command",
		      command_array(o), "workingDir", work_dir(o), "securityContext", sc,
		      "resources", "limits", "memory", "256Mi", "cpu", "500m", "ephemeral-storage",
		      "50Mi", "requests", "memory", "256Mi", "cpu", "500m", "volumeMounts", mounts);
	return json_pack("{s:s, s:s, s:{s:s, s:o}, s:{s:b, s:b, s:b, s:b, s:b, s:s, s:i,"
			 " s:{s:i, s:i, s:i, s:b, s:{s:s, s:s}}, s:[o], s:o}}",
			 "apiVersion", "v1", "kind", "Pod", "metadata", "name", name, "labels",
			 k8s_labels(name), "spec", "automountServiceAccountToken", 0,
			 "enableServiceLinks", 0, "hostNetwork", 0, "hostPID", 0, "hostIPC", 0,
			 "restartPolicy", "Never", "activeDeadlineSeconds", 60, "securityContext",
			 "runAsUser", LIM_UID, "runAsGroup", LIM_UID, "fsGroup", LIM_UID,
			 "runAsNonRoot", 1, "seccompProfile", "type", "Localhost",
			 "localhostProfile", local, "containers", container, "volumes", volumes);
}

/* The Kubernetes objects in apply order: the ConfigMap (when there are files), the
 * NetworkPolicy, the Pod. */
static int k8s_objects(const struct tb_export_opts *o, json_t **out, struct tb_diag *diag)
{
	json_t *items = json_array(), *cm = NULL;
	int r = items ? k8s_configmap(o, &cm, diag) : -ENOMEM;

	if (r < 0) {
		json_decref(items);
		return r;
	}
	if ((cm && json_array_append_new(items, cm) < 0) ||
	    json_array_append_new(items, k8s_network_policy(o)) < 0 ||
	    json_array_append_new(items, k8s_pod(o)) < 0) {
		json_decref(items);
		return -ENOMEM;
	}
	*out = items;
	return 0;
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

/* ---- YAML ------------------------------------------------------------------------------------ */

/* Decodes the UTF-8 sequence at @s (jansson strings are valid UTF-8); returns its length. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		*cp = ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
		return 2;
	}
	if ((s[0] & 0xf0) == 0xe0) {
		*cp = ((uint32_t)(s[0] & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) |
		      (s[2] & 0x3f);
		return 3;
	}
	*cp = ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
	      ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
	return 4;
}

/* A YAML double-quoted scalar: printable ASCII as is, everything else escaped (\uXXXX or
 * \UXXXXXXXX, which YAML 1.1 and 1.2 read alike). */
static void yaml_quoted(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	fputc('"', f);
	while (p < end) {
		uint32_t cp;

		p += utf8_decode(p, &cp);
		if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", (int)cp);
		else if (cp == '\n')
			fputs("\\n", f);
		else if (cp == '\t')
			fputs("\\t", f);
		else if (cp >= 0x20 && cp < 0x7f)
			fputc((int)cp, f);
		else if (cp <= 0xffff)
			fprintf(f, "\\u%04x", (unsigned)cp);
		else
			fprintf(f, "\\U%08x", (unsigned)cp);
	}
	fputc('"', f);
}

/* Whether @s reads back as this very string when written plain (no quotes): a conservative
 * subset that no YAML 1.1 or 1.2 reader takes for a number, boolean, null or syntax. */
static bool yaml_plain_ok(const char *s)
{
	static const char *const words[] = {"y",    "n",     "yes",  "no",   "on", "off",
					    "true", "false", "null", "none", "~"};

	if (!s[0] || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_/", s[0]))
		return false;
	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-") !=
	    strlen(s))
		return false;
	for (size_t i = 0; i < TB_ARRAY_SIZE(words); i++)
		if (!strcasecmp(s, words[i]))
			return false;
	return true;
}

/* A multi-line string as a literal block ("|" or "|-"), when it can be one: printable text and
 * tabs only (YAML 1.1 also breaks lines at U+0085, U+2028 and U+2029), a first line that does
 * not start with a space (the indentation would be taken from it), at most one final newline. */
static bool yaml_literal_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	if (!memchr(s, '\n', len) || s[0] == ' ' || s[0] == '\n' ||
	    (len >= 2 && s[len - 1] == '\n' && s[len - 2] == '\n'))
		return false;
	while (p < end) {
		uint32_t cp;

		p += utf8_decode(p, &cp);
		if ((cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7f ||
		    (cp >= 0x80 && cp < 0xa0) || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
			return false;
	}
	/* A line holding only spaces before the first content line would also set the
	 * indentation; lines of spaces elsewhere are kept as content. */
	return true;
}

static void yaml_literal(FILE *f, const char *s, size_t len, int indent)
{
	const char *p = s, *end = s + len;

	fputs(s[len - 1] == '\n' ? "|\n" : "|-\n", f);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n)
			fprintf(f, "%*s%.*s", indent, "", (int)n, p);
		fputc('\n', f);
		p += n + 1;
	}
}

/* A scalar or an empty collection, ending the line; @indent is for a literal block's lines. */
static void yaml_scalar(FILE *f, json_t *v, int indent)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);

		if (strlen(s) == len && yaml_plain_ok(s))
			fputs(s, f);
		else if (strlen(s) == len && yaml_literal_ok(s, len)) {
			yaml_literal(f, s, len, indent);
			return;
		} else
			yaml_quoted(f, s, len);
	} else if (json_is_integer(v))
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		fprintf(f, "%.17g", json_real_value(v));
	else if (json_is_true(v))
		fputs("true", f);
	else if (json_is_false(v))
		fputs("false", f);
	else if (json_is_array(v))
		fputs("[]", f);
	else if (json_is_object(v))
		fputs("{}", f);
	else
		fputs("null", f);
	fputc('\n', f);
}

static bool yaml_is_block(json_t *v)
{
	return (json_is_object(v) && json_object_size(v)) ||
	       (json_is_array(v) && json_array_size(v));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void yaml_node(FILE *f, json_t *v, int indent, bool inline_first);

/* A block mapping with sorted keys at @indent; with @inline_first the first key continues the
 * current line (after "- "). */
static void yaml_mapping(FILE *f, json_t *obj, int indent, bool inline_first)
{
	size_t n = json_object_size(obj), i = 0;
	_cleanup_free_ const char **keys = calloc(n, sizeof(*keys));
	const char *k;
	json_t *v;

	if (!keys)
		return; /* open_memstream's caller reports ENOMEM on the output as a whole */
	json_object_foreach(obj, k, v) keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++) {
		v = json_object_get(obj, keys[i]);
		if (i || !inline_first)
			fprintf(f, "%*s", indent, "");
		if (yaml_plain_ok(keys[i]))
			fputs(keys[i], f);
		else
			yaml_quoted(f, keys[i], strlen(keys[i]));
		if (yaml_is_block(v)) {
			fputs(":\n", f);
			yaml_node(f, v, indent + 2, false);
		} else {
			fputs(": ", f);
			yaml_scalar(f, v, indent + 2);
		}
	}
}

static void yaml_node(FILE *f, json_t *v, int indent, bool inline_first)
{
	size_t i;
	json_t *e;

	if (json_is_object(v) && json_object_size(v)) {
		yaml_mapping(f, v, indent, inline_first);
		return;
	}
	if (!json_is_array(v) || !json_array_size(v)) {
		if (!inline_first)
			fprintf(f, "%*s", indent, "");
		yaml_scalar(f, v, indent + 2);
		return;
	}
	json_array_foreach(v, i, e)
	{
		if (i || !inline_first)
			fprintf(f, "%*s", indent, "");
		fputs("- ", f);
		if (json_is_object(e) && json_object_size(e))
			yaml_mapping(f, e, indent + 2, true);
		else if (json_is_array(e) && json_array_size(e))
			yaml_node(f, e, indent + 2, true);
		else
			yaml_scalar(f, e, indent + 2);
	}
}

/* @docs as a YAML stream: one document per element, "---" before each. */
static void yaml_stream(FILE *f, json_t *docs)
{
	size_t i;
	json_t *d;

	json_array_foreach(docs, i, d)
	{
		fputs("---\n", f);
		yaml_node(f, d, 0, false);
	}
}

/* ---- notes and the runtime check --------------------------------------------------------------
 */

int tb_export_notes(const struct tb_export_opts *o, char ***out)
{
	const char *name = o->name ? o->name : DEFAULT_NAME;
	char **v = NULL;
	int r = 0;

	if (o->apparmor)
		r = r
			?: tb_strv_addf(&v,
					"AppArmor: load the profile before the first run: "
					"apparmor_parser -r -W %s/%s%s",
					o->profile_dir, name,
					o->format == TB_EXPORT_KUBERNETES ||
						o->format == TB_EXPORT_SPO
					    ? " (on every node)"
					    : "");
	else if (o->apparmor_off_reason)
		r = r
			?: tb_strv_addf(&v,
					"AppArmor: not used, %s; --apparmor adds the option for an "
					"engine on a host that has it",
					o->apparmor_off_reason);
	if (o->format == TB_EXPORT_KUBERNETES) {
		r = r
			?: tb_strv_addf(&v,
					"seccomp: copy %s/seccomp.json to "
					"/var/lib/kubelet/seccomp/tightbox/%s.json on every node "
					"(the kubelet's seccomp folder), or apply --format spo",
					o->profile_dir, name);
		r = r
			?: tb_strv_addf(
			       &v, "no network: a Pod always gets an interface; the "
				   "NetworkPolicy denies all ingress and egress only where the "
				   "cluster's CNI enforces NetworkPolicy");
		r = r
			?: tb_strv_addf(&v,
					"pids limit %d: not expressible per Pod; set the "
					"kubelet's podPidsLimit",
					LIM_PIDS);
		r = r
			?: tb_strv_addf(
			       &v,
			       "ulimits nofile=%d nproc=%d: not expressible in Kubernetes; "
			       "the container runtime's defaults apply",
			       LIM_NOFILE, LIM_NPROC);
		r = r
			?: tb_strv_addf(&v, "/tmp: an emptyDir cannot be mounted noexec; "
					    "memory-swap: the kubelet's swap setting applies");
		if (o->script || o->inputs)
			r = r
				?: tb_strv_addf(&v, "the script and inputs travel in the ConfigMap "
						    "(1 MiB at most)");
	} else if (o->format == TB_EXPORT_SPO) {
		r = r
			?: tb_strv_addf(
			       &v,
			       "needs the Security Profiles Operator; a Pod refers to it as "
			       "seccompProfile {type: Localhost, localhostProfile: "
			       "operator/NAMESPACE/%s.json}",
			       name);
		r = r
			?: tb_strv_addf(&v,
					"the operator's spec has no defaultErrnoRet: denied calls "
					"fail with EPERM instead of ENOSYS (clone3 keeps its "
					"explicit ENOSYS rule)");
	}
	if (r < 0) {
		tb_strv_free(v);
		return r;
	}
	*out = v;
	return 0;
}

/*
 * Every target runs the container through runc (docker, podman, containerd and CRI-O under
 * Kubernetes): a profile that denies what runc calls after loading the filter fails every
 * container before the workload starts.
 */
static int check_runtime(const struct tb_profile *p, const char *path, struct tb_diag *diag)
{
	static const uint64_t zero[6];
	const struct tb_compile_opts co = {0};
	_cleanup_free_ char *list = NULL;
	const char *how;
	char **missing = NULL;
	int r = 0;

	for (const char *const *n = tb_gen_prelude(TB_GEN_RUNTIME_RUNC, &how); *n && r == 0; n++) {
		struct tb_action a;

		r = tb_audit_verdict(p, &co, *n, zero, &a);
		if (r == 0 && !tb_action_allows(a.kind))
			r = tb_strv_add(&missing, *n);
	}
	if (r < 0 || !missing) {
		tb_strv_free(missing);
		return r;
	}
	list = tb_strv_join(missing, ", ");
	tb_strv_free(missing);
	if (!list)
		return -ENOMEM;
	tb_diag_set(diag, path, 0, 0, NULL,
		    "denies what runc calls after loading the filter (%s): every container would "
		    "fail before the script starts (\"ensure /proc/self/fd is on procfs\"); "
		    "regenerate it with `tightbox generate --runtime tightbox,runc`",
		    list);
	return -EINVAL;
}

/* Two inputs with one name would be two mounts on one /sandbox/input/NAME. */
static int check_inputs(const struct tb_export_opts *o, struct tb_diag *diag)
{
	for (char *const *a = o->inputs; a && *a; a++)
		for (char *const *b = o->inputs; b < a; b++)
			if (!strcmp(base_name(*a), base_name(*b))) {
				tb_diag_set(
				    diag, *a, 0, 0, NULL,
				    "another --input (%s) is also named '%s': both would be "
				    "mounted at " INPUT_DIR "/%s",
				    *b, base_name(*a), base_name(*a));
				return -EINVAL;
			}
	return 0;
}

int tb_export(const struct tb_export_opts *o, char **out, struct tb_diag *diag)
{
	_cleanup_free_ char *seccomp = NULL, *buf = NULL;
	struct tb_profile *p = NULL;
	json_t *docker = NULL, *doc = NULL;
	char **notes = NULL;
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
	r = check_runtime(p, seccomp, diag);
	tb_profile_free(p);
	if (r < 0)
		return r;
	r = check_inputs(o, diag);
	if (r < 0)
		return r;
	docker = json_load_file(seccomp, JSON_REJECT_DUPLICATES, &jerr);
	if (!docker) {
		tb_diag_set(diag, seccomp, jerr.line, jerr.column, NULL, "%s", jerr.text);
		return -EINVAL;
	}
	r = tb_export_notes(o, &notes);
	if (r < 0) {
		json_decref(docker);
		return r;
	}
	switch (o->format) {
	case TB_EXPORT_DOCKER:
	case TB_EXPORT_PODMAN:
	case TB_EXPORT_OCI:
		break;
	case TB_EXPORT_KUBERNETES:
		r = k8s_objects(o, &doc, diag);
		break;
	case TB_EXPORT_SPO:
		doc = json_pack("[o]", spo_profile(o, docker));
		break;
	}
	if (o->format == TB_EXPORT_OCI)
		doc = oci_config(o, docker);
	f = r < 0 ? NULL : open_memstream(&buf, &len);
	if (!f) {
		r = r ?: -ENOMEM;
		goto out;
	}
	if (o->format == TB_EXPORT_DOCKER || o->format == TB_EXPORT_PODMAN) {
		r = render_cli(o, seccomp, notes, f);
	} else if (!doc) {
		r = -ENOMEM;
	} else if (o->format == TB_EXPORT_OCI || o->json) {
		/* Kubernetes takes several objects as one v1 List in JSON. */
		json_t *top = o->format == TB_EXPORT_OCI ? json_incref(doc)
			      : o->format == TB_EXPORT_SPO
				  ? json_incref(json_array_get(doc, 0))
				  : json_pack("{s:s, s:s, s:O}", "apiVersion", "v1", "kind", "List",
					      "items", doc);

		if (!top || json_dumpf(top, f, JSON_INDENT(2) | JSON_SORT_KEYS) < 0)
			r = -ENOMEM;
		else
			fputc('\n', f);
		json_decref(top);
	} else {
		comment_notes(f, notes);
		yaml_stream(f, doc);
	}
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
out:
	json_decref(doc);
	json_decref(docker);
	tb_strv_free(notes);
	if (r < 0)
		return r;
	*out = TB_TAKE_PTR(buf);
	return 0;
}
