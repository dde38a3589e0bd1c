/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `generate --phases`: the phase-2 profile of a two-phase run (runner/two-phase.c), made from the
 * seccomp profile generated from the user-phase recordings (`record --phase user`). That profile
 * already lacks what the user phase never did; this stage also takes away, unless the user-phase
 * recordings show them:
 * - execve and execveat (the tightbox runtime prelude adds execve for the runner's own exec, which
 *   phase 2 never sees);
 * - filter installation: seccomp(2) (which the generator allows only with `--allow-risky seccomp`
 *   anyway) and prctl(PR_SET_SECCOMP): prctl stays for its other options. Filters only stack,
 *   but a filter of the user's own can answer for the kernel (SECCOMP_RET_USER_NOTIF, TRACE);
 * - anonymous executable memory: mmap only without PROT_EXEC or without MAP_ANONYMOUS (the
 *   recordings keep mmap's prot but not its flags, so this rule always applies: file-backed
 *   PROT_EXEC mappings, which is how the loader maps extension modules, stay allowed),
 *   mprotect/pkey_mprotect only without PROT_EXEC unless a recorded call added PROT_EXEC, and
 *   shmat only without SHM_EXEC (its flags are not recorded either).
 * New sockets need nothing here: socket is allowed only for the families the user phase used.
 * Rules that already compare arguments (--args strict) are left as they are: they allow only
 * recorded values.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <linux/prctl.h>
#include <sys/mman.h>
#include <sys/shm.h>

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

/* A recorded call of @name whose argument @key had (value & @mask) == @want. */
static bool recorded_arg(const struct tb_gen_input *in, size_t n, const char *name, const char *key,
			 uint64_t mask, uint64_t want)
{
	for (size_t i = 0; i < n; i++)
		for (size_t a = 0; a < in[i].rec->n_arches; a++) {
			const struct tb_rec_args *ra =
			    tb_recording_args(in[i].rec, in[i].rec->arches[a].name, name);

			for (size_t v = 0; ra && v < ra->n_vals; v++)
				for (size_t k = 0; k < ra->vals[v].n; k++)
					if (!strcmp(ra->vals[v].keys[k], key) &&
					    (ra->vals[v].values[k] & mask) == want)
						return true;
		}
	return false;
}

static json_t *cmp(unsigned index, const char *op, uint64_t value, uint64_t two)
{
	return json_pack("{s:I,s:s,s:I,s:I}", "index", (json_int_t)index, "op", op, "value",
			 (json_int_t)value, "valueTwo", (json_int_t)two);
}

static json_t *masked_zero(unsigned index, uint64_t mask)
{
	return cmp(index, "SCMP_CMP_MASKED_EQ", mask, 0);
}

static int add_rule(json_t *rules, const char *names, const char *comment, json_t *args)
{
	json_t *r = json_pack("{s:s,s:s,s:o,s:o}", "action", "SCMP_ACT_ALLOW", "comment", comment,
			      "args", args, "names", json_pack("[s]", names));

	if (!r || json_array_append_new(rules, r) < 0)
		return -ENOMEM;
	return 0;
}

/* Names phase 2 allows only for some arguments: an unconditional allow rule of @name becomes
 * one rule per row (rows of one name are alternatives), unless a user-phase recording made a
 * call with (@keep_key & @keep_mask) == @keep_want (no @keep_key: the arguments that matter are
 * not recorded, so the rule always applies). */
static const struct narrow {
	const char *name;
	unsigned index; /* the argument compared */
	bool ne;	/* a[index] != value; else (a[index] & value) == 0 */
	uint64_t value;
	const char *keep_key;
	uint64_t keep_mask, keep_want;
	const char *comment;
} narrows[] = {
    {"mmap", 2, false, PROT_EXEC, NULL, 0, 0,
     "phase 2: mmap without PROT_EXEC (no anonymous executable memory: stops shellcode)"},
    {"mmap", 3, false, MAP_ANONYMOUS, NULL, 0, 0,
     "phase 2: mmap of a file (PROT_EXEC allowed: the loader maps extension modules so)"},
    {"mprotect", 2, false, PROT_EXEC, "a2", PROT_EXEC, PROT_EXEC,
     "phase 2: without PROT_EXEC (no memory made executable)"},
    {"pkey_mprotect", 2, false, PROT_EXEC, "a2", PROT_EXEC, PROT_EXEC,
     "phase 2: without PROT_EXEC (no memory made executable)"},
    {"shmat", 2, false, SHM_EXEC, NULL, 0, 0,
     "phase 2: shmat without SHM_EXEC (no executable shared memory)"},
    {"prctl", 0, true, PR_SET_SECCOMP, "a0", UINT64_MAX, PR_SET_SECCOMP,
     "phase 2: prctl but PR_SET_SECCOMP (no filter of the user's own)"},
};

int tb_gen_phase2(const char *seccomp, const struct tb_gen_input *user, size_t n, char **out,
		  char ***allowed)
{
	/* Never in phase 2 unless a user-phase recording made them. */
	static const char *const unless_recorded[] = {"execve", "execveat", "seccomp"};
	bool keep[TB_ARRAY_SIZE(narrows)], had[TB_ARRAY_SIZE(narrows)] = {false};
	json_t *root = json_loads(seccomp, 0, NULL), *rules, *rule, *names;
	char **list = NULL;
	size_t i, j;
	int r = -ENOMEM;

	if (!root || !(rules = json_object_get(root, "syscalls")) || !json_is_array(rules)) {
		json_decref(root);
		return -EINVAL;
	}
	for (size_t k = 0; k < TB_ARRAY_SIZE(narrows); k++)
		keep[k] = narrows[k].keep_key &&
			  recorded_arg(user, n, narrows[k].name, narrows[k].keep_key,
				       narrows[k].keep_mask, narrows[k].keep_want);
	json_array_foreach(rules, i, rule)
	{
		const char *action = json_string_value(json_object_get(rule, "action"));
		bool conditional = json_array_size(json_object_get(rule, "args")) > 0;

		names = json_object_get(rule, "names");
		if (!action || strcmp(action, "SCMP_ACT_ALLOW") || !json_is_array(names))
			continue;
		for (j = json_array_size(names); j-- > 0;) {
			const char *name = json_string_value(json_array_get(names, j));
			bool drop = false;

			for (size_t k = 0; name && k < TB_ARRAY_SIZE(unless_recorded); k++)
				drop |=
				    !strcmp(name, unless_recorded[k]) && !recorded(user, n, name);
			for (size_t k = 0; name && !conditional && k < TB_ARRAY_SIZE(narrows); k++)
				if (!strcmp(name, narrows[k].name) && !keep[k])
					had[k] = drop = true;
			if (drop)
				json_array_remove(names, j);
		}
	}
	/* Rules left without names go (backwards, so that the indexes stay right). */
	for (i = json_array_size(rules); i-- > 0;)
		if (json_is_array(names = json_object_get(json_array_get(rules, i), "names")) &&
		    !json_array_size(names))
			json_array_remove(rules, i);
	for (size_t k = 0; k < TB_ARRAY_SIZE(narrows); k++) {
		const struct narrow *w = &narrows[k];

		if (had[k] &&
		    (r = add_rule(rules, w->name, w->comment,
				  json_pack("[o]", w->ne ? cmp(w->index, "SCMP_CMP_NE", w->value, 0)
							 : masked_zero(w->index, w->value)))) < 0)
			goto out;
	}
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
