/* SPDX-License-Identifier: Apache-2.0 */
/* Built instead of apparmor.c when libapparmor is not available at build time. */
#include "apparmor/apparmor.h"

#include <errno.h>
#include <stdio.h>

bool tb_apparmor_enabled(char *why, size_t why_len)
{
	if (why)
		snprintf(why, why_len, "tightbox was built without libapparmor");
	return false;
}

int tb_apparmor_change_onexec(const char *profile)
{
	(void)profile;
	errno = ENOSYS;
	return -1;
}
