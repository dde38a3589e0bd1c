/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One `POST /v1/run` request: the JSON body read into a struct, its limits clamped to the server's
 * maxima, and the `tightbox run` command line that executes it. Pure (no I/O but what
 * tb_serve_request_stage writes into the per-request directory), unit-tested.
 */
#ifndef TB_SERVE_REQUEST_H
#define TB_SERVE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/diag.h"

struct json_t;

/* The limits a request may ask for. 0 (-1 for pids) means "unlimited" only in a server maximum
 * that was configured so; a request never gets more than the server's maximum. */
struct tb_serve_limits {
	double timeout;       /* seconds */
	uint64_t memory;      /* bytes */
	double cpus;
	int64_t pids_limit;
	uint64_t stdout_limit; /* bytes kept */
	uint64_t stderr_limit;
};

struct tb_serve_file {
	char *name; /* one path component: [A-Za-z0-9._-], not starting with '.' */
	char *data;
	size_t len;
};

#define TB_SERVE_MAX_FILES 64
/* "output": true returns at most this many bytes in at most this many files (--output-max-*). */
#define TB_SERVE_OUTPUT_MAX (1u << 20)
#define TB_SERVE_OUTPUT_MAX_FILES 100u
#define TB_SERVE_MAX_ENV 32

struct tb_serve_request {
	char *code;             /* Python source, run as python3 /sandbox/script.py */
	size_t code_len;
	char *stdin_data;       /* NULL: /dev/null */
	size_t stdin_len;
	struct tb_serve_file files[TB_SERVE_MAX_FILES];
	size_t n_files;
	char *profile;          /* a name the server knows, NULL: the default profile */
	char *env[TB_SERVE_MAX_ENV]; /* "K=V" */
	size_t n_env;
	struct tb_serve_limits limits; /* what the run gets: asked for, then clamped */
	unsigned clamped;       /* bit per TB_SERVE_LIMIT_* that was lowered to the maximum */
	bool want_output;       /* "output": true: return what the code wrote to /sandbox/out */
};

enum {
	TB_SERVE_LIMIT_TIMEOUT = 1u << 0,
	TB_SERVE_LIMIT_MEMORY = 1u << 1,
	TB_SERVE_LIMIT_CPUS = 1u << 2,
	TB_SERVE_LIMIT_PIDS = 1u << 3,
	TB_SERVE_LIMIT_STDOUT = 1u << 4,
	TB_SERVE_LIMIT_STDERR = 1u << 5,
};

/*
 * Reads @body (@len bytes of JSON) into @out. Fields: code (required string), files (object of
 * name -> string), stdin (string), timeout (seconds), memory ("256m" or bytes), cpus, pids_limit,
 * stdout_limit, stderr_limit, profile (name), env (object of K -> V), output (bool: return the
 * files the code wrote to /sandbox/out, base64, within TB_SERVE_OUTPUT_MAX). Unknown fields are refused.
 * Missing limits get @dflt; every limit is then clamped to @max (a request can only lower them).
 * Returns 0, -EINVAL with @d (where = the field) or -ENOMEM. @out is written only on success.
 */
int tb_serve_request_parse(const char *body, size_t len, const struct tb_serve_limits *dflt,
			   const struct tb_serve_limits *max, struct tb_serve_request *out,
			   struct tb_diag *d);

/* Frees what tb_serve_request_parse allocated. Accepts NULL. */
void tb_serve_request_free(struct tb_serve_request *r);

/* The effective limits as a JSON object, with "clamped": [names]. NULL on ENOMEM. */
struct json_t *tb_serve_limits_to_json(const struct tb_serve_request *r);

/*
 * Writes the request's code, stdin and files into @dir (an empty directory the caller created and
 * removes; with want_output, tightbox run copies /sandbox/out to @dir/out) and builds the `tightbox run` argv that runs them with the request's limits:
 * @tightbox run --json ... (@profile_path: a seccomp profile file, NULL for the default;
 * @cgroup_parent may be NULL). *@argv_out is a string vector (tb_strv_free). 0 or -errno.
 */
int tb_serve_request_stage(const struct tb_serve_request *r, const char *dir, const char *tightbox,
			   const char *profile_path, const char *cgroup_parent, char ***argv_out);

/*
 * The `tightbox run --warm` argv of one sandbox of a warm pool (serve --pool, --pool-profile): the
 * limits are the server's maxima (@max), which the take lowers to a request's; @phase2 is the
 * profile stacked before the request's code; @phase1 the one start-up and the preloads run under
 * (NULL: the default profile); @preload may be NULL; @dir/out receives /sandbox/out. A string
 * vector (tb_strv_free). 0 or -ENOMEM.
 */
int tb_serve_pool_argv(const struct tb_serve_limits *max, const char *tightbox, const char *phase1,
		       const char *phase2, const char *preload, const char *cgroup_parent,
		       const char *dir, char ***argv_out);

/*
 * What a warm sandbox reads to take @r (runner/warm.c): one line of @r's limits, then the JSON
 * request {"code", "stdin", "env", "files", "output"} the bootstrap runs. *@out is malloc'd, NUL-terminated,
 * *@len bytes. 0 or -ENOMEM.
 */
int tb_serve_request_warm(const struct tb_serve_request *r, char **out, size_t *len);

/*
 * The files under @dir/out (what tightbox run copied out: regular files and directories only) as
 * a JSON object of relative path -> base64 of the content. NULL on ENOMEM.
 */
struct json_t *tb_serve_output_to_json(const char *dir);

#endif
