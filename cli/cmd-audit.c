/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tightbox audit PROFILE.json [--against REC.json]... [--json|--sarif] [--fail-on LEVEL]
 *                [--baseline FILE|none]
 * Exit: 0 no finding at/above --fail-on (default high), 1 findings at/above it, 2 bad input.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/audit.h"
#include "core/fileio.h"
#include "core/profile.h"
#include "core/recording.h"
#include "core/util.h"

#define SARIF_SCHEMA                                                                               \
	"https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

enum fmt { FMT_TEXT, FMT_JSON, FMT_SARIF };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: tightbox audit PROFILE.json [OPTIONS]\n\n"
		"Lint a Docker/OCI seccomp profile and predict what it breaks.\n\n"
		"  --against REC.json   also report what these recordings use that the profile denies\n"
		"                       (repeatable)\n"
		"  --json               print the findings as JSON\n"
		"  --sarif              print the findings as SARIF 2.1.0\n"
		"  --fail-on LEVEL      exit 1 when a finding is at or above LEVEL: info, low, medium,\n"
		"                       high (default high)\n"
		"  --baseline FILE      compare the allowed count with this profile (default: Docker's\n"
		"                       default, installed as baseline/docker-default.json beside the\n"
		"                       profiles; 'none' to skip)\n\n"
		"Exit codes: 0 no finding at/above --fail-on, 1 findings, 2 bad input.\n");
}

static int parse_level(const char *s, enum tb_severity *out)
{
	for (int i = TB_SEV_INFO; i <= TB_SEV_HIGH; i++)
		if (!strcmp(s, tb_severity_name((enum tb_severity)i))) {
			*out = (enum tb_severity)i;
			return 0;
		}
	return -EINVAL;
}

static const char *sarif_level(enum tb_severity s)
{
	return s == TB_SEV_HIGH ? "error" : s == TB_SEV_MEDIUM ? "warning" : "note";
}

static void print_text(const char *path, const struct tb_audit_report *rep)
{
	const struct tb_audit_summary *s = &rep->summary;

	for (size_t i = 0; i < rep->n_findings; i++) {
		const struct tb_finding *f = &rep->findings[i];

		printf("%s: %s %s", path, tb_severity_name(f->severity), f->rule);
		if (f->subject[0])
			printf(" %s", f->subject);
		printf(": %s\n", f->message);
		if (f->fix[0])
			printf("    fix: %s\n", f->fix);
	}
	printf("%s: summary: %zu finding%s; %s: %zu syscalls allowed (%zu only with argument rules), "
	       "%zu dangerous allowed",
	       path, rep->n_findings, rep->n_findings == 1 ? "" : "s", s->arch, s->allowed,
	       s->conditional, s->dangerous_allowed);
	if (s->baseline_allowed >= 0)
		printf("; Docker's default allows %ld", s->baseline_allowed);
	printf("\n");
}

static json_t *finding_json(const struct tb_finding *f)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "severity",
			      tb_severity_name(f->severity), "rule", f->rule, "subject", f->subject,
			      "arch", f->arch, "message", f->message, "fix", f->fix);

	if (o && f->rule_index >= 0)
		json_object_set_new(o, "rule_index", json_integer(f->rule_index));
	return o;
}

static json_t *report_json(const char *path, const struct tb_audit_report *rep)
{
	const struct tb_audit_summary *s = &rep->summary;
	json_t *root, *arr = json_array();

	for (size_t i = 0; arr && i < rep->n_findings; i++)
		json_array_append_new(arr, finding_json(&rep->findings[i]));
	root = json_pack("{s:s, s:o, s:{s:s, s:I, s:I, s:I, s:I}}", "profile", path, "findings", arr,
			 "summary", "arch", s->arch, "allowed", (json_int_t)s->allowed,
			 "conditional", (json_int_t)s->conditional, "dangerous_allowed",
			 (json_int_t)s->dangerous_allowed, "findings", (json_int_t)rep->n_findings);
	if (root && s->baseline_allowed >= 0)
		json_object_set_new(json_object_get(root, "summary"), "baseline_allowed",
				    json_integer(s->baseline_allowed));
	return root;
}

static json_t *report_sarif(const char *path, const struct tb_audit_report *rep)
{
	json_t *rules = json_array(), *results = json_array(), *seen = json_object();

	if (!rules || !results || !seen)
		goto fail;
	for (size_t i = 0; i < rep->n_findings; i++) {
		const struct tb_finding *f = &rep->findings[i];
		const char *desc = tb_audit_rule_description(f->rule);
		char text[2400];
		json_t *res;

		if (!json_object_get(seen, f->rule)) {
			json_object_set_new(seen, f->rule, json_true());
			json_array_append_new(
				rules, json_pack("{s:s, s:{s:s}, s:{s:s}}", "id", f->rule,
						 "shortDescription", "text", desc ? desc : f->rule,
						 "defaultConfiguration", "level",
						 sarif_level(f->severity)));
		}
		snprintf(text, sizeof(text), "%s%s%s", f->message, f->fix[0] ? " Fix: " : "",
			 f->fix);
		res = json_pack("{s:s, s:s, s:{s:s}, s:[{s:{s:{s:s}}}], s:{s:s, s:s, s:s}}", "ruleId",
				f->rule, "level", sarif_level(f->severity), "message", "text", text,
				"locations", "physicalLocation", "artifactLocation", "uri", path,
				"properties", "severity", tb_severity_name(f->severity), "subject",
				f->subject, "arch", f->arch);
		if (res && f->rule_index >= 0)
			json_object_set_new(json_object_get(res, "properties"), "ruleIndex",
					    json_integer(f->rule_index));
		json_array_append_new(results, res);
	}
	json_decref(seen);
	return json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:o}]}", "version", "2.1.0",
			 "$schema", SARIF_SCHEMA, "runs", "tool", "driver", "name", "tightbox",
			 "version", TB_VERSION, "informationUri", "https://github.com/tightbox",
			 "rules", rules, "results", results);
