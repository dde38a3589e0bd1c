/* SPDX-License-Identifier: Apache-2.0 */
/* The explain report as JSON (docs/explain.md) and as text, and the run result with it. */
#include <linux/audit.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/dangerous-args.h"
#include "core/fileio.h"
#include "core/profile.h"
#include "core/strv.h"
#include "core/util.h"
#include "tracer/explain.h"
#include "tracer/internal.h"
#include "tracer/pyctx.h"

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

/* How the task that made a denial ended: {"exit_code": N} or {"signal": N}; null unknown. */
static json_t *task_exit_json(const struct tb_explain_denial *dn)
{
	if (!dn->exit_known)
		return json_null();
	if (WIFEXITED(dn->exit_status))
		return json_pack("{s:i,s:n}", "exit_code", WEXITSTATUS(dn->exit_status), "signal");
	return json_pack("{s:n,s:i}", "exit_code", "signal", WTERMSIG(dn->exit_status));
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
	json_object_set_new(o, "python", dn->py ? tb_pyctx_json(dn->py) : json_null());
	json_object_set_new(o, "task_exit", task_exit_json(dn));
	json_object_set_new(o, "stderr_before_exit", str_or_null(dn->stderr_text));
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

/* The documented "explain" JSON object (docs/explain.md) into *@out (new reference). 0 or -ENOMEM. */
static int report_json(const struct tb_explain_report *r, json_t **out)
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
	o = json_pack("{s:b,s:o,s:o,s:I,s:I,s:O,s:O,s:O,s:O,s:O}", "learn", r->learn, "profile",
		      str_or_null(r->profile), "python_context",
		      r->pyctx_note ? json_pack("{s:b,s:s}", "on", 0, "why_not", r->pyctx_note)
				    : json_pack("{s:b,s:n}", "on", 1, "why_not"),
		      "total_denied", (json_int_t)r->total, "unlisted_denied",
		      (json_int_t)r->unlisted, "denials", denials, "killed", killed,
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

static void put_pyctx(FILE *f, const struct tb_pyctx *p)
{
	_cleanup_free_ char *chain = p->chain ? tb_strv_join(p->chain, " -> ") : NULL;
	const char *phase = !strcmp(p->phase, "user") ? "user code" : p->phase;

	fprintf(f, "      Python: %s%s\n", phase,
		p->inherited ? " (the thread had no context yet: its creator's when it started)" : "");
	if (chain)
		fprintf(f, "        import chain: %s\n", chain);
	if (p->frame && p->frame_from && !strcmp(p->frame_from, "import done"))
		fprintf(f, "        user code: %s (the last audited operation: the import on that line)\n",
			p->frame);
	else if (p->frame && p->frame_from && strcmp(p->frame_from, "import"))
		fprintf(f, "        user code: %s (at its last audited operation, %s)\n", p->frame,
			p->frame_from);
	else if (p->frame)
		fprintf(f, "        user code: %s\n", p->frame);
	else if (!strcmp(p->phase, "user"))
		fprintf(f, "        user code: no frame known (no audited operation of this thread "
			   "yet)\n");
}

/* Whether the task went on after the denial, and how it ended. */
static void put_task_exit(FILE *f, const struct tb_explain_denial *dn)
{
	int st = dn->exit_status;

	if (!dn->exit_known)
		return;
	if (dn->data == TB_TRACE_KILL && !(WIFEXITED(st)))
		return; /* "killed" says it */
	if (WIFEXITED(st) && !WEXITSTATUS(st))
		fprintf(f, "      the program went on: pid %d exited with status 0 later\n",
			(int)dn->nspid);
	else if (WIFEXITED(st))
		fprintf(f, "      pid %d exited with status %d later\n", (int)dn->nspid,
			WEXITSTATUS(st));
	else
		fprintf(f, "      pid %d was killed by signal %d later\n", (int)dn->nspid,
			WTERMSIG(st));
	if (dn->stderr_text) {
		fprintf(f, "      its last words on stderr: \"");
		for (const char *s = dn->stderr_text; *s; s++)
			if (*s == '\n')
				fputs("\\n", f);
			else if (*s == '"' || *s == '\\')
				fprintf(f, "\\%c", *s);
			else if ((unsigned char)*s < 0x20 || *s == 0x7f)
				fprintf(f, "\\x%02x", (unsigned char)*s);
			else
				fputc(*s, f);
		fputs("\"\n", f);
	}
}

int tb_explain_report_format(const struct tb_explain_report *r, char **text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	fprintf(f, "tightbox explain: profile %s\n", r->profile ? r->profile : "(none)");
	if (r->pyctx_note)
		fprintf(f, "Python context: %s\n", r->pyctx_note);
	if (r->learn)
		fprintf(f, "Learn mode: the calls below the profile denies were let run, except those "
			   "tightbox's ceiling refuses (the dangerous set, fileless exec).\n");
	if (!r->n_denials)
		fprintf(f, "No syscall was denied.\n");
	else if (r->unlisted)
		fprintf(f, "%lu denied calls; the first %zu distinct syscalls are listed (in order of "
			   "first use), %lu calls of further ones are not (explain keeps %d):\n",
			r->total, r->n_denials, r->unlisted, TB_EXPLAIN_MAX_DENIALS);
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
		if (dn->py)
			put_pyctx(f, dn->py);
		/* How the task ended: once, after its last listed denial. */
		bool later = false;

		for (size_t k = i + 1; k < r->n_denials && !later; k++)
			later = r->denials[k].pid == dn->pid;
		if (!later)
			put_task_exit(f, dn);
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

int tb_explain_result_write_json(const struct tb_run_result *res, const struct tb_explain_report *r,
				 int fd)
{
	_cleanup_free_ char *outs = NULL;
	/* The runner's object, so the run fields stay exactly those of `tightbox run --json`. */
	json_t *root = tb_run_result_to_json(res), *ex = NULL;
	int ret;

	if (!root)
		return -ENOMEM;
	ret = report_json(r, &ex);
	if (ret < 0)
		goto out;
	ret = -ENOMEM;
	if (json_object_set_new(root, "explain", ex) < 0)
		goto out;
	outs = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	if (!outs)
		goto out;
	ret = tb_write_all(fd, outs, strlen(outs));
	if (ret >= 0)
		ret = tb_write_all(fd, "\n", 1);
out:
	json_decref(root);
	return ret;
}

/* ---- the smallest safe change: which rules explain suggests ----------------------------------- */

int tb_explain_report_warn(struct tb_explain_report *rep, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tb_strv_addfv(&rep->warnings, fmt, ap); /* each warning once */
	va_end(ap);
	rep->n_warnings = tb_strv_len(rep->warnings);
	return r;
}

/* Argument indexes the profile's rules for @name test (bit i = args[i]): its allow rules only
 * (@allow_only), or rules of any action. 0 when it has no argument rule for it. */
static unsigned rule_arg_mask(const struct tb_profile *p, const char *name, bool allow_only)
{
	struct tb_compile_opts o = {0};
	unsigned mask = 0;

	for (size_t i = 0; p && i < p->n_rules; i++) {
		const struct tb_rule *r = &p->rules[i];

		if (allow_only && !tb_action_allows(r->action.kind))
			continue;
		if (!r->n_args || !tb_rule_has_name(r, name) || tb_profile_rule_applies(r, &o) != 1)
			continue;
		for (size_t a = 0; a < r->n_args; a++)
			if (r->args[a].index < 6)
				mask |= 1u << r->args[a].index;
	}
	return mask;
}

static bool profile_has_arch(const struct tb_profile *p, uint32_t audit_arch)
{
	uint32_t tokens[32];
	size_t n = 0;

	if (tb_profile_filter_arches(p, tokens, TB_ARRAY_SIZE(tokens), &n, NULL) < 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (tokens[i] == audit_arch)
			return true;
	return false;
}

/* Why a denial gets no allow rule at all, or NULL when one may be suggested. */
static bool unknown_number(const struct tb_explain_denial *dn)
{
	return seccomp_syscall_resolve_name_arch(dn->audit_arch, dn->name) < 0;
}

static const char *never_suggested(const struct tb_explain_denial *dn)
{
	if (dn->ceiling)
		return "tightbox's ceiling refused it, not the profile: no profile change allows it";
	if (!strcmp(dn->name, "clone3"))
		return "clone3 must keep failing with ENOSYS: glibc then falls back to clone, whose "
		       "flags the filter can check (seccomp cannot read clone3's flags)";
	/* A number libseccomp has no name for cannot be written into a profile (nr_1000). */
	if (unknown_number(dn))
		return "it is not a syscall libseccomp knows on this arch, so no profile rule can "
		       "name it";
	if (dn->dangerous)
		return "it is in the dangerous set";
	return NULL;
}

static json_t *arg_json(unsigned index, uint64_t value, uint64_t value_two, const char *op)
{
	return json_pack("{s:i,s:I,s:I,s:s}", "index", (int)index, "value", (json_int_t)value,
			 "valueTwo", (json_int_t)value_two, "op", op);
}

static int append_unique(json_t *rules, json_t *rule)
{
	size_t i;
	json_t *x;

	if (!rule)
		return -ENOMEM;
	json_array_foreach(rules, i, x) if (json_equal(x, rule))
	{
		json_decref(rule);
		return 0;
	}
	return json_array_append_new(rules, rule) < 0 ? -ENOMEM : 0;
}

/*
 * The allow rule for one denied call whose syscall must stay argument-filtered: clone without
 * namespace flags, ioctl for exactly that request (low 32 bits, as the kernel compares), socket
 * for that family, or, where the profile already filters the syscall's arguments, exactly the
 * values seen on the arguments its rules test. An unconditional allow would replace every
 * conditional rule of the name under libseccomp, EPERM guards included.
 */
static json_t *filtered_rule(const struct tb_explain_denial *dn, const struct tb_explain_variant *v)
{
	json_t *rule = json_pack("{s:[s],s:s,s:[]}", "names", dn->name, "action", "SCMP_ACT_ALLOW",
				 "args");
	json_t *args = rule ? json_object_get(rule, "args") : NULL;

	if (!rule)
		return NULL;
	if (!strcmp(dn->name, "clone"))
		json_array_append_new(args, arg_json(0, TB_CLONE_NS_MASK, 0, "SCMP_CMP_MASKED_EQ"));
	else if (!strcmp(dn->name, "ioctl"))
		json_array_append_new(args, arg_json(1, 0xffffffffu, v->args[1] & 0xffffffffu,
						     "SCMP_CMP_MASKED_EQ"));
	else if (!strcmp(dn->name, "socket"))
		json_array_append_new(args, arg_json(0, v->args[0], 0, "SCMP_CMP_EQ"));
	else
		for (unsigned a = 0; a < 6; a++)
			if (dn->arg_mask & (1u << a))
				json_array_append_new(args,
						      arg_json(a, v->args[a], 0, "SCMP_CMP_EQ"));
	return rule;
}

static int sort_names(json_t *names)
{
	size_t n = json_array_size(names);

	for (size_t a = 1; a < n; a++)
		for (size_t b = a; b > 0; b--) {
			json_t *x = json_array_get(names, b - 1), *y = json_array_get(names, b);

			if (strcmp(json_string_value(x), json_string_value(y)) <= 0)
				break;
			json_incref(x);
			json_array_set(names, b - 1, y);
			json_array_set_new(names, b, x);
		}
	return 0;
}

static int suggest_one(struct tb_explain_report *rep, struct tb_explain_denial *dn, json_t *rules,
		       json_t *names)
{
	const char *no = never_suggested(dn);
	bool filtered = tb_dangerous_arg_syscall(dn->name) || dn->arg_mask;
	bool dup = false;
	int r = 0;

	if (no) {
		if (dn->dangerous && !dn->ceiling)
			return tb_explain_report_warn(rep,
				    "%s was denied: that is the profile doing its job; do not allow it "
				    "(%s). %s",
				    dn->name, dn->dangerous->reason, dn->dangerous->fix);
		return tb_explain_report_warn(rep, "%s was denied; not suggested: %s", dn->name, no);
	}
	if (!filtered) {
		for (size_t k = 0; k < json_array_size(names); k++)
			dup |= !strcmp(json_string_value(json_array_get(names, k)), dn->name);
		if (!dup && json_array_append_new(names, json_string(dn->name)) < 0)
			return -ENOMEM;
		return 0;
	}
	for (size_t v = 0; v < dn->n_variants && r == 0; v++) {
		const struct tb_dangerous_arg *da = tb_dangerous_arg_match(dn->name, dn->variants[v].args);

		if (da)
			r = tb_explain_report_warn(rep, "%s was denied: %s is a dangerous argument value (%s); not suggested",
				 dn->variants[v].decoded, da->name, da->reason);
		else
			r = append_unique(rules, filtered_rule(dn, &dn->variants[v]));
	}
	if (r == 0 && dn->more_variants)
		r = tb_explain_report_warn(rep, "%s was denied with more argument combinations than explain keeps; "
			      "run it again after adding the suggestion", dn->name);
	return r;
}

int tb_explain_suggest(struct tb_explain_report *rep, const struct tb_profile *p)
{
	json_t *rules = json_array(), *names = json_array();
	const struct tb_explain_denial *last_unknown = NULL;
	size_t n_unknown = 0;
	int r = -ENOMEM;

	if (!rules || !names)
		goto out;
	r = 0;
	for (size_t i = 0; i < rep->n_denials && r == 0; i++) {
		struct tb_explain_denial *dn = &rep->denials[i];

		/* The first unknown number gets never_suggested()'s warning, the rest one more. */
		if (!dn->ceiling && unknown_number(dn) && n_unknown++ > 0) {
			last_unknown = dn;
			continue;
		}
		dn->arg_specific = rule_arg_mask(p, dn->name, true) != 0;
		dn->arg_mask = rule_arg_mask(p, dn->name, false);
		r = suggest_one(rep, dn, rules, names);
		if (r == 0 && dn->audit_arch == AUDIT_ARCH_I386)
			r = tb_explain_report_warn(rep,
				 "%s was an i386 call (int 0x80) from %s: 32-bit calls from 64-bit "
				 "programs are a classic filter bypass%s",
				 dn->name, dn->exe ? dn->exe : "the program",
				 p && !profile_has_arch(p, AUDIT_ARCH_I386)
				     ? "; the profile does not list SCMP_ARCH_X86, so the call was "
				       "killed as a foreign arch"
				     : "");
		if (r == 0 && !strcmp(dn->name, "clone3") && dn->data != ENOSYS)
			r = tb_explain_report_warn(rep, "clone3 failed with errno %u: glibc falls back to clone only on "
				      "ENOSYS; deny clone3 with errnoRet 38 instead",
				 dn->data);
	}
	if (r == 0 && n_unknown > 1)
		r = tb_explain_report_warn(rep, "%zu more numbers were denied, up to %s; not suggested: "
					   "none is a syscall libseccomp knows on its arch, so no "
					   "profile rule can name them",
					   n_unknown - 1, last_unknown->name);
	if (r == 0 && rep->unlisted)
		r = tb_explain_report_warn(rep, "%lu more denied calls are not listed: explain keeps the "
					   "first %d distinct denials; run it again after changing "
					   "the profile",
					   rep->unlisted, TB_EXPLAIN_MAX_DENIALS);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	if (json_array_size(names)) {
		json_t *rule;

		sort_names(names);
		rule = json_pack("{s:O,s:s}", "names", names, "action", "SCMP_ACT_ALLOW");
		if (!rule || json_array_insert_new(rules, 0, rule) < 0)
			goto out;
	}
	if (json_array_size(rules)) {
		rep->suggestion = json_dumps(rules, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (!rep->suggestion)
			goto out;
	}
	r = 0;
out:
	json_decref(rules);
	json_decref(names);
	return r;
}

/* The fixed profile: @r's profile with the suggested rules appended to "syscalls". */
static int fixed_profile(const struct tb_explain_report *r, json_t **out, struct tb_diag *d)
{
	json_t *p, *sys, *add = NULL;
	json_error_t jerr;
	size_t i;
	json_t *rule;

	p = json_load_file(r->profile, JSON_REJECT_DUPLICATES, &jerr);
	if (!p || !json_is_object(p)) {
		tb_diag_set(d, r->profile, jerr.line, jerr.column, NULL, "cannot read the profile back: %s",
			    p ? "not a JSON object" : jerr.text);
		json_decref(p);
		return -EINVAL;
	}
	sys = json_object_get(p, "syscalls");
	if (!sys) {
		sys = json_array();
		if (!sys || json_object_set_new(p, "syscalls", sys) < 0)
			goto nomem;
	} else if (!json_is_array(sys)) {
		tb_diag_set(d, r->profile, 0, 0, "syscalls", "not an array");
		json_decref(p);
		return -EINVAL;
	}
	if (r->suggestion) {
		add = json_loads(r->suggestion, 0, NULL);
		if (!add)
			goto nomem;
		json_array_foreach(add, i, rule)
			if (json_array_append(sys, rule) < 0)
				goto nomem;
		json_decref(add);
	}
	*out = p;
	return 0;
nomem:
	json_decref(add);
	json_decref(p);
	return -ENOMEM;
}

static int write_json(FILE *f, const void *data)
{
	if (json_dumpf(data, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 || fputc('\n', f) == EOF)
		return -EIO;
	return 0;
}

int tb_explain_apply(const struct tb_explain_report *r, const char *path, struct tb_diag *d)
{
	json_t *p = NULL;
	int ret;

	if (!r->profile) {
		tb_diag_set(d, NULL, 0, 0, "--apply", "no profile file to apply to (seccomp=unconfined)");
		return -ENODATA;
	}
	ret = fixed_profile(r, &p, d);
	if (ret < 0)
		return ret;
	ret = tb_write_file_atomic(path, 0644, write_json, p);
	json_decref(p);
	if (ret < 0)
		tb_diag_set(d, path, 0, 0, "-o", "cannot write the fixed profile: %s", strerror(-ret));
	return ret;
}
