/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AppArmor enforcement through libapparmor. Only this folder touches libapparmor; when the build
 * has no libapparmor, apparmor-none.c provides the same functions reporting "unavailable".
 */
#ifndef TB_APPARMOR_H
#define TB_APPARMOR_H

#include <stdbool.h>
#include <stddef.h>

/* true when the running kernel enforces AppArmor (securityfs says so). @why gets the reason
 * when it does not. */
bool tb_apparmor_enabled(char *why, size_t why_len);
/* Asks the kernel to confine the next execve with @profile. 0 or -1 with errno set. */
int tb_apparmor_change_onexec(const char *profile);

#endif
