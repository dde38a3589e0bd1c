/* SPDX-License-Identifier: Apache-2.0 */
/* The run result: JSON form, docker-compatible exit status, destructor. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "runner/internal.h"
#include "runner/run.h"

void tb_run_result_free(struct tb_run_result *r)
{
	if (!r)
		return;
	free(r->out);
	free(r->err);
	free(r->error);
	free(r->warnings);
	for (char **w = r->output_skipped; w && *w; w++)
		free(*w);
	free(r->output_skipped);
	memset(r, 0, sizeof(*r));
}

int tb_run_result_add_warning(struct tb_run_result *res, const struct tb_warning *w)
{
	struct tb_warning *n = realloc(res->warnings, (res->n_warnings + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	n[res->n_warnings++] = *w;
	res->warnings = n;
	return 0;
}

int tb_run_result_warnf(struct tb_run_result *res, enum tb_warning_kind kind, const char *subject,
			const char *fmt, ...)
{
	struct tb_warning w = {.kind = kind};
	va_list ap;

	snprintf(w.subject, sizeof(w.subject), "%s", subject ? subject : "");
	va_start(ap, fmt);
	vsnprintf(w.message, sizeof(w.message), fmt, ap);
	va_end(ap);
	return tb_run_result_add_warning(res, &w);
}

int tb_run_result_exit_status(const struct tb_run_result *r)
{
	if (r->exec_failed)
		return r->exec_errno == ENOENT ? 127 : 126;
	if (r->error)
		return 125;
	if (r->timed_out)
		return 124;
	if (r->signal > 0)
		return 128 + r->signal;
	if (r->exited)
		return r->exit_code;
	return 125;
}

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values beyond U+10FFFF are not UTF-8. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Program output as a JSON string: valid UTF-8 is kept, every invalid byte becomes the four
 * characters "\xNN" (Python's backslashreplace), so the result never carries raw bytes.
 */
/* Bytes as a JSON string: valid UTF-8 kept, invalid bytes written as the text "\xNN". */
static json_t *json_bytes(const char *buf, size_t n)
{
	const unsigned char *s = (const unsigned char *)buf;
	char *tmp = malloc(n * 4 + 1);
	size_t w = 0;
	json_t *j;

	if (!tmp)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_len(s + i, n - i);

		if (l == 0) {
			w += (size_t)snprintf(tmp + w, 5, "\\x%02x", s[i]);
			i++;
			continue;
		}
		memcpy(tmp + w, s + i, l);
		w += l;
		i += l;
	}
	j = json_stringn(tmp, w);
	free(tmp);
	return j;
}

json_t *tb_run_result_to_json(const struct tb_run_result *r)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "stdout", json_bytes(r->out ? r->out : "", r->out_len));
	json_object_set_new(o, "stderr", json_bytes(r->err ? r->err : "", r->err_len));
	json_object_set_new(o, "stdout_truncated", json_boolean(r->out_truncated));
	json_object_set_new(o, "stderr_truncated", json_boolean(r->err_truncated));
	json_object_set_new(o, "stdout_bytes", json_integer((json_int_t)r->out_bytes));
	json_object_set_new(o, "stderr_bytes", json_integer((json_int_t)r->err_bytes));
	json_object_set_new(o, "stdout_omitted", json_integer((json_int_t)r->out_omitted));
	json_object_set_new(o, "stderr_omitted", json_integer((json_int_t)r->err_omitted));
	json_object_set_new(o, "stdin_bytes", json_integer((json_int_t)r->stdin_bytes));
	json_object_set_new(o, "stdin_truncated", json_boolean(r->stdin_truncated));
	json_object_set_new(o, "exit_code", r->exited ? json_integer(r->exit_code) : json_null());
	json_object_set_new(o, "signal", r->signal > 0 ? json_integer(r->signal) : json_null());
	json_object_set_new(o, "timed_out", json_boolean(r->timed_out));
	json_object_set_new(o, "oom_killed", json_boolean(r->oom_killed));
	json_object_set_new(o, "wall_ms", json_integer((json_int_t)r->wall_ms));
	json_object_set_new(o, "cpu_ms", json_integer((json_int_t)r->cpu_ms));
	json_object_set_new(o, "max_rss_kib", json_integer((json_int_t)r->max_rss_kib));
	json_object_set_new(o, "error", r->error ? json_string(r->error) : json_null());
	if (r->has_output) {
		json_t *sk = json_array();

		for (char **w = r->output_skipped; w && *w; w++)
			json_array_append_new(sk, json_string(*w));
		json_object_set_new(o, "output", json_pack("{sIsIso}", "files", (json_int_t)r->output_files,
							     "bytes", (json_int_t)r->output_bytes, "skipped", sk));
	} else {
		json_object_set_new(o, "output", json_null());
	}
	return o;
}

int tb_run_result_write_json(const struct tb_run_result *r, int fd)
{
	json_t *o = tb_run_result_to_json(r);
	int ret;

	if (!o)
		return -ENOMEM;
	ret = json_dumpfd(o, fd, JSON_COMPACT | JSON_ENSURE_ASCII) == 0 ? 0 : -EIO;
	json_decref(o);
	if (ret == 0 && write(fd, "\n", 1) != 1)
		ret = tb_negerrno();
	return ret;
}
