/* SPDX-License-Identifier: Apache-2.0 */
/* The bearer-token check of `tightbox serve`. */
#ifndef TB_SERVE_AUTH_H
#define TB_SERVE_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Compares @given (@given_len bytes) with @expected in time that depends only on the length of
 * @expected, never on where the first difference is. true when equal (an empty @expected never
 * matches).
 */
bool tb_serve_token_equal(const char *expected, size_t expected_len, const char *given, size_t given_len);

#endif
