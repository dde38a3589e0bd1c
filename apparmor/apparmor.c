/* SPDX-License-Identifier: Apache-2.0 */
#include "apparmor/apparmor.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/apparmor.h>

bool tb_apparmor_enabled(char *why, size_t why_len)
{
	if (aa_is_enabled() == 1)
		return true;
	if (why)
		snprintf(why, why_len, "AppArmor is not enabled in this kernel (%s)", strerror(errno));
	return false;
}

int tb_apparmor_change_onexec(const char *profile)
{
	return aa_change_onexec(profile);
}
