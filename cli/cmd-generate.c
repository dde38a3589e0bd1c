/* SPDX-License-Identifier: Apache-2.0 */
/* tightbox generate: recordings -> seccomp.json, an AppArmor profile and landlock.json. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/fileio.h"
#include "core/recording.h"
#include "core/strv.h"
#include "core/util.h"
#include "generator/generate.h"
#include "scanner/scan.h"

#define EXIT_BAD_INPUT 2
#define EXIT_WRITE_FAILED 1

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: tightbox generate [OPTIONS] REC.json...\n\n"
	    "Generate minimal policies from recordings (tightbox record):\n"
	    "  DIR/seccomp.json   Docker/OCI seccomp profile (default ENOSYS, dangerous EPERM)\n"
	    "  DIR/NAME           AppArmor profile (abi 3.0)\n"
	    "  DIR/landlock.json  Landlock ruleset (docs/landlock-format.md)\n\n"
	    "Options:\n"
	    "  -o, --output DIR      where to write (default .)\n"
	    "      --arch LIST       target arches, comma-separated (default: native only);\n"
	    "                        recorded syscalls are mapped to each arch's equivalents\n"
	    "      --runtime LIST    tightbox (default), runc, or both (tightbox,runc): allow\n"
	    "                        what the runtime calls after loading the filter\n"
	    "      --args MODE       none, safe (default) or strict argument rules\n"
	    "      --name NAME       AppArmor profile name (default tightbox-sandbox)\n"
	    "      --scan FILE       also allow what tightbox scan found reachable (docs/scan.md);\n"
	    "                        the dangerous set stays EPERM whatever the scan says\n"
	    "      --static MODE     with --scan or --imports: safe (default: names reached\n"
	    "                        through imported glibc functions), all (also syscall() calls\n"
	    "                        and inline instructions with a known number) or none\n"
	    "      --allow-risky LIST let recordings allow these (comma-separated): memfd_create,\n"
	    "                        execveat (fileless exec), seccomp, personality\n"
	    "                        (READ_IMPLIES_EXEC), AF_KEY, AF_NETLINK (beyond\n"
	    "                        NETLINK_ROUTE), AF_PACKET, AF_ALG, AF_VSOCK, AF_XDP; without\n"
	    "                        it they stay denied whatever a recording says\n"
	    "      --phases          also write DIR/seccomp-phase2.json for run --two-phase:\n"
	    "                        recordings made with record --phase user give phase 2, the\n"
	    "                        others (record --phase all) the three phase-1 outputs;\n"
	    "                        phase 2 also denies execve, seccomp and anonymous\n"
	    "                        executable memory unless the user phase needed them\n"
	    "      --per-import DIR  instead: write DIR/MODULE.json for each top-level import the\n"
	    "                        recordings (record, ptrace, Python context) saw: a recording\n"
	    "                        of the syscalls that import made while in progress and the\n"
	    "                        shared objects it loaded; with --scan also the static names\n"
	    "                        those objects and their DT_NEEDED closure can reach\n"
	    "      --imports LIST    compose: the recordings given (the interpreter's baseline,\n"
	    "                        e.g. record -- python3 -c pass) plus DIR/MODULE.json for each\n"
	    "                        module of LIST (comma-separated), DIR from --per-import-dir;\n"
	    "                        the fragments' static names join as --static says (default\n"
	    "                        safe where a fragment has them; safe or all given: required)\n"
	    "      --per-import-dir DIR  where --imports finds the fragments\n"
	    "  -q, --quiet           no summary\n"
	    "  -h, --help            this text\n\n"
	    "Exit status: 0 written, 1 cannot write the outputs, 2 bad input or usage (nothing is\n"
	    "written then).\n");
}

static int parse_arches(char *list, struct tb_gen_opts *o)
{
	char *save = NULL;

	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->n_arches >= TB_GEN_MAX_ARCHES)
			return -E2BIG;
		o->arches[o->n_arches++] = tok;
	}
	return o->n_arches ? 0 : -EINVAL;
}

/* @v as one of three keywords of @flag: its value in *@out, or -1 after saying what was expected. */
static int keyword(const char *flag, const char *v, const char *const names[3], const int vals[3],
		   int *out)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(v, names[i])) {
			*out = vals[i];
			return 0;
		}
	fprintf(stderr, "tightbox generate: %s: expected %s, %s or %s, not '%s'\n", flag, names[0],
		names[1], names[2], v);
	return -1;
}

static int parse_runtimes(const char *list, struct tb_gen_opts *o)
{
	_cleanup_free_ char *copy = strdup(list);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	o->runtimes = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "tightbox"))
			o->runtimes |= TB_GEN_RUNTIME_BIT(TB_GEN_RUNTIME_TIGHTBOX);
		else if (!strcmp(tok, "runc"))
			o->runtimes |= TB_GEN_RUNTIME_BIT(TB_GEN_RUNTIME_RUNC);
		else
			return -EINVAL;
	}
	return o->runtimes ? 0 : -EINVAL;
}

