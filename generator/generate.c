/* SPDX-License-Identifier: Apache-2.0 */
/* tb_generate(): runs the stages (model, then the three emitters) and collects the result. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "generator/internal.h"

void tb_gen_opts_init(struct tb_gen_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->runtimes = TB_GEN_RUNTIME_BIT(TB_GEN_RUNTIME_TIGHTBOX);
	o->args = TB_GEN_ARGS_SAFE;
}

void tb_gen_result_free(struct tb_gen_result *r)
{
	if (!r)
		return;
	free(r->seccomp);
	free(r->apparmor);
	free(r->landlock);
	free(r->profile_name);
	for (size_t i = 0; i < r->n_arches; i++) {
		free(r->arches[i].arch);
		tb_strv_free(r->arches[i].names);
	}
	tb_strv_free(r->groups);
	tb_strv_free(r->workloads);
	tb_strv_free(r->notes);
	memset(r, 0, sizeof(*r));
}

static int ruleset_text(const struct tb_ll_ruleset *rs, char **out)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f)
		return -ENOMEM;
	r = tb_ll_ruleset_write(rs, f);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	return 0;
}

int tb_generate(const struct tb_gen_input *in, size_t n, const struct tb_gen_opts *o,
		struct tb_gen_result *out, struct tb_diag *diag)
{
	struct tb_gen_result res = {0};
	struct tb_ll_ruleset *rs = NULL;
	struct tb_gen_model m;
	int r;

	r = tb_gen_model_build(&m, in, n, o, diag);
	if (r < 0)
		goto out;
	res.profile_name = strdup(m.profile_name);
	if (!res.profile_name) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; m.notes && m.notes[i]; i++)
		if ((r = tb_strv_add(&res.notes, m.notes[i])) < 0)
			goto out;
	for (size_t i = 0; m.workloads && m.workloads[i]; i++)
		if ((r = tb_strv_add(&res.workloads, m.workloads[i])) < 0)
			goto out;
	r = tb_gen_seccomp(&m, &res.seccomp, &res);
	if (r == 0)
		r = tb_gen_apparmor(&m, &res.apparmor);
	if (r == 0)
		r = tb_gen_landlock(&m, &rs);
	if (r == 0)
		r = ruleset_text(rs, &res.landlock);
	if (r < 0 && diag && !diag->message[0])
		tb_diag_set(diag, NULL, 0, 0, NULL, "generating the policies failed: %s",
			    strerror(-r));
out:
	tb_ll_ruleset_free(rs);
	tb_gen_model_clear(&m);
	if (r < 0) {
		tb_gen_result_free(&res);
		return r;
	}
	*out = res;
	return 0;
}
