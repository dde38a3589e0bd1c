/* SPDX-License-Identifier: Apache-2.0 */
#include "core/socket-family.h"

#include <stdio.h>
#include <sys/socket.h>

#include "core/util.h"

/* By the libc macros (the AF_* ABI constants), so the numbers cannot drift. */
static const struct {
	int af;
	const char *name;
} families[] = {
	{AF_UNIX, "AF_UNIX"},	    {AF_INET, "AF_INET"},	{AF_INET6, "AF_INET6"},
	{AF_NETLINK, "AF_NETLINK"}, {AF_PACKET, "AF_PACKET"},	{AF_KEY, "AF_KEY"},
	{AF_BLUETOOTH, "AF_BLUETOOTH"}, {AF_ALG, "AF_ALG"},	{AF_VSOCK, "AF_VSOCK"},
	{AF_XDP, "AF_XDP"},	    {AF_CAN, "AF_CAN"},		{AF_TIPC, "AF_TIPC"},
	{AF_RDS, "AF_RDS"},	    {AF_APPLETALK, "AF_APPLETALK"}, {AF_X25, "AF_X25"},
	{AF_AX25, "AF_AX25"},	    {AF_IPX, "AF_IPX"},		{AF_NFC, "AF_NFC"},
	{AF_QIPCRTR, "AF_QIPCRTR"}, {AF_SMC, "AF_SMC"},		{AF_IB, "AF_IB"},
	{AF_MPLS, "AF_MPLS"},	    {AF_LLC, "AF_LLC"},		{AF_KCM, "AF_KCM"},
};

const char *tb_socket_family_name(long long af, char *buf, size_t size)
{
	for (size_t i = 0; i < TB_ARRAY_SIZE(families); i++)
		if (families[i].af == af)
			return families[i].name;
	snprintf(buf, size, "AF_%lld", af);
	return buf;
}
