/* SPDX-License-Identifier: Apache-2.0 */
/* Python context: the bootstrap's command line and the tracer's side of its channel (pyctx.h). */
#include "tracer/pyctx.h"

#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/uio.h>

#include "core/strv.h"
#include "core/util.h"
#include "runner/run.h"

/* ---- the channel -------------------------------------------------------------------------- */

bool tb_pyctx_is_marker(const struct tb_sv_call *c)
{
	static int write_nr = -2;

	if (write_nr == -2)
		write_nr = seccomp_syscall_resolve_name("write");
	/* Native arch only: the bootstrap runs in the interpreter the tracer started. */
	return c->arch == 0 && (int)c->nr == write_nr && (uint32_t)c->args[0] == TB_PYCTX_FD;
}

void tb_pyctx_on_marker(struct tb_pyctx_task *t, const struct tb_sv_call *c)
{
	if (c->args[2] != TB_PYCTX_BUF)
		return; /* not the bootstrap's: ignore */
	t->addr = c->args[1];
	tb_pyctx_free(TB_TAKE_PTR(t->snapshot));
}

static int parse(const char *text, size_t len, struct tb_pyctx **out)
{
	struct tb_pyctx *p = calloc(1, sizeof(*p));
	_cleanup_free_ char *copy = strndup(text, len);
	char *line;
	int idx = 0, r = 0;

	if (!p || !copy) {
		free(p);
		return -ENOMEM;
	}
	/* strtok_r would merge empty lines: split by hand. */
	line = copy;
	while (line && r == 0) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (idx == 0)
			snprintf(p->phase, sizeof(p->phase), "%s", line);
		else if (idx == 1 && *line)
			r = (p->frame = strdup(line)) ? 0 : -ENOMEM;
		else if (idx == 2 && *line)
			r = (p->frame_from = strdup(line)) ? 0 : -ENOMEM;
		else if (idx > 2)
			r = tb_strv_add(&p->chain, line);
		idx++;
		line = nl ? nl + 1 : NULL;
	}
	if (r < 0 || (strcmp(p->phase, "start-up") && strcmp(p->phase, "import") &&
		      strcmp(p->phase, "user"))) {
		tb_pyctx_free(p);
		return r < 0 ? r : -EBADMSG;
	}
	*out = p;
	return 0;
}

static struct tb_pyctx *dup_ctx(const struct tb_pyctx *s)
{
	struct tb_pyctx *p = calloc(1, sizeof(*p));
	int r = 0;

	if (!p)
		return NULL;
	memcpy(p->phase, s->phase, sizeof(p->phase));
	p->frame = s->frame ? strdup(s->frame) : NULL;
	p->frame_from = s->frame_from ? strdup(s->frame_from) : NULL;
	p->inherited = s->inherited;
	for (size_t i = 0; s->chain && s->chain[i] && r == 0; i++)
		r = tb_strv_add(&p->chain, s->chain[i]);
	if (r < 0 || (s->frame && !p->frame) || (s->frame_from && !p->frame_from)) {
		tb_pyctx_free(p);
		return NULL;
	}
	return p;
}

int tb_pyctx_read(pid_t pid, const struct tb_pyctx_task *t, struct tb_pyctx **out)
{
	char buf[TB_PYCTX_BUF];
	struct iovec local = {buf, sizeof(buf)}, remote;
	uint32_t len;
	ssize_t n;

	if (!t->addr) {
		if (!t->snapshot)
			return -ENODATA;
		*out = dup_ctx(t->snapshot);
		return *out ? 0 : -ENOMEM;
	}
	remote = (struct iovec){(void *)(uintptr_t)t->addr, sizeof(buf)};
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return tb_negerrno();
	if (n < 8 || memcmp(buf, "TBPC", 4))
		return -EBADMSG;
	memcpy(&len, buf + 4, sizeof(len));
	if (len > (size_t)n - 8)
		return -EBADMSG;
	return parse(buf + 8, len, out);
}

void tb_pyctx_on_fork(pid_t parent, const struct tb_pyctx_task *pt, bool thread,
		      struct tb_pyctx_task *ct)
{
	struct tb_pyctx *now = NULL;

	tb_pyctx_task_clear(ct);
	if (!thread) {
		/* The child's memory is a copy (or, after vfork, the parent's): same address. */
		ct->addr = pt->addr;
		ct->snapshot = pt->snapshot ? dup_ctx(pt->snapshot) : NULL;
		return;
	}
	if (tb_pyctx_read(parent, pt, &now) == 0 && now) {
		now->inherited = true;
		ct->snapshot = now;
	}
}

const char *tb_pyctx_top_import(const struct tb_pyctx *p, char *buf, size_t size)
{
	const char *s, *name;

	if (!p || !p->chain || !p->chain[0])
		return NULL;
	s = strstr(p->chain[0], "import ");
	if (!s)
		return NULL;
	name = s + 7;
	snprintf(buf, size, "%.*s", (int)strcspn(name, ". "), name);
	return buf;
}

json_t *tb_pyctx_json(const struct tb_pyctx *p)
{
	json_t *chain = json_array();
	const char *colon = p->frame ? strrchr(p->frame, ':') : NULL;
	json_t *frame = json_null();

	if (!chain)
		return NULL;
	for (size_t i = 0; p->chain && p->chain[i]; i++)
		json_array_append_new(chain, json_string(p->chain[i]));
	if (colon)
		frame = json_pack("{s:s%,s:i,s:o}", "file", p->frame, (size_t)(colon - p->frame),
				  "line", (int)strtol(colon + 1, NULL, 10), "from",
				  p->frame_from ? json_string(p->frame_from) : json_null());
	return json_pack("{s:s,s:o,s:o,s:b}", "phase", p->phase, "user_frame",
			 frame ? frame : json_null(),
			 "import_chain", chain, "inherited", p->inherited);
}

void tb_pyctx_free(struct tb_pyctx *p)
{
	if (!p)
		return;
	free(p->frame);
	free(p->frame_from);
	tb_strv_free(p->chain);
	free(p);
}

void tb_pyctx_task_clear(struct tb_pyctx_task *t)
{
	tb_pyctx_free(TB_TAKE_PTR(t->snapshot));
	t->addr = 0;
}
