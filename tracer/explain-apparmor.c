/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AppArmor denials for the explain report. With `--security-opt apparmor=NAME` the run is also
 * confined by an AppArmor profile, and what it refuses never reaches the seccomp supervisor: the
 * kernel logs it as an audit record (apparmor="DENIED" ... profile="NAME"). Without auditd those
 * records go to the kernel log, so explain reads /dev/kmsg from the end as the run starts, and
 * after the run keeps the records that name the run's profile (or one of its children, NAME//x).
 * Other sandboxes confined by the same profile at the same moment would be counted too.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "tracer/explain.h"
#include "tracer/internal.h"

/* Late records: kauditd writes them shortly after the denial, so wait this long for more. */
#define AA_GRACE_MS 50
#define AA_MAX_DENIALS 64

int tb_explain_aa_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return tb_negerrno();
	if (lseek(fd, 0, SEEK_END) < 0) {
		int r = tb_negerrno();

		close(fd);
		return r;
	}
	return fd;
}

/* The value of KEY="..." or KEY=word in @rec, malloc'd; NULL when absent or out of memory. */
static char *field(const char *rec, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = strstr(rec, key); p; p = strstr(p + 1, key)) {
		const char *v, *end;

		if ((p != rec && p[-1] != ' ') || p[klen] != '=')
			continue;
		v = p + klen + 1;
		if (*v == '"')
			end = strchr(++v, '"');
		else
			end = v + strcspn(v, " \n");
		return end ? strndup(v, (size_t)(end - v)) : NULL;
	}
	return NULL;
}

static bool same_profile(const char *got, const char *want)
{
	size_t n = strlen(want);

	return got && !strncmp(got, want, n) && (got[n] == '\0' || !strncmp(got + n, "//", 2));
}

static int add_denial(struct tb_explain_report *rep, const char *rec)
{
	_cleanup_free_ char *op = field(rec, "operation"), *name = field(rec, "name");
	_cleanup_free_ char *denied = field(rec, "denied_mask"), *pid = field(rec, "pid");
	struct tb_explain_aa_denial *d;

	if (!op) /* not a record explain can name */
		return 0;
	for (size_t i = 0; i < rep->n_aa_denials; i++) {
		d = &rep->aa_denials[i];
		if (!strcmp(d->operation, op) && !strcmp(d->name ?: "", name ?: "") &&
		    !strcmp(d->denied_mask ?: "", denied ?: "")) {
			d->count++;
			return 0;
		}
	}
	if (rep->n_aa_denials == AA_MAX_DENIALS) {
		rep->aa_more = true;
		return 0;
	}
	d = realloc(rep->aa_denials, (rep->n_aa_denials + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	rep->aa_denials = d;
	d = &d[rep->n_aa_denials++];
	*d = (struct tb_explain_aa_denial){.operation = TB_TAKE_PTR(op), .name = TB_TAKE_PTR(name),
					   .denied_mask = TB_TAKE_PTR(denied), .comm = field(rec, "comm"),
					   .pid = pid ? (pid_t)strtol(pid, NULL, 10) : 0,
					   .count = 1};
	return 0;
}

int tb_explain_aa_collect(int fd, const char *profile, struct tb_explain_report *rep)
{
	char buf[8192];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		_cleanup_free_ char *prof = NULL;
		int r;

		if (n < 0 && errno == EPIPE) /* records overwritten while we read: go on */
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = {.fd = fd, .events = POLLIN};

			if (poll(&pfd, 1, AA_GRACE_MS) > 0)
				continue;
			return 0;
		}
		if (n <= 0)
			return n < 0 ? tb_negerrno() : 0;
		buf[n] = '\0';
		if (!strstr(buf, "apparmor=\"DENIED\""))
			continue;
		prof = field(buf, "profile");
		if (!same_profile(prof, profile))
			continue;
		if ((r = add_denial(rep, buf)) < 0)
			return r;
	}
}

void tb_explain_aa_free(struct tb_explain_report *rep)
{
	for (size_t i = 0; i < rep->n_aa_denials; i++) {
		free(rep->aa_denials[i].operation);
		free(rep->aa_denials[i].name);
		free(rep->aa_denials[i].denied_mask);
		free(rep->aa_denials[i].comm);
	}
	free(rep->aa_denials);
	free(rep->aa_profile);
}
