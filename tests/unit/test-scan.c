/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tightbox scan: the glibc symbol table's invariants, DT_NEEDED resolution on fixture ELFs this
 * test builds with cc (DT_RUNPATH with $ORIGIN, DT_RPATH, a wrong-machine decoy, ld.so.cache,
 * default directories), and a scan of a fixture executable with known imports, syscall() calls
 * and an inline syscall instruction.
 */
#include <errno.h>
#include <limits.h>
#include <seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/strv.h"
#include "scanner/scan.h"
#include "scanner/internal.h"

static char dir[] = "/tmp/tb-test-scan-XXXXXX";

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("fixture command failed: %s", cmd);
}

static void put(const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	if (system("command -v cc >/dev/null 2>&1") != 0) {
		print_message("cc is not installed: fixture ELFs cannot be built\n");
		exit(77);
	}
	if (!mkdtemp(dir))
		return -1;
	sh("mkdir -p %s/sub %s/rp %s/decoy", dir, dir, dir);
	put("dep.c",
	    "#include <signal.h>\nint dep(void) { stack_t s = {0}; return sigaltstack(&s, 0); }\n");
	put("top.c", "int dep(void);\nint top(void) { return dep(); }\n");
	put("exe.c", "#define _GNU_SOURCE\n#include <sys/syscall.h>\n#include <unistd.h>\n"
		     "#include <time.h>\nint top(void);\n"
		     "long raw(void) { long r; __asm__ volatile(\"mov $39, %%eax\\n\\tsyscall\" : "
		     "\"=a\"(r) :: \"rcx\", \"r11\", \"memory\"); return r; }\n"
		     "int main(int c, char **v) { struct timespec t = {0, 1};\n"
		     "  nanosleep(&t, 0); syscall(SYS_gettid); syscall(c + 1000);\n"
		     "  return top() + (int)raw(); }\n");
	/* libdep.so in sub/ (found through libtop's DT_RUNPATH $ORIGIN/sub); a 32-bit decoy of the
	 * same name earlier on the path must be skipped, as ld.so skips it. */
	sh("cd %s && cc -shared -fPIC -o sub/libdep.so dep.c", dir);
	sh("cd %s && (cc -m32 -shared -fPIC -o decoy/libdep.so dep.c 2>/dev/null || "
	   "printf 'not an ELF' > decoy/libdep.so)",
	   dir);
	sh("cd %s && cc -shared -fPIC -o rp/libtop.so top.c -L sub -ldep "
	   "-Wl,--enable-new-dtags,-rpath,'$ORIGIN/../decoy:$ORIGIN/../sub'",
	   dir);
	sh("cd %s && cc -o exe exe.c -L rp -ltop -L sub -ldep "
	   "-Wl,--disable-new-dtags,-rpath,'$ORIGIN/rp'",
	   dir);
	return 0;
}

static int teardown(void **state)
{
	sh("rm -rf %s", dir);
	return 0;
}

static void test_table_invariants(void **state)
{
	size_t n;
	const struct tb_scan_libc_entry *t = tb_scan_libc_table(&n);

	assert_true(n > 300);
	for (size_t i = 0; i < n; i++) {
		if (i)
			assert_true(strcmp(t[i - 1].symbol, t[i].symbol) < 0); /* sorted, unique */
		for (const char *p = t[i].syscalls; *p;) {
			size_t l = strcspn(p, " ");
			char name[64];

			snprintf(name, sizeof(name), "%.*s", (int)l, p);
			if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name) < 0 &&
			    seccomp_syscall_resolve_name_arch(SCMP_ARCH_AARCH64, name) < 0)
				fail_msg("%s: %s is no syscall on x86_64 or aarch64", t[i].symbol,
					 name);
			p += l;
			p += strspn(p, " ");
		}
		assert_non_null(tb_scan_derived_name(t[i].derived));
	}
}

