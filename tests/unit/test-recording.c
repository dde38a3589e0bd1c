/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/recording.c: builders, lookups, deterministic write, load errors, merge. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/recording.h"
#include "core/strv.h"
#include "core/internal.h"

static char tmpdir[] = "/tmp/tb-test-recording-XXXXXX";

static int setup_dir(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char p[600];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	return rmdir(tmpdir);
}

static char *path_in(const char *name)
{
	static char p[600];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *to_string(const struct tb_recording *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(tb_recording_write(r, f), 0);
	fclose(f);
	return buf;
}

static struct tb_recording *sample(const char *workload, bool reversed)
{
	struct tb_recording *r = tb_recording_new();
	static const char *const sock_keys[] = {"a2", "a0", "a1"};
	const uint64_t sock_vals[] = {0, 1, 524289};
	const char *const ck = "flags";
	uint64_t cv = 4001536;

	assert_non_null(r);
	r->prov.backend = strdup("ptrace");
	r->prov.tightbox_version = strdup("0.1.0");
	r->prov.kernel = strdup("6.18");
	r->prov.arch = strdup("x86_64");
	r->prov.libc = strdup("glibc 2.36");
	r->prov.command = calloc(3, sizeof(char *));
	r->prov.command[0] = strdup("/usr/bin/python3");
	r->prov.command[1] = strdup("-c");
	r->prov.exited = true;
	r->prov.duration_ms = 5;
	if (!reversed) {
		assert_int_equal(tb_recording_add_syscall(r, "x86_64", "read", 3), 0);
		assert_int_equal(tb_recording_add_syscall(r, "x86_64", "write", 1), 0);
		assert_int_equal(tb_recording_add_syscall(r, "i386", "getpid", 1), 0);
		assert_int_equal(tb_recording_add_file(r, "/etc/passwd", TB_FOP_READ, true), 0);
		assert_int_equal(tb_recording_add_file(r, "/b", TB_FOP_STAT, false), 0);
		assert_int_equal(tb_recording_add_executable(r, "/usr/bin/python3.11"), 0);
		assert_int_equal(tb_recording_add_family(r, "AF_UNIX"), 0);
		assert_int_equal(tb_recording_add_family(r, "AF_INET"), 0);
	} else {
		assert_int_equal(tb_recording_add_family(r, "AF_INET"), 0);
		assert_int_equal(tb_recording_add_family(r, "AF_UNIX"), 0);
		assert_int_equal(tb_recording_add_executable(r, "/usr/bin/python3.11"), 0);
		assert_int_equal(tb_recording_add_file(r, "/b", TB_FOP_STAT, false), 0);
		assert_int_equal(tb_recording_add_file(r, "/etc/passwd", TB_FOP_READ, true), 0);
		assert_int_equal(tb_recording_add_syscall(r, "i386", "getpid", 1), 0);
		assert_int_equal(tb_recording_add_syscall(r, "x86_64", "write", 1), 0);
		assert_int_equal(tb_recording_add_syscall(r, "x86_64", "read", 2), 0);
		assert_int_equal(tb_recording_add_syscall(r, "x86_64", "read", 1), 0);
	}
	assert_int_equal(tb_recording_add_args(r, "x86_64", "socket", 3, sock_keys, sock_vals, 2), 0);
	assert_int_equal(tb_recording_add_args(r, "x86_64", "clone3", 1, &ck, &cv, 1), 0);
	assert_int_equal(tb_recording_set_workload(r, workload), 0);
	return r;
}

static void test_builders_and_lookups(void **state)
{
	struct tb_recording *r = sample("w1", false);
	const struct tb_rec_syscall *s;
	const struct tb_rec_args *a;
	const struct tb_rec_file *f;
	const char *const k = "a1";
	uint64_t v = 21505;

	s = tb_recording_syscall(r, "x86_64", "read");
	assert_non_null(s);
	assert_int_equal(s->count, 3);
	assert_string_equal(s->workloads[0], "w1");
	assert_null(s->workloads[1]);
	assert_null(tb_recording_syscall(r, "x86_64", "getpid"));
	assert_non_null(tb_recording_syscall(r, "i386", "getpid"));
	assert_null(tb_recording_arch(r, "aarch64"));

	/* Same combination twice: one entry, counts summed. Key order does not matter. */
	assert_int_equal(tb_recording_add_args(r, "x86_64", "ioctl", 1, &k, &v, 4), 0);
	assert_int_equal(tb_recording_add_args(r, "x86_64", "ioctl", 1, &k, &v, 6), 0);
	a = tb_recording_args(r, "x86_64", "ioctl");
	assert_non_null(a);
	assert_int_equal(a->n_vals, 1);
	assert_int_equal(a->vals[0].count, 10);
	a = tb_recording_args(r, "x86_64", "socket");
	assert_string_equal(a->vals[0].keys[0], "a0");
	assert_int_equal(a->vals[0].values[0], 1);
	assert_string_equal(a->vals[0].keys[2], "a2");

	/* ok and failed are tracked separately per op. */
	assert_int_equal(tb_recording_add_file(r, "/etc/passwd", TB_FOP_WRITE, false), 0);
	f = tb_recording_file(r, "/etc/passwd");
	assert_int_equal(f->ok, TB_FOP_READ);
	assert_int_equal(f->failed, TB_FOP_WRITE);

	/* Executables are unique. */
	assert_int_equal(tb_recording_add_executable(r, "/usr/bin/python3.11"), 0);
	assert_null(r->executables[1]);
	assert_string_equal(r->network_families[0], "AF_INET");

	assert_string_equal(tb_file_op_name(TB_FOP_MMAP_EXEC), "mmap-exec");
	assert_null(tb_file_op_name(1u << 20));
	tb_recording_free(r);
	tb_recording_free(NULL);
}

static void test_write_is_deterministic(void **state)
{
	struct tb_recording *a = sample("w1", false), *b = sample("w1", true);
	char *sa = to_string(a), *sb = to_string(b);

	assert_string_equal(sa, sb);
	/* Spot-check the documented shape. */
	assert_non_null(strstr(sa, "\"format\": \"tightbox-recording\""));
	assert_non_null(strstr(sa, "\"python\": null"));
	assert_non_null(strstr(sa, "\"signal\": null"));
	assert_non_null(strstr(sa, "\"exit_code\": 0"));
	{
		const char *sys = strstr(sa, "\"syscalls\"");

		assert_non_null(sys);
		assert_true(strstr(sys, "\"i386\"") < strstr(sys, "\"x86_64\""));
	}
	free(sa);
	free(sb);
	tb_recording_free(a);
	tb_recording_free(b);
}

static void test_save_load_roundtrip(void **state)
{
	struct tb_recording *r = sample("w1", false), *back = NULL;
	struct tb_diag d;
	char *s1, *s2;

	assert_int_equal(tb_recording_save(r, path_in("rt.json")), 0);
	assert_int_equal(tb_recording_load(path_in("rt.json"), &back, &d), 0);
	s1 = to_string(r);
	s2 = to_string(back);
	assert_string_equal(s1, s2);
	assert_true(back->prov.exited);
	assert_null(back->prov.python);
	free(s1);
	free(s2);
	tb_recording_free(back);
	/* Saving into a missing directory fails cleanly and leaves nothing behind. */
	assert_int_equal(tb_recording_save(r, path_in("nodir/x.json")), -ENOENT);
	tb_recording_free(r);
}

static void expect_load_error(const char *name, const char *text, int line, const char *where,
			      const char *msg_part)
{
	struct tb_recording *r = (struct tb_recording *)0x1;
	struct tb_diag d;

	write_text(path_in(name), text);
	assert_int_equal(tb_recording_load(path_in(name), &r, &d), -EINVAL);
	assert_ptr_equal(r, (struct tb_recording *)0x1); /* untouched on failure */
	assert_string_equal(d.file, path_in(name));
	if (line)
		assert_int_equal(d.line, line);
	if (where)
		assert_string_equal(d.where, where);
	if (!strstr(d.message, msg_part))
		fail_msg("message '%s' lacks '%s'", d.message, msg_part);
}

static const char good_head[] = "{\"format\": \"tightbox-recording\", \"version\": 1,\n"
				"\"provenance\": {\"tightbox_version\": \"0.1.0\", \"backend\": \"ptrace\","
				"\"kernel\": null, \"arch\": null, \"libc\": null, \"python\": null,"
				"\"command\": [], \"workload\": \"w\", \"exit_code\": 0,"
				"\"signal\": null, \"timed_out\": false, \"duration_ms\": 1},\n";

static void test_load_errors(void **state)
{
	char buf[2048];
	struct tb_recording *r = NULL;
	struct tb_diag d;

	expect_load_error("empty.json", "  \n", 0, NULL, "empty file");
	expect_load_error("trunc.json", "{\"format\": \"tightbox-recording\",\n \"version\": 1,\n", 3,
			  NULL, "invalid JSON");
	expect_load_error("foreign.json", "{\"defaultAction\": \"SCMP_ACT_ERRNO\"}", 0, "format",
			  "not a tightbox recording");
	expect_load_error("array.json", "[1, 2]", 0, NULL, "not a tightbox recording");
	expect_load_error("fmt.json", "{\"format\": \"oci-seccomp\", \"version\": 1}", 0, "format",
			  "format must be");
	expect_load_error("ver.json", "{\"format\": \"tightbox-recording\", \"version\": 2}", 0,
			  "version", "unsupported recording version 2");
	snprintf(buf, sizeof(buf), "%s\"syscalls\": {\"x86_64\": {\"read\": {\"count\": -1}}}}",
		 good_head);
	expect_load_error("neg.json", buf, 0, "syscalls.x86_64.read.count", "non-negative");
	snprintf(buf, sizeof(buf),
		 "%s\"syscalls\": {}, \"files\": {\"/x\": {\"ok\": [\"chmod\"], \"failed\": []}}}",
		 good_head);
	expect_load_error("op.json", buf, 0, "files./x.ok[0]", "unknown file operation \"chmod\"");
	snprintf(buf, sizeof(buf), "%s\"syscalls\": {}, \"args\": {\"x86_64\": {\"ioctl\": [{\"a1\": 5}]}}}",
		 good_head);
	expect_load_error("nocount.json", buf, 0, "args.x86_64.ioctl[0]", "count");
	assert_int_equal(tb_recording_load(path_in("does-not-exist.json"), &r, &d), -ENOENT);
	assert_null(r);

	/* The minimal valid document loads. */
	snprintf(buf, sizeof(buf), "%s\"syscalls\": {\"x86_64\": {\"read\": {\"count\": 7}}}}", good_head);
	write_text(path_in("min.json"), buf);
	assert_int_equal(tb_recording_load(path_in("min.json"), &r, &d), 0);
	assert_int_equal(tb_recording_syscall(r, "x86_64", "read")->count, 7);
	tb_recording_free(r);
}

/* The extensions a top-level import loaded and a fragment's static part: written, read back the
 * same, merged, carried into the fragment; a malformed static part names its JSON path. */
static void test_import_objects(void **state)
{
	static const char ext[] = "/usr/lib/python3.11/lib-dynload/_sqlite3.so";
	char *objects[] = {"/usr/lib/libsqlite3.so.0", (char *)ext, NULL};
	struct tb_recording *r = sample("w", false), *back = NULL, *f = NULL, *m = NULL;
	const struct tb_rec_pymodule *pm;
	const struct tb_recording *both[2];
	struct tb_diag d;
	char buf[2048], *s1, *s2;

	assert_non_null(r);
	assert_int_equal(tb_recording_add_import_syscall(r, "sqlite3", "x86_64", "openat"), 0);
	assert_int_equal(tb_recording_add_import_syscall(r, "pkg", "x86_64", "getcwd"), 0);
	assert_int_equal(tb_recording_add_import_extension(r, "sqlite3", ext), 0);
	assert_int_equal(tb_recording_add_import_extension(r, "sqlite3", ext), 0);
	assert_int_equal(tb_recording_add_import_library(r, "sqlite3", objects[0]), 0);
	/* A static name needs the static part first. */
	assert_int_equal(tb_recording_add_import_static(r, "sqlite3", "fdatasync",
							TB_REC_VIA_IMPORT, NULL, NULL, 1),
			 -EINVAL);
	assert_int_equal(
	    tb_recording_set_import_static(r, "sqlite3", "scan.json", "x86_64", objects), 0);
	assert_int_equal(tb_recording_add_import_static(r, "sqlite3", "fdatasync",
							TB_REC_VIA_IMPORT, objects[0],
							"fdatasync@GLIBC_2.2.5", 1),
			 0);
	assert_int_equal(tb_recording_add_import_static(r, "sqlite3", "gettid", TB_REC_VIA_SYSCALL,
							objects[0], "syscall(0x10)", 2),
			 0);
	/* A pure-Python import: scanned, no objects, no names. */
	assert_int_equal(tb_recording_set_import_static(r, "pkg", "scan.json", "x86_64", NULL), 0);
	assert_int_equal(tb_recording_save(r, path_in("objs.json")), 0);
	if (tb_recording_load(path_in("objs.json"), &back, &d) != 0)
		fail_msg("%s: %s", d.where, d.message);
	s1 = to_string(r);
	s2 = to_string(back);
	assert_string_equal(s1, s2);
	assert_non_null(strstr(s1, "\"extensions\""));
	free(s1);
	free(s2);
	pm = tb_recording_pymodule(back, "sqlite3");
	assert_non_null(pm);
	assert_true(pm->scanned);
	assert_int_equal(tb_strv_len(pm->extensions), 1);
	assert_int_equal(tb_strv_len(pm->libraries), 1);
	assert_int_equal(tb_strv_len(pm->objects), 2);
	assert_int_equal(pm->n_statics, 2);
	assert_int_equal(pm->statics[1].via, TB_REC_VIA_SYSCALL);
	assert_int_equal(pm->statics[1].objects, 2);
	pm = tb_recording_pymodule(back, "pkg");
	assert_true(pm && pm->scanned && !pm->objects && !pm->n_statics && !pm->extensions &&
		    !pm->libraries);
	/* The fragment of sqlite3 carries its part, not pkg's. */
	assert_int_equal(tb_recording_import_fragment(back, "sqlite3", &f), 0);
	assert_non_null(tb_recording_pymodule(f, "sqlite3"));
	assert_null(tb_recording_pymodule(f, "pkg"));
	assert_int_equal(tb_recording_pymodule(f, "sqlite3")->n_statics, 2);
	/* A merge keeps the union. */
	both[0] = back;
	both[1] = f;
	assert_int_equal(tb_recording_merge(both, 2, &m), 0);
	assert_int_equal(tb_recording_pymodule(m, "sqlite3")->n_statics, 2);
	assert_true(tb_recording_pymodule(m, "pkg")->scanned);
	tb_recording_free(m);
	tb_recording_free(f);
	tb_recording_free(back);
	tb_recording_free(r);
	/* Recordings without the keys are unchanged; malformed ones name the key. */
	snprintf(buf, sizeof(buf),
		 "%s\"syscalls\": {}, \"python_context\": {\"static\": {\"json\": {\"scan\": \"s\","
		 " \"arch\": \"x86_64\", \"objects\": [], \"syscalls\": {\"read\": {\"via\": "
		 "[\"magic\"]}}}}}}",
		 good_head);
	expect_load_error("badvia.json", buf, 0, "python_context.static.json.syscalls.read",
			  "expected \"import\"");
	snprintf(buf, sizeof(buf),
		 "%s\"syscalls\": {}, \"python_context\": {\"static\": {\"json\": {\"arch\": "
		 "\"x86_64\"}}}}",
		 good_head);
	expect_load_error("nostatic.json", buf, 0, "python_context.static.json", "\"scan\"");
	snprintf(buf, sizeof(buf),
		 "%s\"syscalls\": {}, \"python_context\": {\"extensions\": {\"json\": [1]}}}",
		 good_head);
	expect_load_error("badext.json", buf, 0, "python_context.extensions.json[0]",
			  "expected a string");
}

static void test_merge(void **state)
{
	struct tb_recording *a = sample("beta", false), *b = sample("alpha", true), *c = sample("gamma", false);
	struct tb_recording *m1 = NULL, *m2 = NULL, *all = NULL;
	const struct tb_rec_syscall *s;
	const struct tb_rec_args *args;

	b->prov.exit_code = 3;
	assert_int_equal(tb_recording_add_syscall(b, "x86_64", "clone3", 1), 0);
	assert_int_equal(tb_recording_add_syscall_workload(b, "x86_64", "clone3", "alpha"), 0);
	assert_int_equal(tb_recording_add_file(b, "/etc/passwd", TB_FOP_STAT, true), 0);
	{
		const struct tb_recording *in[] = {a, b};

		assert_int_equal(tb_recording_merge(in, 2, &m1), 0);
	}
	s = tb_recording_syscall(m1, "x86_64", "read");
	assert_int_equal(s->count, 6);
	assert_string_equal(s->workloads[0], "alpha");
	assert_string_equal(s->workloads[1], "beta");
	assert_null(s->workloads[2]);
	s = tb_recording_syscall(m1, "x86_64", "clone3");
	assert_string_equal(s->workloads[0], "alpha");
	assert_null(s->workloads[1]);
	args = tb_recording_args(m1, "x86_64", "socket");
	assert_int_equal(args->n_vals, 1);
	assert_int_equal(args->vals[0].count, 4);
	assert_int_equal(tb_recording_file(m1, "/etc/passwd")->ok, TB_FOP_READ | TB_FOP_STAT);
	assert_int_equal(m1->n_sources, 2);
	assert_string_equal(m1->sources[0].workload, "alpha");
	assert_string_equal(m1->prov.backend, "merged");
	assert_string_equal(m1->prov.workload, "merged");
	assert_null(m1->prov.command[0]);
	assert_int_equal(m1->prov.exit_code, 3);
	assert_int_equal(m1->prov.duration_ms, 10);

	/* Merging a merge flattens sources: (a+b)+c equals a+b+c byte for byte. */
	{
		const struct tb_recording *in[] = {m1, c};
		const struct tb_recording *in3[] = {c, a, b};
		char *s1, *s2;

		assert_int_equal(tb_recording_merge(in, 2, &m2), 0);
		assert_int_equal(tb_recording_merge(in3, 3, &all), 0);
		assert_int_equal(m2->n_sources, 3);
		s1 = to_string(m2);
		s2 = to_string(all);
		assert_string_equal(s1, s2);
		free(s1);
		free(s2);
	}
	assert_int_equal(tb_recording_merge(NULL, 0, &m2), -EINVAL);
	tb_recording_free(a);
	tb_recording_free(b);
	tb_recording_free(c);
	tb_recording_free(m1);
	tb_recording_free(m2);
	tb_recording_free(all);
}

/* The ceiling's refusals and the file bounds: written, read back, merged. */
static void test_denied_and_file_bounds(void **state)
{
	struct tb_recording *r = sample("w1", false), *back = NULL, *m = NULL;
	struct tb_diag d;
	char path[64];
	size_t before;

	(void)state;
	assert_int_equal(tb_recording_add_denied(r, "x86_64", "keyctl", 2), 0);
	assert_int_equal(tb_recording_add_denied(r, "i386", "keyctl", 1), 0);
	assert_int_equal(tb_recording_add_denied(r, "x86_64", "io_uring_setup", 1), 0);
	assert_int_equal(tb_recording_add_denied(r, "x86_64", "keyctl", 1), 0);
	assert_int_equal(r->n_denied, 3);
	assert_string_equal(r->denied[0].arch, "i386");
	assert_string_equal(r->denied[1].name, "io_uring_setup");
	assert_int_equal(r->denied[2].count, 3);
	/* Past TB_REC_MAX_FILES a new path is counted, a known one still gets its operations. */
	before = r->n_files;
	for (unsigned i = 0; r->n_files < TB_REC_MAX_FILES; i++) {
		snprintf(path, sizeof(path), "/flood/%u", i);
		assert_int_equal(tb_recording_add_file(r, path, TB_FOP_STAT, false), 0);
	}
	assert_true(before < r->n_files);
	assert_int_equal(tb_recording_add_file(r, "/flood/new", TB_FOP_STAT, false), 0);
	assert_null(tb_recording_file(r, "/flood/new"));
	assert_int_equal(r->lost.files, 1);
	assert_int_equal(tb_recording_add_file(r, "/flood/0", TB_FOP_READ, true), 0);
	assert_int_equal(tb_recording_file(r, "/flood/0")->ok, TB_FOP_READ);
	assert_false(tb_recording_file_fits(r, "/flood/other"));
	assert_true(tb_recording_file_fits(r, "/flood/1"));

	assert_int_equal(tb_recording_save(r, path_in("denied.json")), 0);
	assert_int_equal(tb_recording_load(path_in("denied.json"), &back, &d), 0);
	assert_int_equal(back->n_denied, 3);
	assert_int_equal(back->denied[2].count, 3);
	assert_int_equal(back->lost.files, 1);
	{
		const struct tb_recording *in[] = {r, back};

		assert_int_equal(tb_recording_merge(in, 2, &m), 0);
		assert_int_equal(m->denied[2].count, 6);
		assert_int_equal(m->lost.files, 2); /* the inputs' own: their files are the same set */
	}
	tb_recording_free(r);
	tb_recording_free(back);
	tb_recording_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_denied_and_file_bounds),
	    cmocka_unit_test(test_builders_and_lookups),
	    cmocka_unit_test(test_write_is_deterministic),
	    cmocka_unit_test(test_save_load_roundtrip),
	    cmocka_unit_test(test_load_errors),
	    cmocka_unit_test(test_merge),
	    cmocka_unit_test(test_import_objects),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
