/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the recording reader. tb_recording_load() takes a path, so the input goes
 * into a memfd read back through /proc/self/fd (no files on disk, nothing to clean up).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/recording.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct tb_recording *r = NULL;
	struct tb_diag d = {0};
	char path[64];
	FILE *f;

	if (fd < 0)
		fd = memfd_create("fuzz-recording", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (tb_recording_load(path, &r, &d) < 0)
		return 0;
	f = fopen("/dev/null", "we");
	if (f) {
		tb_recording_write(r, f);
		fclose(f);
	}
	tb_recording_free(r);
	return 0;
}