/* A profile name becomes a file name and an AppArmor identifier: keep it to a safe alphabet. */
static bool valid_name(const char *s)
{
	if (!s[0] || strlen(s) > 64 || s[0] == '.' || s[0] == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	       strlen(s);
}

struct out_file {
	const char *name;
	const char *text;
	struct tb_atomic_file af;
};

/* Writes @o to a temporary file beside its target (renamed later with the others). */
static int write_tmp(const char *dir, struct out_file *o)
{
	_cleanup_free_ char *path = NULL;
	size_t len = strlen(o->text);
	int r;

	if (asprintf(&path, "%s/%s", dir, o->name) < 0)
		return -ENOMEM;
	r = tb_atomic_open(path, 0644, &o->af);
	if (r < 0)
		return r;
	if (fwrite(o->text, 1, len, o->af.f) != len ||
	    (len && o->text[len - 1] != '\n' && fputc('\n', o->af.f) == EOF))
		return -EIO;
	return tb_atomic_close(&o->af);
}

/*
 * The AppArmor profile, compiled (not loaded) by apparmor_parser -Q -K where it is installed:
 * a parse error is the generator's bug and must not reach a host that loads the file. 1 when it
 * compiles, 0 when apparmor_parser is not installed, -EINVAL when it refuses the profile (its
 * message, naming the file and line, went to stderr).
 */
static int apparmor_compiles(const char *path)
{
	char *argv[] = {"apparmor_parser", "-Q", "-K", (char *)path, NULL};
	_cleanup_fclose_ FILE *err = tmpfile(); /* its messages, shown only when it refuses */
	posix_spawn_file_actions_t fa;
	extern char **environ;
	char buf[4096];
	int status, r;
	size_t n;
	pid_t pid;

	if (!err || posix_spawn_file_actions_init(&fa) != 0)
		return -ENOMEM;
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fileno(err), STDERR_FILENO);
	r = posix_spawnp(&pid, "apparmor_parser", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r == ENOENT)
		return 0;
	if (r != 0)
		return -r;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 1;
	rewind(err);
	while ((n = fread(buf, 1, sizeof(buf), err)) > 0)
		fwrite(buf, 1, n, stderr);
	return -EINVAL;
}

/* The output folder @dir, made when missing (its parent must exist): 0, or the exit status after
 * saying why not (a non-directory there is bad input, anything else a write failure). */
static int output_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0755) == 0)
		return 0;
	if (errno != EEXIST) {
		fprintf(stderr, "tightbox generate: -o %s: cannot create the folder: %s\n", dir,
			strerror(errno));
		return EXIT_WRITE_FAILED;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "tightbox generate: -o %s: exists and is not a directory\n", dir);
		return EXIT_BAD_INPUT;
	}
	return 0;
}

static void print_wrapped(char *const *names)
{
	size_t col = 2;

	printf("  ");
	for (size_t i = 0; names && names[i]; i++) {
		size_t l = strlen(names[i]) + 1;

		if (col + l > 100) {
			printf("\n  ");
			col = 2;
		}
		printf("%s ", names[i]);
		col += l;
	}
	printf("\n");
}

