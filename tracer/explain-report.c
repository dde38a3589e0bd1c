/* SPDX-License-Identifier: Apache-2.0 */
/* The explain report as JSON (docs/explain.md) and as text, and the run result with it. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "core/profile.h"
#include "core/util.h"
#include "tracer/explain.h"

static const char *denial_action(uint32_t data)
{
	if (data == TB_TRACE_KILL)
		return "SCMP_ACT_KILL_PROCESS";
	if (data == TB_TRACE_TRAP)
		return "SCMP_ACT_TRAP";
	return "SCMP_ACT_ERRNO";
}

static bool is_errno(uint32_t data)
{
	return data != TB_TRACE_KILL && data != TB_TRACE_TRAP;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *denial_json(const struct tb_explain_denial *dn)
{
	json_t *o, *calls = json_array();

	if (!calls)
		return NULL;
	for (size_t v = 0; v < dn->n_variants; v++) {
		const struct tb_explain_variant *x = &dn->variants[v];
		json_t *raw = json_array();
		for (int a = 0; a < 6 && raw; a++)
			json_array_append_new(raw, json_integer((json_int_t)x->args[a]));
		json_array_append_new(calls, json_pack("{s:s,s:o*,s:I}", "call", x->decoded, "args",
						       raw, "count", (json_int_t)x->count));
	}
	o = json_pack("{s:s,s:s,s:i,s:s,s:I,s:I,s:I,s:i,s:i,s:o,s:o,s:o,s:b,s:b}", "syscall",
		      dn->name, "arch", dn->arch, "nr", dn->nr, "action", denial_action(dn->data),
		      "count", (json_int_t)dn->count, "first_seq", (json_int_t)dn->first_seq,
		      "first_us", (json_int_t)dn->first_us, "pid", (int)dn->nspid, "host_pid",
		      (int)dn->pid, "exe", str_or_null(dn->exe), "comm", str_or_null(dn->comm),
		      "calls", calls, "more_calls", dn->more_variants, "argument_specific",
		      dn->arg_specific);
	if (!o)
		return NULL;
	if (is_errno(dn->data)) {
		const char *en = strerrorname_np((int)dn->data);
		json_object_set_new(o, "errno", json_integer(dn->data));
		json_object_set_new(o, "errno_name", str_or_null(en));
	} else {
		json_object_set_new(o, "errno", json_null());
		json_object_set_new(o, "errno_name", json_null());
	}
	json_object_set_new(o, "ceiling", json_boolean(dn->ceiling));
	if (dn->dangerous)
		json_object_set_new(o, "dangerous",
				    json_pack("{s:s,s:s,s:s}", "severity",
					      tb_severity_name(dn->dangerous->severity), "reason",
					      dn->dangerous->reason, "fix", dn->dangerous->fix));
	else
		json_object_set_new(o, "dangerous", json_null());
	return o;
}

static json_t *apparmor_json(const struct tb_explain_report *r)
{
	json_t *list;

	if (!r->aa_profile)
		return json_null();
	if (!(list = json_array()))
		return NULL;
	for (size_t i = 0; i < r->n_aa_denials; i++) {
		const struct tb_explain_aa_denial *d = &r->aa_denials[i];

		if (json_array_append_new(list, json_pack("{s:s,s:o,s:o,s:o,s:i,s:I}", "operation",
							  d->operation, "name", str_or_null(d->name),
							  "denied_mask", str_or_null(d->denied_mask),
							  "comm", str_or_null(d->comm), "host_pid",
							  (int)d->pid, "count", (json_int_t)d->count)) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return json_pack("{s:s,s:b,s:o,s:b}", "profile", r->aa_profile, "log_readable",
			 !r->aa_log_unreadable, "denials", list, "more", r->aa_more);
}

int tb_explain_report_json(const struct tb_explain_report *r, json_t **out)
{
	json_t *o = NULL, *denials = json_array(), *warnings = json_array(), *sugg = NULL;
	json_t *killed = json_null(), *py = json_null();

	if (!denials || !warnings)
		goto fail;
	for (size_t i = 0; i < r->n_denials; i++) {
		json_t *d = denial_json(&r->denials[i]);
		if (!d || json_array_append_new(denials, d) < 0)
			goto fail;
	}
	for (size_t i = 0; i < r->n_warnings; i++)
		if (json_array_append_new(warnings, json_string(r->warnings[i])) < 0)
			goto fail;
	if (r->suggestion) {
		sugg = json_loads(r->suggestion, 0, NULL);
		if (!sugg)
			goto fail;
	} else {
		sugg = json_array();
	}
	if (r->killed)
		killed = json_pack("{s:i,s:o}", "pid", (int)r->killed_nspid, "syscall",
				   str_or_null(r->killed_by));
	if (r->py_file)
		py = json_pack("{s:s,s:i,s:o,s:o}", "file", r->py_file, "line", r->py_line,
			       "function", str_or_null(r->py_function), "error",
			       str_or_null(r->py_error));
	o = json_pack("{s:o,s:I,s:O,s:O,s:O,s:O,s:O}", "profile", str_or_null(r->profile),
		      "total_denied", (json_int_t)r->total, "denials", denials, "killed", killed,
		      "python", py, "suggestion", sugg, "warnings", warnings);
	if (o) {
		json_t *aa = apparmor_json(r);

		if (!aa || json_object_set_new(o, "apparmor", aa) < 0) {
			json_decref(o);
			o = NULL;
		}
	}
fail:
	json_decref(denials);
	json_decref(warnings);
	json_decref(sugg);
	json_decref(killed);
	json_decref(py);
	if (!o)
		return -ENOMEM;
	*out = o;
	return 0;
}

static void put_action(FILE *f, uint32_t data)
{
	if (data == TB_TRACE_KILL)
		fputs("killed the process (SCMP_ACT_KILL_PROCESS)", f);
	else if (data == TB_TRACE_TRAP)
		fputs("SIGSYS (SCMP_ACT_TRAP)", f);
	else
		fprintf(f, "errno %u %s", data, strerrorname_np((int)data) ?: "");
}

int tb_explain_report_format(const struct tb_explain_report *r, char **text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	fprintf(f, "tightbox explain: profile %s\n", r->profile ? r->profile : "(none)");
	if (!r->n_denials)
		fprintf(f, "No syscall was denied.\n");
	else
		fprintf(f, "%lu denied call%s, %zu distinct syscall%s (in order of first use):\n",
			r->total, r->total == 1 ? "" : "s", r->n_denials,
			r->n_denials == 1 ? "" : "s");
	for (size_t i = 0; i < r->n_denials; i++) {
		const struct tb_explain_denial *dn = &r->denials[i];

		fprintf(f, "\n  %s", dn->name);
		if (strcmp(dn->arch, "x86_64"))
			fprintf(f, " [%s]", dn->arch);
		fprintf(f, ": ");
		put_action(f, dn->data);
		fprintf(f, ", %lu time%s; first as call #%lu at +%.1f ms by pid %d", dn->count,
			dn->count == 1 ? "" : "s", dn->first_seq, (double)dn->first_us / 1000.0,
			(int)dn->nspid);
		if (dn->comm || dn->exe)
			fprintf(f, " (%s%s%s)", dn->comm ? dn->comm : "", dn->comm && dn->exe ? " " : "",
				dn->exe ? dn->exe : "");
		fputc('\n', f);
		for (size_t v = 0; v < dn->n_variants; v++)
			fprintf(f, "      %s\n", dn->variants[v].decoded);
		if (dn->more_variants)
			fprintf(f, "      ... (more argument combinations)\n");
		if (dn->arg_specific)
			fprintf(f, "      the profile allows %s only with other arguments\n", dn->name);
		if (dn->ceiling)
			fprintf(f, "      refused by tightbox itself, whatever the profile says (see "
				   "docs/explain.md)\n");
		if (dn->dangerous)
			fprintf(f, "      dangerous (%s): %s\n", tb_severity_name(dn->dangerous->severity),
				dn->dangerous->reason);
	}
	if (r->killed)
		fprintf(f, "\nThe profile killed pid %d at its %s call (as KILL_PROCESS does).\n",
			(int)r->killed_nspid, r->killed_by ? r->killed_by : "?");
	if (r->py_file) {
		fprintf(f, "\nPython: %s, line %d", r->py_file, r->py_line);
		if (r->py_function)
			fprintf(f, ", in %s", r->py_function);
		fputc('\n', f);
		if (r->py_error)
			fprintf(f, "  %s\n", r->py_error);
	}
	if (r->aa_profile && r->aa_log_unreadable)
		fprintf(f, "\nAppArmor profile %s: its denials are unknown (the kernel log could not be "
			"read)\n", r->aa_profile);
	else if (r->aa_profile && r->n_aa_denials)
		fprintf(f, "\nAppArmor profile %s denied (from the kernel log):\n", r->aa_profile);
	for (size_t i = 0; i < r->n_aa_denials; i++) {
		const struct tb_explain_aa_denial *d = &r->aa_denials[i];

		fprintf(f, "  %s %s: denied %s, %lu time%s; first by %s (host pid %d)\n", d->operation,
			d->name ? d->name : "", d->denied_mask ? d->denied_mask : "?", d->count,
			d->count == 1 ? "" : "s", d->comm ? d->comm : "?", (int)d->pid);
	}
	if (r->aa_more)
		fprintf(f, "  ... (more distinct AppArmor denials)\n");
	if (r->suggestion)
		fprintf(f, "\nSmallest change: add to \"syscalls\" of the profile:\n%s\n", r->suggestion);
	for (size_t i = 0; i < r->n_warnings; i++)
		fprintf(f, "\nwarning: %s\n", r->warnings[i]);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*text = buf;
	return 0;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return tb_negerrno();
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int tb_explain_result_write_json(const struct tb_run_result *res, const struct tb_explain_report *r,
				 int fd)
{
	_cleanup_close_ int mfd = -1;
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ char *outs = NULL;
	json_t *root = NULL, *ex = NULL;
	json_error_t jerr;
	struct stat st;
	int ret;

	/* Reuse the runner's writer so the run fields stay exactly those of `tightbox run --json`. */
	mfd = memfd_create("tightbox-result", MFD_CLOEXEC);
	if (mfd < 0)
		return tb_negerrno();
	ret = tb_run_result_write_json(res, mfd);
	if (ret < 0)
		return ret;
	if (fstat(mfd, &st) < 0)
		return tb_negerrno();
	text = malloc((size_t)st.st_size + 1);
	if (!text)
		return -ENOMEM;
	if (pread(mfd, text, (size_t)st.st_size, 0) != st.st_size)
		return -EIO;
	root = json_loadb(text, (size_t)st.st_size, 0, &jerr);
	if (!root || !json_is_object(root)) {
		json_decref(root);
		return -EINVAL;
	}
	ret = tb_explain_report_json(r, &ex);
	if (ret < 0)
		goto out;
	ret = -ENOMEM;
	if (json_object_set_new(root, "explain", ex) < 0)
		goto out;
	outs = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	if (!outs)
		goto out;
	ret = write_all(fd, outs, strlen(outs));
	if (ret >= 0)
		ret = write_all(fd, "\n", 1);
out:
	json_decref(root);
	return ret;
}
