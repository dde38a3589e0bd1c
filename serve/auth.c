/* SPDX-License-Identifier: Apache-2.0 */
/* Constant-time token comparison. */
#include "serve/auth.h"

bool tb_serve_token_equal(const char *expected, size_t expected_len, const char *given, size_t given_len)
{
	volatile unsigned char diff = expected_len != given_len;

	/* Every byte of @expected is compared whatever matched before; @given is read modulo its
	 * length, so a short guess costs the same time as a full one. */
	for (size_t i = 0; i < expected_len; i++)
		diff |= (unsigned char)expected[i] ^ (given_len ? (unsigned char)given[i % given_len] : 0);
	return expected_len > 0 && diff == 0;
}
