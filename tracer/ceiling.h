/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ceiling every mode that records or explains keeps (internal to tracer/): the calls no
 * recording, explanation or learn run may let through, whatever profile is (or is not) enforced.
 *
 * - TB_CEILING_DANGEROUS: every name of core/dangerous.c except personality, plus
 *   personality(READ_IMPLIES_EXEC) (other personas are recorded: the generator writes argument
 *   rules from them), clone() with a namespace flag (core/dangerous-args.c, as unshare is
 *   refused), and fileless exec: memfd_create, and execveat(fd, "", AT_EMPTY_PATH).
 *   Without memfd_create a /proc/self/fd/N exec can only name a file on a mount, and every
 *   writable mount of the sandbox is noexec.
 * - TB_CEILING_LISTENER: seccomp(SECCOMP_SET_MODE_FILTER) with SECCOMP_FILTER_FLAG_NEW_LISTENER.
 *   A workload's own SECCOMP_RET_USER_NOTIF outranks SECCOMP_RET_TRACE, and a listener thread
 *   that answers SECCOMP_USER_NOTIF_FLAG_CONTINUE runs the call: every mode whose denials are
 *   TRACE stops (explain, the ptrace recorder's ceiling) must refuse the listener. Without one,
 *   the kernel fails a USER_NOTIF call with ENOSYS (seccomp_do_user_notification), so such a
 *   filter can only deny.
 */
#ifndef TB_TRACER_CEILING_H
#define TB_TRACER_CEILING_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>

enum {
	TB_CEILING_DANGEROUS = 1u << 0,
	TB_CEILING_LISTENER = 1u << 1,
};

/* The errno every ceiling refusal returns. */
#define TB_CEILING_ERRNO 1 /* EPERM */

/*
 * Builds a filter for x86_64, i386 and x32 whose default action is @def and whose ceiling @parts
 * answer @deny (libseccomp action values), exported to @prog (caller frees prog->filter), so that
 * a sandbox child loads it with one seccomp(2) call and no allocation. @more (may be NULL) adds
 * the caller's own rules to the libseccomp context @ctx first (0 or -errno). 0 or -errno.
 */
int tb_ceiling_filter(uint32_t def, uint32_t deny, unsigned parts,
		      int (*more)(void *ctx, void *arg), void *arg, struct sock_fprog *prog);

/* Whether the ceiling @parts refuse @name called with @args (the same table as the filter). */
bool tb_ceiling_refuses(unsigned parts, const char *name, const uint64_t args[6]);

/*
 * Calls @fn for the name of every syscall the ceiling @parts may refuse for some arguments (the
 * same table again; a name may come more than once). Stops at and returns @fn's first negative
 * result; else 0.
 */
int tb_ceiling_each_name(unsigned parts, int (*fn)(const char *name, void *data), void *data);

#endif
