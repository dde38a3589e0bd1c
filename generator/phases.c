/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `generate --phases`: the phase-2 profile of a two-phase run (runner/two-phase.c), made from the
 * seccomp profile generated from the user-phase recordings (`record --phase user`). That profile
 * already lacks what the user phase never did; this stage also takes away, unless the user-phase
 * recordings show them:
 * - execve and execveat (the tightbox runtime prelude adds execve for the runner's own exec, which
 *   phase 2 never sees);
 * - seccomp itself (filters only stack, but user code has no business adding any);
 * - anonymous executable memory: mmap only without PROT_EXEC or without MAP_ANONYMOUS (the
 *   recordings keep mmap's prot but not its flags, so this rule always applies: file-backed
 *   PROT_EXEC mappings, which is how the loader maps extension modules, stay allowed), and
 *   mprotect/pkey_mprotect only without PROT_EXEC unless a recorded call added PROT_EXEC.
 * New sockets need nothing here: socket is allowed only for the families the user phase used.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/strv.h"
#include "core/util.h"
#include "generator/generate.h"

static bool recorded(const struct tb_gen_input *in, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		for (size_t a = 0; a < in[i].rec->n_arches; a++)
			if (tb_recording_syscall(in[i].rec, in[i].rec->arches[a].name, name))
				return true;
	return false;
}

/* A recorded call of @name whose a2 (prot) had PROT_EXEC. */
static bool recorded_exec_prot(const struct tb_gen_input *in, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		for (size_t a = 0; a < in[i].rec->n_arches; a++) {
			const struct tb_rec_args *ra =
			    tb_recording_args(in[i].rec, in[i].rec->arches[a].name, name);

			for (size_t v = 0; ra && v < ra->n_vals; v++)
				for (size_t k = 0; k < ra->vals[v].n; k++)
					if (!strcmp(ra->vals[v].keys[k], "a2") &&
					    (ra->vals[v].values[k] & PROT_EXEC))
						return true;
		}
	return false;
}

static json_t *masked_zero(unsigned index, uint64_t mask)
{
	return json_pack("{s:I,s:s,s:I,s:I}", "index", (json_int_t)index, "op",
			 "SCMP_CMP_MASKED_EQ", "value", (json_int_t)mask, "valueTwo",
			 (json_int_t)0);
}

static int add_rule(json_t *rules, const char *names, const char *comment, json_t *args)
{
	json_t *r = json_pack("{s:s,s:s,s:o,s:o}", "action", "SCMP_ACT_ALLOW", "comment", comment,
			      "args", args, "names", json_pack("[s]", names));

	if (!r || json_array_append_new(rules, r) < 0)
		return -ENOMEM;
	return 0;
}

int tb_gen_phase2(const char *seccomp, const struct tb_gen_input *user, size_t n, char **out,
		  char ***allowed)
{
	/* Never in phase 2 unless recorded there (seccomp: never). */
	static const char *const unless_recorded[] = {"execve", "execveat"};
	bool keep_exec_prot[3] = {false, recorded_exec_prot(user, n, "mprotect"),
				  recorded_exec_prot(user, n, "pkey_mprotect")};
	static const char *const mem[] = {"mmap", "mprotect", "pkey_mprotect"};
	bool had_mem[3] = {false, false, false};
	json_t *root = json_loads(seccomp, 0, NULL), *rules, *rule, *names;
	char **list = NULL;
	size_t i, j;
	int r = -ENOMEM;

	if (!root || !(rules = json_object_get(root, "syscalls")) || !json_is_array(rules)) {
		json_decref(root);
		return -EINVAL;
	}
	json_array_foreach(rules, i, rule)
	{
		const char *action = json_string_value(json_object_get(rule, "action"));
		bool conditional = json_array_size(json_object_get(rule, "args")) > 0;

		names = json_object_get(rule, "names");
		if (!action || strcmp(action, "SCMP_ACT_ALLOW") || !json_is_array(names))
			continue;
		for (j = json_array_size(names); j-- > 0;) {
			const char *name = json_string_value(json_array_get(names, j));
			bool drop = name && !strcmp(name, "seccomp");

			for (size_t k = 0; name && k < TB_ARRAY_SIZE(unless_recorded); k++)
				drop |=
				    !strcmp(name, unless_recorded[k]) && !recorded(user, n, name);
			for (size_t k = 0; name && !conditional && k < TB_ARRAY_SIZE(mem); k++)
				if (!strcmp(name, mem[k]) && !keep_exec_prot[k])
					had_mem[k] = drop = true;
			if (drop)
				json_array_remove(names, j);
		}
	}
	/* Rules left without names go (backwards, so that the indexes stay right). */
	for (i = json_array_size(rules); i-- > 0;)
		if (json_is_array(names = json_object_get(json_array_get(rules, i), "names")) &&
		    !json_array_size(names))
			json_array_remove(rules, i);
	if (had_mem[0] && ((r = add_rule(rules, "mmap",
					 "phase 2: mmap without PROT_EXEC (no anonymous executable "
					 "memory: stops shellcode)",
					 json_pack("[o]", masked_zero(2, PROT_EXEC)))) < 0 ||
			   (r = add_rule(rules, "mmap",
					 "phase 2: mmap of a file (PROT_EXEC allowed: the loader "
					 "maps extension modules so)",
					 json_pack("[o]", masked_zero(3, MAP_ANONYMOUS)))) < 0))
		goto out;
	for (size_t k = 1; k < TB_ARRAY_SIZE(mem); k++)
		if (had_mem[k] &&
		    (r = add_rule(rules, mem[k],
				  "phase 2: without PROT_EXEC (no memory made executable)",
				  json_pack("[o]", masked_zero(2, PROT_EXEC)))) < 0)
			goto out;
	/* The names phase 2 allows, with or without argument rules. */
	json_array_foreach(rules, i, rule)
	{
		const char *action = json_string_value(json_object_get(rule, "action"));

		if (!action || strcmp(action, "SCMP_ACT_ALLOW"))
			continue;
		json_array_foreach(json_object_get(rule, "names"), j, names)
		{
			const char *name = json_string_value(names);

			if (name && (r = tb_strv_add_sorted(&list, name)) < 0)
				goto out;
		}
	}
	*out = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	r = *out ? 0 : -ENOMEM;
	if (r == 0)
		*allowed = TB_TAKE_PTR(list);
out:
	tb_strv_free(list);
	json_decref(root);
	return r;
}