static void test_table_lookup(void **state)
{
	enum tb_scan_derived how;
	uint32_t x86 = SCMP_ARCH_X86_64;

	assert_string_equal(tb_scan_libc_syscalls("open", x86, &how), "openat");
	assert_int_equal(how, TB_DERIVED_MEASURED);
	assert_string_equal(tb_scan_libc_syscalls("nanosleep", x86, &how), "clock_nanosleep");
	/* The same-name rule. */
	assert_string_equal(tb_scan_libc_syscalls("sigaltstack", x86, &how), "sigaltstack");
	assert_string_equal(tb_scan_libc_syscalls("mprotect", x86, &how), "mprotect");
	assert_int_equal(how, TB_DERIVED_WRAPPER);
	assert_null(tb_scan_libc_syscalls("strlen", x86, &how));
	assert_string_equal(tb_scan_libc_syscalls("getpagesize", x86, &how), "");
	assert_string_equal(tb_scan_libc_syscalls("clock_gettime", x86, &how), "clock_gettime");
	assert_int_equal(how, TB_DERIVED_NONE);
}

static void test_resolve(void **state)
{
	char origin[PATH_MAX], real[PATH_MAX], want[PATH_MAX];
	char *got = NULL;
	struct tb_scan_search s = {0};
	const char *none[] = {NULL};

	snprintf(origin, sizeof(origin), "%s/rp", dir);
	/* DT_RUNPATH: $ORIGIN expanded, the wrong-class decoy skipped. */
	s.origin = origin;
	s.runpath = "$ORIGIN/../decoy:${ORIGIN}/../sub";
	s.defaults = none;
	s.cache = "/nonexistent";
	assert_int_equal(tb_scan_resolve("libdep.so", &s, &got), 0);
	snprintf(want, sizeof(want), "%s/sub/libdep.so", dir);
	assert_non_null(realpath(want, real));
	assert_string_equal(got, real);
	free(got);
	/* DT_RPATH is ignored when DT_RUNPATH is set, used otherwise. */
	s.runpath = "/nonexistent";
	s.rpath = "$ORIGIN/../sub";
	assert_int_equal(tb_scan_resolve("libdep.so", &s, &got), -ENOENT);
	s.runpath = NULL;
	assert_int_equal(tb_scan_resolve("libdep.so", &s, &got), 0);
	free(got);
	/* The executable's DT_RPATH counts for every object. */
	s.rpath = NULL;
	s.exe_rpath = "$ORIGIN/sub";
	s.exe_origin = dir;
	assert_int_equal(tb_scan_resolve("libdep.so", &s, &got), 0);
	free(got);
	/* ld.so.cache and the default directories. */
	s = (struct tb_scan_search){.origin = origin};
	assert_int_equal(tb_scan_resolve("libc.so.6", &s, &got), 0);
	assert_non_null(strstr(got, "libc.so.6"));
	free(got);
	s.cache = "/nonexistent";
	assert_int_equal(tb_scan_resolve("libc.so.6", &s, &got), 0);
	free(got);
	assert_int_equal(tb_scan_resolve("libtightbox-no-such.so.9", &s, &got), -ENOENT);
}

static const struct tb_scan_syscall *find(const struct tb_scan *s, const char *name)
{
	for (size_t i = 0; i < s->n_syscalls; i++)
		if (!strcmp(s->syscalls[i].name, name))
			return &s->syscalls[i];
	return NULL;
}

static bool ref_from(const struct tb_scan_syscall *sc, const char *object_suffix, const char *sym)
{
	for (size_t i = 0; sc && i < sc->n_refs; i++) {
		size_t lo = strlen(sc->refs[i].object), ls = strlen(object_suffix);

		if (lo >= ls && !strcmp(sc->refs[i].object + lo - ls, object_suffix) &&
		    !strncmp(sc->refs[i].symbol, sym, strlen(sym)))
			return true;
	}
	return false;
}

static bool has_name(const struct tb_scan_reached *v, size_t n, const char *name, unsigned via)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return (v[i].via & via) == via;
	return false;
}