fail:
	json_decref(rules);
	json_decref(results);
	json_decref(seen);
	return NULL;
}

/* Docker's default profile, installed with tightbox's own profiles. */
static const char *default_baseline(void)
{
	static char path[4096];

	return tb_data_path("baseline/docker-default.json", path, sizeof(path)) == 0 ? path : NULL;
}

int tb_cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{"against", required_argument, NULL, 'a'}, {"json", no_argument, NULL, 'j'},
		{"sarif", no_argument, NULL, 's'},	   {"fail-on", required_argument, NULL, 'f'},
		{"baseline", required_argument, NULL, 'b'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *against[64], *baseline_path = NULL, *path;
	struct tb_recording *recs[64] = {0};
	struct tb_profile *p = NULL, *baseline = NULL;
	struct tb_audit_report *rep = NULL;
	enum tb_severity fail_on = TB_SEV_HIGH;
	bool baseline_none = false;
	enum fmt fmt = FMT_TEXT;
	size_t n_against = 0;
	struct tb_diag d;
	int c, r, ret = 2;
	void *ctx = NULL;

	optind = 1;
	opterr = 0; /* tb_cli_print_bad_option says why, with a "did you mean" */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (n_against == TB_ARRAY_SIZE(against)) {
				fprintf(stderr, "tightbox audit: --against: at most %zu recordings\n",
					TB_ARRAY_SIZE(against));
				return 2;
			}
			against[n_against++] = optarg;
			break;
		case 'j':
			fmt = FMT_JSON;
			break;
		case 's':
			fmt = FMT_SARIF;
			break;
		case 'f':
			if (parse_level(optarg, &fail_on) < 0) {
				fprintf(stderr,
					"tightbox audit: --fail-on: unknown level '%s' (info, low, "
					"medium, high)\n",
					optarg);
				return 2;
			}
			break;
		case 'b':
			if (!strcmp(optarg, "none"))
				baseline_none = true;
			else
				baseline_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			tb_cli_print_bad_option("tightbox audit", argv, optind, opts);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "tightbox audit: expected exactly one PROFILE.json\n");
		usage(stderr);
		return 2;
	}
	path = argv[optind];

	tb_diag_clear(&d);
	r = tb_profile_load(path, &p, &d);
	if (r < 0) {
		tb_cli_print_diag("tightbox audit", &d);
		goto out;
	}
	/* A profile libseccomp cannot build would fail every run: bad input, not a finding. */
	r = tb_profile_compile(p, NULL, &ctx, &d);
	if (r < 0) {
		tb_cli_print_diag("tightbox audit", &d);
		goto out;
	}
	if (!baseline_none && !baseline_path)
		baseline_path = default_baseline();
	if (!baseline_none && baseline_path) {
		r = tb_profile_load(baseline_path, &baseline, &d);
		if (r < 0) {
			tb_cli_print_diag("tightbox audit", &d);
			goto out;
		}
	}
	for (size_t i = 0; i < n_against; i++) {
		r = tb_recording_load(against[i], &recs[i], &d);
		if (r < 0) {
			tb_cli_print_diag("tightbox audit", &d);
			goto out;
		}
	}

	{
		struct tb_audit_opts ao = {
			.recordings = (const struct tb_recording *const *)recs,
			.recording_names = against,
			.n_recordings = n_against,
			.baseline = baseline,
		};

		r = tb_audit_run(p, &ao, &rep);
	}
	if (r < 0) {
		fprintf(stderr, "tightbox audit: %s: %s\n", path, strerror(-r));
		goto out;
	}

	if (fmt == FMT_TEXT) {
		print_text(path, rep);
	} else {
		json_t *j = fmt == FMT_JSON ? report_json(path, rep) : report_sarif(path, rep);

		if (!j || json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) < 0) {
			json_decref(j);
			fprintf(stderr, "tightbox audit: out of memory\n");
			goto out;
		}
		json_decref(j);
		printf("\n");
	}
	ret = 0;
	for (size_t i = 0; i < rep->n_findings; i++)
		if (rep->findings[i].severity >= fail_on)
			ret = 1;
out:
	tb_audit_report_free(rep);
	tb_profile_ctx_free(ctx);
	tb_profile_free(p);
	tb_profile_free(baseline);
	for (size_t i = 0; i < n_against; i++)
		tb_recording_free(recs[i]);
	return ret;
}
