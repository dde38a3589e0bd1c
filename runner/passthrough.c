/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Passthrough of the sandbox's output to tightbox's own stdout/stderr, optionally with terminal
 * control sequences made visible. Untrusted output written raw to a terminal can move the cursor,
 * rewrite earlier lines, set the window title, or (on some terminals) answer queries by typing
 * into the caller's shell. Escaped, every C0 control except tab and newline, DEL, and every C1
 * control (as UTF-8 "\xc2\x80".."\xc2\x9f" or as a raw 8-bit byte) is written as the text \xNN.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "runner/internal.h"

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* the caller's terminal went away: the capture goes on */
		p += w;
		n -= (size_t)w;
	}
}

static bool is_c0_or_del(unsigned char ch)
{
	return (ch < 0x20 && ch != '\t' && ch != '\n') || ch == 0x7f;
}

/* Continuation bytes that follow the UTF-8 lead byte @ch (0 for ASCII and invalid leads). */
static unsigned utf8_continuations(unsigned char ch)
{
	return ch >= 0xc3 && ch <= 0xdf ? 1 : ch >= 0xe0 && ch <= 0xef ? 2 : ch >= 0xf0 && ch <= 0xf4 ? 3 : 0;
}

/* Appends the escaped or raw form of @ch to @out; returns the bytes written. */
static size_t put_byte(struct tb_capture *cap, unsigned char ch, char *out)
{
	if (cap->held) { /* a c2 lead: c2 80..c2 9f are the C1 controls */
		cap->held = 0;
		if (ch >= 0x80 && ch <= 0x9f)
			return (size_t)snprintf(out, 9, "\\xc2\\x%02x", ch);
		out[0] = (char)0xc2;
		if (ch >= 0xa0 && ch <= 0xbf) {
			out[1] = (char)ch;
			return 2;
		}
		return 1 + put_byte(cap, ch, out + 1);
	}
	if (cap->utf8_left && ch >= 0x80 && ch <= 0xbf) {
		cap->utf8_left--;
		out[0] = (char)ch;
		return 1;
	}
	cap->utf8_left = utf8_continuations(ch);
	if (ch == 0xc2) {
		cap->held = 1; /* decided by the next byte, maybe in the next chunk */
		return 0;
	}
	/* C0 and DEL; a stray 0x80..0x9f is C1 to an 8-bit terminal (0x9b is CSI). */
	if (is_c0_or_del(ch) || (ch >= 0x80 && ch <= 0x9f))
		return (size_t)snprintf(out, 5, "\\x%02x", ch);
	out[0] = (char)ch;
	return 1;
}

void tb_passthrough_write(struct tb_capture *cap, const char *buf, size_t n, bool eof)
{
	char out[4096 + 32];
	size_t o = 0;

	if (!cap->escape) {
		write_all(cap->pass_fd, buf, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		o += put_byte(cap, (unsigned char)buf[i], out + o);
		if (o >= sizeof(out) - 32) {
			write_all(cap->pass_fd, out, o);
			o = 0;
		}
	}
	if (eof && cap->held) {
		cap->held = 0;
		out[o++] = (char)0xc2;
	}
	write_all(cap->pass_fd, out, o);
}