/* tb_scan_reach over the fixture's closure: exe -> libtop -> libdep -> libc. */
static void test_reach(const struct tb_scan *s)
{
	char top[PATH_MAX], dep[PATH_MAX], real[PATH_MAX], *roots[] = {top, NULL};
	char *none[] = {"/nonexistent/x.so", NULL};
	struct tb_scan_reached *v = NULL;
	char **objs = NULL;
	const char *missing = NULL;
	size_t n = 0;
	bool saw_dep = false;

	snprintf(top, sizeof(top), "%s/exe", dir);
	snprintf(dep, sizeof(dep), "%s/sub/libdep.so", dir);
	assert_non_null(realpath(dep, real));
	/* From the executable: everything, through DT_NEEDED (libdep's sigaltstack included). */
	assert_int_equal(tb_scan_reach(s, roots, &objs, &v, &n, &missing), 0);
	for (size_t i = 0; objs[i]; i++)
		saw_dep |= !strcmp(objs[i], real);
	assert_true(saw_dep);
	assert_int_equal(n, s->n_syscalls);
	assert_true(has_name(v, n, "sigaltstack", TB_SCAN_VIA_IMPORT));
	assert_true(has_name(v, n, "gettid", TB_SCAN_VIA_SYSCALL));
	free(v);
	tb_strv_free(objs);
	/* From libdep alone: its own names, not the executable's syscall() or inline sites. */
	roots[0] = dep;
	assert_int_equal(tb_scan_reach(s, roots, &objs, &v, &n, &missing), 0);
	assert_true(has_name(v, n, "sigaltstack", TB_SCAN_VIA_IMPORT));
	assert_false(has_name(v, n, "gettid", 0));
	assert_false(has_name(v, n, "getpid", TB_SCAN_VIA_INLINE));
	for (size_t i = 0; i < n; i++)
		assert_non_null(strstr(v[i].ref->object, "/sub/libdep.so"));
	free(v);
	tb_strv_free(objs);
	/* No roots: no objects, no names; an object the scan lacks: named. */
	assert_int_equal(tb_scan_reach(s, NULL, &objs, &v, &n, &missing), 0);
	assert_null(objs);
	assert_int_equal(n, 0);
	free(v);
	assert_int_equal(tb_scan_reach(s, none, &objs, &v, &n, &missing), -ENOENT);
	assert_string_equal(missing, none[0]);
}