static void summary(const struct tb_gen_result *res, const struct tb_gen_opts *o, size_t n_in,
		    const char *dir)
{
	printf("tightbox generate: %zu recording%s, workloads: ", n_in, n_in == 1 ? "" : "s");
	for (size_t i = 0; res->workloads && res->workloads[i]; i++)
		printf("%s%s", i ? ", " : "", res->workloads[i]);
	printf("\nruntime %s, argument rules %s\n",
	       o->runtimes == (TB_GEN_RUNTIME_BIT(TB_GEN_RUNTIME_TIGHTBOX) |
			       TB_GEN_RUNTIME_BIT(TB_GEN_RUNTIME_RUNC))
		   ? "tightbox,runc"
	       : o->runtimes == TB_GEN_RUNTIME_BIT(TB_GEN_RUNTIME_RUNC) ? "runc"
									: "tightbox",
	       o->args == TB_GEN_ARGS_NONE     ? "none"
	       : o->args == TB_GEN_ARGS_STRICT ? "strict"
					       : "safe");
	if (o->static_mode != TB_GEN_STATIC_NONE && o->n_statics)
		printf("%s: recorded %zu, static-only %zu (--static %s), dangerous-denied %zu\n",
		       res->n_arches ? res->arches[0].arch : "", res->n_recorded, res->n_static_only,
		       o->static_mode == TB_GEN_STATIC_ALL ? "all" : "safe", res->n_dangerous_denied);
	for (size_t i = 0; i < res->n_arches; i++) {
		printf("%s: %zu syscalls allowed\n", res->arches[i].arch, res->arches[i].allowed);
		print_wrapped(res->arches[i].names);
	}
	/* Measured with tightbox audit on moby's and podman 4.3's default profiles. */
	printf("for comparison, on x86_64 Docker's default profile allows 300 syscalls, podman's "
	       "311\n");
	printf("groups:");
	for (size_t i = 0; res->groups && res->groups[i]; i++)
		if (!i || strcmp(res->groups[i], res->groups[i - 1]))
			printf(" %s", res->groups[i]);
	printf("\nwrote %s/seccomp.json, %s/%s, %s/landlock.json\n", dir, dir, res->profile_name,
	       dir);
	for (size_t i = 0; res->notes && res->notes[i]; i++)
		printf("note: %s\n", res->notes[i]);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* A static rule's comment: "python3.11 imports sigaltstack, 3 more objects" (@prefix first). */
static int static_why(const char *prefix, const char *object, const char *symbol, size_t objects,
		      char **out)
{
	char sym[256], more[48] = "";

	if (!object || !symbol)
		return asprintf(out, "%sscan", prefix) < 0 ? -ENOMEM : 0;
	snprintf(sym, sizeof(sym), "%.*s", (int)strcspn(symbol, "@"), symbol);
	if (objects > 1)
		snprintf(more, sizeof(more), ", %zu more object%s", objects - 1,
			 objects == 2 ? "" : "s");
	return asprintf(out, "%s%s %s %s%s", prefix, base_name(object),
			strchr(sym, '(') ? "has" : "imports", sym, more) < 0
		   ? -ENOMEM
		   : 0;
}

/* The scan's syscalls as the generator's input, each with the provenance its rule's comment
 * shows: the interpreter's own reference when it has one, else the first. */
static int load_statics(const char *path, struct tb_scan **scan, struct tb_gen_static_name **out,
			char ***whys, struct tb_diag *d)
{
	struct tb_gen_static_name *v;
	int r = tb_scan_load(path, scan, d);

	if (r < 0)
		return r;
	v = calloc((*scan)->n_syscalls + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < (*scan)->n_syscalls; i++) {
		const struct tb_scan_syscall *sc = &(*scan)->syscalls[i];
		const struct tb_scan_ref *ref = sc->n_refs ? &sc->refs[0] : NULL;
		_cleanup_free_ char *why = NULL;
		size_t objects = 0;

		for (size_t k = 0; k < sc->n_refs; k++) {
			objects += !k || strcmp(sc->refs[k].object, sc->refs[k - 1].object);
			if ((*scan)->python && !strcmp(sc->refs[k].object, (*scan)->python) &&
			    ref && strcmp(ref->object, (*scan)->python))
				ref = &sc->refs[k];
		}
		v[i].name = sc->name;
		v[i].via = sc->via;
		/* tb_strv_addf would drop a repeated text: the vector is indexed by syscall. */
		r = static_why("", ref ? ref->object : NULL, ref ? ref->symbol : NULL, objects,
			       &why);
		if (r == 0)
			r = tb_strv_add(whys, why);
		if (r < 0) {
			free(v);
			return r;
		}
	}
	for (size_t i = 0; i < (*scan)->n_syscalls; i++)
		v[i].why = (*whys)[i];
	*out = v;
	return 0;
}

/* --allow-risky LIST: each item one of tb_gen_risky_tokens(); @out (NULL-terminated, @size
 * slots) gets the static tokens, each once. 0, or -EINVAL after printing why. */
static int parse_risky(const char *list, const char **out, size_t size)
{
	const char *const *tok = tb_gen_risky_tokens();
	size_t n = 0;

	while (out[n])
		n++;
	for (const char *p = list; *p; p += *p == ',') {
		size_t len = strcspn(p, ","), i = 0, k = 0;

		while (tok[i] && (strlen(tok[i]) != len || strncmp(tok[i], p, len)))
			i++;
		if (!tok[i]) {
			fprintf(stderr,
				"tightbox generate: --allow-risky: unknown item '%.*s' (one of "
				"memfd_create, execveat, seccomp, personality, AF_KEY, AF_NETLINK, "
				"AF_PACKET, AF_ALG, AF_VSOCK, AF_XDP)\n",
				(int)len, p);
			return -EINVAL;
		}
		while (k < n && out[k] != tok[i])
			k++;
		if (k == n && n + 1 < size)
			out[n++] = tok[i];
		p += len;
	}
	return 0;
}

/* "numpy,pandas,sqlite3" -> sorted unique names; -EINVAL for anything but [A-Za-z0-9_]+. */
static int parse_modules(const char *list, char ***out)
{
	_cleanup_free_ char *copy = strdup(list);
	char *save = NULL, **v = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *m = strtok_r(copy, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
		if (!*m || strspn(m, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
				   strlen(m) || strlen(m) > 100 ||
		    (!tb_strv_has(v, m) && tb_strv_add_sorted(&v, m) < 0)) {
			tb_strv_free(v);
			return -EINVAL;
		}
	}
	if (!v)
		return -EINVAL;
	*out = v;
	return 0;
}

_Static_assert(TB_REC_VIA_IMPORT == TB_SCAN_VIA_IMPORT &&
		   TB_REC_VIA_SYSCALL == TB_SCAN_VIA_SYSCALL &&
		   TB_REC_VIA_INLINE == TB_SCAN_VIA_INLINE,
	       "a fragment's via bits are the scan's");

/*
 * The static part of fragment @f (`--per-import --scan`): what the extension modules @module
 * loaded (the recording's python_context.extensions), the other shared objects it mapped
 * (libraries) that the scan covers, and their DT_NEEDED closure reach, from the scan. 0, or
 * -errno after printing why (-EINVAL: the scan does not cover an extension).
 */
static int fragment_static(struct tb_recording *f, const char *module, const struct tb_scan *scan,
			   const char *scan_path)
{
	const struct tb_rec_pymodule *pm = tb_recording_pymodule(f, module);
	_cleanup_strv_ char **objects = NULL, **roots = NULL;
	_cleanup_free_ struct tb_scan_reached *names = NULL;
	const char *missing = NULL;
	size_t n = 0;
	int r = 0;

	for (size_t i = 0; pm && pm->extensions && pm->extensions[i] && r == 0; i++)
		r = tb_strv_add(&roots, pm->extensions[i]);
	for (size_t i = 0; pm && pm->libraries && pm->libraries[i] && r == 0; i++) {
		/* ctypes may load anything: an object outside the scan is said, not fatal. */
		if (tb_scan_has_object(scan, pm->libraries[i]))
			r = tb_strv_add(&roots, pm->libraries[i]);
		else
			fprintf(stderr,
				"tightbox generate: note: %s is not in %s: the static names of "
				"import %s leave out what it reaches (scan it too)\n",
				pm->libraries[i], scan_path, module);
	}
	if (r == 0)
		r = tb_scan_reach(scan, roots, &objects, &names, &n, &missing);
	if (r == -ENOENT) {
		fprintf(
		    stderr,
		    "tightbox generate: %s: the scan does not cover %s, which import %s loaded: "
		    "scan it too (tightbox scan --python INTERP, or give the file to tightbox "
		    "scan)\n",
		    scan_path, missing, module);
		return -EINVAL;
	}
	if (r == -EPROTO) {
		fprintf(stderr,
			"tightbox generate: %s: objects[]: no deps (an older tightbox scan "
			"wrote it): scan again\n",
			scan_path);
		return -EINVAL;
	}
	if (r == 0)
		r = tb_recording_set_import_static(f, module, scan_path, scan->arch, objects);
	for (size_t i = 0; i < n && r == 0; i++)
		r = tb_recording_add_import_static(f, module, names[i].name, names[i].via,
						   names[i].ref->object, names[i].ref->symbol,
						   names[i].objects);
	if (r < 0)
		fprintf(stderr, "tightbox generate: --per-import: %s\n", strerror(-r));
	return r;
}

struct fragment {
	struct tb_recording *rec;
	struct tb_atomic_file af;
};

/*
 * `--per-import DIR`: DIR/MODULE.json for each top-level import of the union of @recs, with the
 * static part when @scan is given. Every fragment is built and written to a temporary file
 * first, then all are renamed: a bad input writes none.
 */
static int write_fragments(const char *dir, const struct tb_recording *const *recs, size_t n,
			   const struct tb_scan *scan, const char *scan_path, bool quiet)
{
	struct tb_recording *m = NULL;
	_cleanup_strv_ char **mods = NULL;
	struct fragment *fr = NULL;
	size_t n_mods = 0;
	int r, ret = EXIT_WRITE_FAILED;

	r = n == 1 ? 0 : tb_recording_merge(recs, n, &m);
	if (r == 0)
		r = tb_recording_import_modules(m ? m : recs[0], &mods);
	n_mods = tb_strv_len(mods);
	if (r >= 0 && !(fr = calloc(n_mods + 1, sizeof(*fr))))
		r = -ENOMEM;
	if (r < 0) {
		fprintf(stderr, "tightbox generate: --per-import: %s\n", strerror(-r));
		goto out;
	}
	if (!mods) {
		fprintf(stderr, "tightbox generate: --per-import: the recordings have no per-import "
				"syscalls (record with --backend ptrace, without --no-python-context, "
				"a Python program)\n");
		ret = EXIT_BAD_INPUT;
		goto out;
	}
	for (size_t i = 0; i < n_mods; i++) {
		r = tb_recording_import_fragment(m ? m : recs[0], mods[i], &fr[i].rec);
		if (r == 0 && scan)
			r = fragment_static(fr[i].rec, mods[i], scan, scan_path);
		else if (r < 0)
			fprintf(stderr, "tightbox generate: --per-import: %s\n", strerror(-r));
		if (r < 0) {
			ret = r == -EINVAL ? EXIT_BAD_INPUT : EXIT_WRITE_FAILED;
			goto out;
		}
	}
	if ((ret = output_dir(dir)) != 0)
		goto out;
	ret = 0;
	for (size_t i = 0; i < n_mods && ret == 0; i++) {
		char path[PATH_MAX];

		r = snprintf(path, sizeof(path), "%s/%s.json", dir, mods[i]) >= (int)sizeof(path)
			? -ENAMETOOLONG
			: tb_atomic_open(path, 0644, &fr[i].af);
		if (r == 0)
			r = tb_recording_write(fr[i].rec, fr[i].af.f);
		if (r == 0)
			r = tb_atomic_close(&fr[i].af);
		if (r < 0) {
			fprintf(stderr, "tightbox generate: cannot write %s/%s.json: %s\n", dir,
				mods[i], strerror(-r));
			ret = EXIT_WRITE_FAILED;
		}
	}
	for (size_t i = 0; i < n_mods && ret == 0; i++) {
		const struct tb_rec_pymodule *pm = tb_recording_pymodule(fr[i].rec, mods[i]);
		size_t names = 0;

		r = tb_atomic_commit(&fr[i].af);
		if (r < 0) {
			fprintf(stderr, "tightbox generate: cannot rename into %s: %s\n",
				fr[i].af.path, strerror(-r));
			ret = EXIT_WRITE_FAILED;
			break;
		}
		if (quiet)
			continue;
		for (size_t a = 0; a < fr[i].rec->n_arches; a++)
			names += fr[i].rec->arches[a].n_syscalls;
		printf("wrote %s/%s.json (%zu syscall%s", dir, mods[i], names,
		       names == 1 ? "" : "s");
		if (pm && pm->scanned)
			printf("; static %zu from %zu object%s", pm->n_statics,
			       tb_strv_len(pm->objects), tb_strv_len(pm->objects) == 1 ? "" : "s");
		printf(")\n");
	}
out:
	for (size_t i = 0; fr && i < n_mods; i++) {
		tb_atomic_discard(&fr[i].af);
		tb_recording_free(fr[i].rec);
	}
	free(fr);
	tb_recording_free(m);
	return ret;
}

/*
 * `--imports`: checks that @frag (read from @path) is the fragment of @module and, when it has
 * a static part, appends its names to *@v / *@whys (the generator's statics). @want: -1 use the
 * static part where there is one, 0 ignore it (--static none), 1 require it (--static safe|all).
 * *@arch: the static arch so far. 0, or -EINVAL after printing why, -ENOMEM.
 */
static int fragment_statics(const struct tb_recording *frag, const char *path, const char *module,
			    int want, struct tb_gen_static_name **v, size_t *n, char ***whys,
			    const char **arch)
{
	const struct tb_rec_pymodule *pm = tb_recording_pymodule(frag, module);
	_cleanup_strv_ char **mods = NULL;
	_cleanup_free_ char *prefix = NULL;
	struct tb_gen_static_name *nv;
	int r = tb_recording_import_modules(frag, &mods);

	if (r < 0)
		return r;
	if (!tb_strv_has(mods, module)) {
		fprintf(stderr,
			"tightbox generate: %s: python_context.imports.%s: missing: not the "
			"fragment of %s (write it with generate --per-import)\n",
			path, module, module);
		return -EINVAL;
	}
	if (want == 0)
		return 0;
	if (!pm || !pm->scanned) {
		if (want > 0) {
			fprintf(stderr,
				"tightbox generate: %s: python_context.static.%s: missing: "
				"the fragment has no static names (write the fragments with "
				"generate --per-import DIR --scan SCAN.json), or pass --static "
				"none\n",
				path, module);
			return -EINVAL;
		}
		/* Said even with -q: the profile is narrower than the other modules'. */
		fprintf(stderr,
			"tightbox generate: note: %s has no static names (written without "
			"--scan): recorded names only for %s\n",
			path, module);
		return 0;
	}
	if (*arch && strcmp(*arch, pm->static_arch)) {
		fprintf(stderr,
			"tightbox generate: %s: python_context.static.%s.arch: scanned on %s, "
			"the other static names on %s\n",
			path, module, pm->static_arch, *arch);
		return -EINVAL;
	}
	*arch = pm->static_arch;
	nv = realloc(*v, (*n + pm->n_statics + 1) * sizeof(*nv));
	if (!nv || asprintf(&prefix, "import %s: ", module) < 0) {
		if (nv)
			*v = nv;
		return -ENOMEM;
	}
	*v = nv;
	for (size_t i = 0; i < pm->n_statics; i++) {
		const struct tb_rec_static_name *x = &pm->statics[i];
		_cleanup_free_ char *why = NULL;

		r = static_why(prefix, x->object, x->symbol, x->objects, &why);
		if (r == 0)
			r = tb_strv_add(whys, why);
		if (r < 0)
			return r;
		nv[*n].name = x->name;
		nv[*n].via = x->via;
		nv[*n].why = NULL; /* set once whys stops moving */
		(*n)++;
	}
	return 0;
}

int tb_cmd_generate(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},  {"arch", required_argument, NULL, 'A'},
	    {"runtime", required_argument, NULL, 'R'}, {"args", required_argument, NULL, 'G'},
	    {"name", required_argument, NULL, 'N'},    {"quiet", no_argument, NULL, 'q'},
	    {"scan", required_argument, NULL, 'S'},    {"static", required_argument, NULL, 'T'},
	    {"phases", no_argument, NULL, 'P'},       {"help", no_argument, NULL, 'h'},
	    {"allow-risky", required_argument, NULL, 'K'},
	    {"per-import", required_argument, NULL, 'I'},
	    {"imports", required_argument, NULL, 'M'},
	    {"per-import-dir", required_argument, NULL, 'D'},
	    {NULL, 0, NULL, 0},
	};
	struct tb_recording **recs = NULL;
	struct tb_gen_input *in = NULL;
	struct tb_gen_result res = {0};
	struct out_file outs[4] = {{0}};
	struct tb_gen_result res2 = {0};
	char *phase2 = NULL, **phase2_names = NULL;
	bool phases = false;
	const char *risky[16] = {NULL};
	size_t n_out = 3, n_user = 0, n_phase1;
	const char *dir = ".";
	struct tb_gen_opts o;
	struct tb_diag d;
	struct tb_scan *scan = NULL;
	struct tb_gen_static_name *statics = NULL;
	char **whys = NULL;
	size_t n_statics = 0;
	const char *scan_path = NULL, *static_arg = NULL;
	bool quiet = false;
	const char *per_import = NULL, *imports = NULL, *import_dir = NULL;
	char **modules = NULL;
	size_t n_in = 0, n_rec = 0;
	int c, ret = EXIT_BAD_INPUT, r;
	struct stat st;

	tb_gen_opts_init(&o);
	tb_diag_clear(&d);
	optind = 1;
	opterr = 0; /* tb_cli_print_bad_option says why, with a "did you mean" */
	while ((c = getopt_long(argc, argv, "+o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			dir = optarg;
			break;
		case 'A':
			if (parse_arches(optarg, &o) < 0) {
				fprintf(stderr,
					"tightbox generate: --arch: expected a comma-separated "
					"list of at most %d arches\n",
					TB_GEN_MAX_ARCHES);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'R':
			if (parse_runtimes(optarg, &o) < 0) {
				fprintf(stderr,
					"tightbox generate: --runtime: expected tightbox, runc "
					"or tightbox,runc, not '%s'\n",
					optarg);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'G':
		{
			static const char *const names[] = {"none", "safe", "strict"};
			static const int vals[] = {TB_GEN_ARGS_NONE, TB_GEN_ARGS_SAFE, TB_GEN_ARGS_STRICT};
			int v;

			if (keyword("--args", optarg, names, vals, &v) < 0)
				return EXIT_BAD_INPUT;
			o.args = v;
			break;
		}
		case 'N':
			if (!valid_name(optarg)) {
				fprintf(stderr,
					"tightbox generate: --name: '%s' is not a valid profile "
					"name (letters, digits, '.', '_', '-'; at most 64)\n",
					optarg);
				return EXIT_BAD_INPUT;
			}
			o.name = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'P':
			phases = true;
			break;
		case 'K':
			if (parse_risky(optarg, risky, TB_ARRAY_SIZE(risky)) < 0)
				return EXIT_BAD_INPUT;
			o.allow_risky = (char *const *)risky;
			break;
		case 'S':
			scan_path = optarg;
			break;
		case 'I':
			per_import = optarg;
			break;
		case 'M':
			imports = optarg;
			break;
		case 'D':
			import_dir = optarg;
			break;
		case 'T':
		{
			static const char *const names[] = {"none", "safe", "all"};
			static const int vals[] = {TB_GEN_STATIC_NONE, TB_GEN_STATIC_SAFE, TB_GEN_STATIC_ALL};
			int v;

			static_arg = optarg;
			if (keyword("--static", optarg, names, vals, &v) < 0)
				return EXIT_BAD_INPUT;
			o.static_mode = v;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			tb_cli_print_bad_option("tightbox generate", argv, optind, longopts);
			return EXIT_BAD_INPUT;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "tightbox generate: no recordings given\n");
		usage(stderr);
		return EXIT_BAD_INPUT;
	}
	/* Refused before anything is read; a missing folder is only created once all is ready. */
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "tightbox generate: -o %s: exists and is not a directory\n", dir);
		return EXIT_BAD_INPUT;
	}
	if (per_import && (imports || phases || static_arg)) {
		fprintf(stderr,
			"tightbox generate: --per-import writes fragments only: not with "
			"--imports, --phases or --static (a fragment keeps every name its scan "
			"reaches with how; --static chooses when composing with --imports)\n");
		return EXIT_BAD_INPUT;
	}
	if (!imports != !import_dir) {
		fprintf(stderr, "tightbox generate: --imports and --per-import-dir go together\n");
		return EXIT_BAD_INPUT;
	}
	if (imports && parse_modules(imports, &modules) < 0) {
		fprintf(stderr, "tightbox generate: --imports: expected comma-separated top-level "
				"module names (letters, digits, '_'), not '%s'\n", imports);
		return EXIT_BAD_INPUT;
	}
	if (static_arg && !scan_path && !imports) {
		fprintf(stderr, "tightbox generate: --static needs --scan FILE or --imports\n");
		return EXIT_BAD_INPUT;
	}
	if (scan_path) {
		/* --per-import keeps the whole scan (each fragment takes its objects' part). */
		r = per_import ? tb_scan_load(scan_path, &scan, &d)
			       : load_statics(scan_path, &scan, &statics, &whys, &d);
		if (r < 0) {
			if (!d.message[0])
				tb_diag_set(&d, scan_path, 0, 0, NULL, "cannot read the scan: %s",
					    strerror(-r));
			tb_cli_print_diag("tightbox generate", &d);
			goto out;
		}
	}
	if (scan_path && !per_import) {
		if (!static_arg)
			o.static_mode = TB_GEN_STATIC_SAFE;
		o.statics = statics;
		o.n_statics = n_statics = scan->n_syscalls;
		o.static_arch = scan->arch;
		o.static_source = scan_path;
	}
	n_rec = (size_t)(argc - optind);
	n_in = n_rec + tb_strv_len(modules);
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, sized by its element */
	recs = calloc(n_in, sizeof(*recs));
	in = calloc(n_in, sizeof(*in));
	if (!recs || !in) {
		fprintf(stderr, "tightbox generate: out of memory\n");
		ret = EXIT_WRITE_FAILED;
		goto out;
	}
	for (size_t i = 0; i < n_in; i++) {
		const char *path = i < n_rec ? argv[optind + (int)i] : NULL;
		char frag[PATH_MAX];

		if (!path) {
			/* --imports: the fragment of each module, after the baseline. */
			if (!modules)
				goto out;
			if (snprintf(frag, sizeof(frag), "%s/%s.json", import_dir,
				     modules[i - n_rec]) >= (int)sizeof(frag)) {
				fprintf(stderr, "tightbox generate: --per-import-dir: path too long\n");
				goto out;
			}
			if (access(frag, F_OK) < 0) {
				fprintf(stderr, "tightbox generate: --imports: no fragment for %s (%s "
						"is missing; write it with generate --per-import)\n",
					modules[i - n_rec], frag);
				goto out;
			}
			path = strdupa(frag);
		}
		r = tb_recording_load(path, &recs[i], &d);
		if (r < 0) {
			if (!d.file[0])
				tb_diag_set(&d, path, 0, 0, NULL, "cannot read the recording: %s",
					    strerror(-r));
			tb_cli_print_diag("tightbox generate", &d);
			goto out;
		}
		in[i].path = path;
		in[i].rec = recs[i];
		if (i >= n_rec) {
			/* --static none ignores the fragments' static names, safe|all requires
			 * them, and without --static each fragment's are used when it has them. */
			int want = !static_arg ? -1 : o.static_mode != TB_GEN_STATIC_NONE;

			r = fragment_statics(recs[i], path, modules[i - n_rec], want, &statics,
					     &n_statics, &whys, &o.static_arch);
			if (r < 0) {
				if (r != -EINVAL)
					fprintf(stderr, "tightbox generate: %s\n", strerror(-r));
				ret = r == -EINVAL ? EXIT_BAD_INPUT : EXIT_WRITE_FAILED;
				goto out;
			}
			if (!o.static_source && n_statics)
				o.static_source = path;
		}
	}
	if (imports && n_statics) {
		for (size_t i = 0; i < n_statics; i++)
			statics[i].why = whys[i];
		if (!static_arg)
			o.static_mode = TB_GEN_STATIC_SAFE;
		o.statics = statics;
		o.n_statics = n_statics;
	}
	if (per_import) {
		ret = write_fragments(per_import, (const struct tb_recording *const *)recs, n_in,
				      scan, scan_path, quiet);
		goto out;
	}
	n_phase1 = n_in;
	if (phases) {
		/* User-phase recordings to the back: in[0, n_in - n_user) give phase 1. */
		for (size_t i = 0, k = n_in; i < k;) {
			if (in[i].rec->prov.phase && !strcmp(in[i].rec->prov.phase, "user")) {
				struct tb_gen_input t = in[i];

				in[i] = in[--k];
				in[k] = t;
				n_user++;
			} else {
				i++;
			}
		}
		if (!n_user || n_user == n_in) {
			fprintf(stderr, "tightbox generate: --phases needs recordings of both kinds: "
				"record --phase user (phase 2) and record --phase all (phase 1); "
				"got %zu user-phase of %zu\n", n_user, n_in);
			goto out;
		}
		/* Phase 2 is what the user phase did: the scan's reachable names are phase 1's. */
		struct tb_gen_opts o2 = o;

		o2.n_statics = 0;
		r = tb_generate(in + (n_in - n_user), n_user, &o2, &res2, &d);
		if (r == 0)
			r = tb_gen_phase2(res2.seccomp, in + (n_in - n_user), n_user, &phase2,
					  &phase2_names);
		if (r < 0) {
			tb_cli_print_diag("tightbox generate", &d);
			ret = r == -EINVAL ? EXIT_BAD_INPUT : EXIT_WRITE_FAILED;
			goto out;
		}
		n_phase1 -= n_user;
		outs[3] = (struct out_file){.name = "seccomp-phase2.json", .text = phase2};
		n_out = 4;
	}
	r = tb_generate(in, n_phase1, &o, &res, &d);
	if (r < 0) {
		tb_cli_print_diag("tightbox generate", &d);
		ret = r == -EINVAL ? EXIT_BAD_INPUT : EXIT_WRITE_FAILED;
		goto out;
	}
	if ((ret = output_dir(dir)) != 0)
		goto out;
	/* All three to temporary files first, then renamed: never a half-written set. */
	outs[0] = (struct out_file){.name = "seccomp.json", .text = res.seccomp};
	outs[1] = (struct out_file){.name = res.profile_name, .text = res.apparmor};
	outs[2] = (struct out_file){.name = "landlock.json", .text = res.landlock};
	ret = 0;
	for (size_t i = 0; i < n_out && ret == 0; i++) {
		r = write_tmp(dir, &outs[i]);
		if (r < 0) {
			fprintf(stderr, "tightbox generate: cannot write %s/%s: %s\n", dir,
				outs[i].name, strerror(-r));
			ret = EXIT_WRITE_FAILED;
		}
	}
	if (ret == 0 && outs[1].af.tmp && apparmor_compiles(outs[1].af.tmp) < 0) {
		fprintf(stderr, "tightbox generate: the AppArmor profile %s/%s does not compile "
				"(apparmor_parser -Q -K); nothing was written\n",
			dir, outs[1].name);
		ret = EXIT_WRITE_FAILED;
	}
	for (size_t i = 0; i < n_out && ret == 0; i++) {
		r = tb_atomic_commit(&outs[i].af);
		if (r < 0) {
			fprintf(stderr, "tightbox generate: cannot rename into %s: %s\n",
				outs[i].af.path, strerror(-r));
			ret = EXIT_WRITE_FAILED;
		}
	}
	if (ret == 0 && !quiet)
		summary(&res, &o, n_phase1, dir);
	if (ret == 0 && !quiet && phases) {
		printf("phase 2 (user code, %zu recording%s): %zu syscalls allowed\n", n_user,
		       n_user == 1 ? "" : "s", tb_strv_len(phase2_names));
		print_wrapped(phase2_names);
		printf("wrote %s/seccomp-phase2.json (run --two-phase)\n", dir);
	}
out:
	for (size_t i = 0; i < TB_ARRAY_SIZE(outs); i++)
		tb_atomic_discard(&outs[i].af);
	for (size_t i = 0; recs && i < n_in; i++)
		tb_recording_free(recs[i]);
	free(recs);
	free(in);
	free(statics);
	tb_strv_free(whys);
	tb_scan_free(scan);
	tb_gen_result_free(&res);
	tb_gen_result_free(&res2);
	free(phase2);
	tb_strv_free(phase2_names);
	tb_strv_free(modules);
	return ret;
}
