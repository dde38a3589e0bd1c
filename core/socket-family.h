/* SPDX-License-Identifier: Apache-2.0 */
/* Socket domain names as recordings spell them ("AF_INET"), shared by both recorder backends. */
#ifndef TB_SOCKET_FAMILY_H
#define TB_SOCKET_FAMILY_H

#include <stddef.h>

/* The AF_* name of @af, or "AF_<n>" written into @buf (of @size bytes) when it has none. */
const char *tb_socket_family_name(long long af, char *buf, size_t size);

#endif