static void test_scan_fixture(void **state)
{
	char exe[PATH_MAX];
	const char *files[] = {exe};
	struct tb_scan_opts o = {.files = files, .n_files = 1};
	struct tb_scan *s = NULL, *back = NULL;
	struct tb_diag d;
	char *json = NULL, path[PATH_MAX];
	const struct tb_scan_object *eo = NULL;
	FILE *f;

	snprintf(exe, sizeof(exe), "%s/exe", dir);
	tb_diag_clear(&d);
	assert_int_equal(tb_scan_run(&o, &s, &d), 0);
	/* The closure: exe -> libtop (exe's DT_RPATH) -> libdep (libtop's DT_RUNPATH) -> libc. */
	assert_true(s->n_objects >= 4);
	assert_int_equal(s->n_missing, 0);
	for (size_t i = 0; i < s->n_objects; i++)
		if (strstr(s->objects[i].path, "/exe"))
			eo = &s->objects[i];
	assert_non_null(eo);
	/* syscall(SYS_gettid) with a constant, syscall(c + 1000) unknown; the inline getpid. */
	assert_int_equal(eo->n_calls, 2);
	assert_true(eo->n_inlines >= 1);
	assert_true(ref_from(find(s, "sigaltstack"), "sub/libdep.so", "sigaltstack@GLIBC_"));
	assert_true(ref_from(find(s, "clock_nanosleep"), "/exe", "nanosleep@GLIBC_"));
	assert_true(ref_from(find(s, "gettid"), "/exe", "syscall(0x"));
	assert_true(ref_from(find(s, "getpid"), "/exe", "inline(0x"));
	assert_true(find(s, "gettid")->via & TB_SCAN_VIA_SYSCALL);
	assert_true(s->unknown_sites >= 1);
	/* The JSON round-trips, and twice gives the same bytes. */
	assert_int_equal(tb_scan_to_json(s, &json), 0);
	snprintf(path, sizeof(path), "%s/scan.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
	assert_int_equal(tb_scan_load(path, &back, &d), 0);
	assert_int_equal(back->n_syscalls, s->n_syscalls);
	assert_string_equal(back->arch, "x86_64");
	/* The objects come back with their resolved deps, each reference with its via. */
	assert_true(back->has_deps);
	assert_int_equal(back->n_objects, s->n_objects);
	for (size_t i = 0; i < s->n_objects; i++) {
		assert_string_equal(back->objects[i].path, s->objects[i].path);
		assert_int_equal(tb_strv_len(back->objects[i].deps),
				 tb_strv_len(s->objects[i].deps));
	}
	assert_true(ref_from(find(back, "gettid"), "/exe", "syscall(0x"));
	test_reach(s);
	test_reach(back);
	tb_scan_free(back);
	{
		struct tb_scan *again = NULL;
		char *json2 = NULL;

		assert_int_equal(tb_scan_run(&o, &again, &d), 0);
		assert_int_equal(tb_scan_to_json(again, &json2), 0);
		assert_string_equal(json, json2);
		free(json2);
		tb_scan_free(again);
	}
	free(json);
	tb_scan_free(s);
}

static void test_bad_input(void **state)
{
	char path[PATH_MAX];
	const char *files[] = {path};
	struct tb_scan_opts o = {.files = files, .n_files = 1};
	struct tb_scan *s = NULL;
	struct tb_diag d;

	snprintf(path, sizeof(path), "%s/exe.c", dir);
	tb_diag_clear(&d);
	assert_int_equal(tb_scan_run(&o, &s, &d), -EINVAL);
	assert_null(s);
	assert_non_null(strstr(d.message, "not an ELF"));
	snprintf(path, sizeof(path), "%s/missing", dir);
	tb_diag_clear(&d);
	assert_int_equal(tb_scan_run(&o, &s, &d), -EINVAL);
	o = (struct tb_scan_opts){.python = "/nonexistent/python3.11"};
	tb_diag_clear(&d);
	assert_int_equal(tb_scan_run(&o, &s, &d), -EINVAL);
	snprintf(path, sizeof(path), "%s/scan.json", dir);
	put("bad-scan.json", "{\"format\": \"tightbox-scan\", \"version\": 2}");
	snprintf(path, sizeof(path), "%s/bad-scan.json", dir);
	tb_diag_clear(&d);
	assert_int_equal(tb_scan_load(path, &s, &d), -EINVAL);
	assert_string_equal(d.where, "version");
	/* An object without a path; then a file of an older scan (no deps): loads, reach refuses.
	 */
	put("bad-obj.json", "{\"format\": \"tightbox-scan\", \"version\": 1, \"provenance\": "
			    "{\"arch\": \"x86_64\"}, \"objects\": [{\"soname\": null}], "
			    "\"syscalls\": []}");
	snprintf(path, sizeof(path), "%s/bad-obj.json", dir);
	tb_diag_clear(&d);
	assert_int_equal(tb_scan_load(path, &s, &d), -EINVAL);
	assert_string_equal(d.where, "objects[0]");
	put("old.json", "{\"format\": \"tightbox-scan\", \"version\": 1, \"provenance\": "
			"{\"arch\": \"x86_64\"}, \"objects\": [{\"path\": \"/a.so\", \"needed\": "
			"[\"libc.so.6\"]}], \"syscalls\": [{\"name\": \"read\", \"via\": "
			"[\"import\"], \"from\": [{\"object\": \"/a.so\", \"symbols\": "
			"[\"syscall(0x10)\"]}]}]}");
	snprintf(path, sizeof(path), "%s/old.json", dir);
	assert_int_equal(tb_scan_load(path, &s, &d), 0);
	assert_false(s->has_deps);
	/* Without from[].via, a reference's kind comes from its symbol. */
	assert_int_equal(s->syscalls[0].refs[0].via, TB_SCAN_VIA_SYSCALL);
	{
		char *roots[] = {"/a.so", NULL}, **objs = NULL;
		struct tb_scan_reached *v = NULL;
		const char *missing = NULL;
		size_t n = 0;

		assert_int_equal(tb_scan_reach(s, roots, &objs, &v, &n, &missing), -EPROTO);
	}
	tb_scan_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_invariants), cmocka_unit_test(test_table_lookup),
	    cmocka_unit_test(test_resolve),	     cmocka_unit_test(test_scan_fixture),
	    cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
