/*
 * fuzz_config.c - libFuzzer entry point for the httpd.ini parser.
 *
 * The input is an ini file.  Loading it must never crash or leak, and
 * must either succeed or report each problem as a "path:line: ..." line.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = { 0 };
	struct config *c;
	char path[64];
	unsigned n;
	int fd;

	if ((fd = memfd_create("fuzz.ini", MFD_CLOEXEC)) < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((c = config_new()) != NULL) {
		n = config_load_file(c, path, &errs);
		assert(n == errs.count);
		if (n > 0)
			assert(strncmp(errs.text, path, strlen(path)) == 0);
		config_free(c);
	}
	config_errors_release(&errs);
	close(fd);
	return 0;
}
