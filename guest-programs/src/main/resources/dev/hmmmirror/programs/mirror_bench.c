// SPDX-License-Identifier: GPL-2.0
/*
 * The C side of the Java/C benchmark (dev.hmmmirror.programs.MirrorBench):
 * HMM_MIRROR_IOC_FAULT followed by HMM_MIRROR_IOC_READ of the same range,
 * into a buffer mapped like the Java side's (anonymous, page aligned). It
 * serves the same line protocol as the Java worker, so that the controller
 * can interleave the two sides' repetitions on the same memory state:
 *
 *   prepare N   map N pages to mirror and N pages of buffer, fill the first
 *               with 0x5a, one fault + read       -> "ok"
 *   warm S      fault + read for S seconds        -> "warm OPS NS_PER_OP"
 *   run OPS     OPS timed fault + reads           -> "run OPS TOTAL_NS 0"
 *   release     unmap both                        -> "ok"
 *   calls K N   N calls of kind K, timed          -> "calls N TOTAL_NS 0"
 *               K: abs (libc's abs through a pointer the compiler cannot
 *               see through: a call that does nothing), version
 *               (HMM_MIRROR_IOC_VERSION: the shortest round trip through
 *               the module)
 *   quit
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <hmm_mirror.h>

static int fd;
static void *mem, *buf;
static uint64_t npages;
static size_t len;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int fault_read(void)
{
	struct hmm_mirror_range r = { .size = sizeof(r) };
	struct hmm_mirror_rw rw = { .size = sizeof(rw) };

	r.addr = (uintptr_t)mem;
	r.npages = npages;
	if (ioctl(fd, HMM_MIRROR_IOC_FAULT, &r))
		return -errno;
	rw.addr = (uintptr_t)mem;
	rw.npages = npages;
	rw.ptr = (uintptr_t)buf;
	if (ioctl(fd, HMM_MIRROR_IOC_READ, &rw))
		return -errno;
	return 0;
}

static int (*volatile abs_fn)(int) = abs;
static volatile int abs_sum;

static int calls(const char *kind, uint64_t n)
{
	struct hmm_mirror_version v = { .size = sizeof(v) };
	uint64_t i;
	int sum = 0;

	if (!strcmp(kind, "abs")) {
		for (i = 0; i < n; i++)
			sum += abs_fn((int)i);
		abs_sum = sum;
		return 0;
	}
	if (!strcmp(kind, "version")) {
		for (i = 0; i < n; i++)
			if (ioctl(fd, HMM_MIRROR_IOC_VERSION, &v))
				return -errno;
		return 0;
	}
	return -EINVAL;
}

static void fail(const char *what, int err)
{
	printf("error %s: %s\n", what, strerror(err));
	fflush(stdout);
	exit(1);
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char line[128];
	unsigned long long arg;
	char kind[16];
	int rc;

	fd = open("/dev/hmm_mirror0", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fail("open /dev/hmm_mirror0", errno);
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "prepare %llu", &arg) == 1) {
			npages = arg;
			len = npages * page;
			mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (mem == MAP_FAILED || buf == MAP_FAILED)
				fail("mmap", errno);
			memset(mem, 0x5a, len);
			memset(buf, 0, len);
			rc = fault_read();
			if (rc)
				fail("ioctl", -rc);
			printf("ok\n");
		} else if (sscanf(line, "warm %llu", &arg) == 1) {
			uint64_t t0 = now_ns(), t, ops = 0;

			do {
				rc = fault_read();
				if (rc)
					fail("ioctl", -rc);
				ops++;
				t = now_ns();
			} while (t - t0 < arg * 1000000000ull);
			printf("warm %llu %llu\n", (unsigned long long)ops,
			       (unsigned long long)((t - t0) / ops));
		} else if (sscanf(line, "run %llu", &arg) == 1) {
			uint64_t t0 = now_ns(), i;

			for (i = 0; i < arg; i++) {
				rc = fault_read();
				if (rc)
					fail("ioctl", -rc);
			}
			printf("run %llu %llu 0\n", arg,
			       (unsigned long long)(now_ns() - t0));
		} else if (sscanf(line, "calls %15s %llu", kind, &arg) == 2) {
			uint64_t t0 = now_ns();

			rc = calls(kind, arg);
			if (rc)
				fail("calls", -rc);
			printf("calls %llu %llu 0\n", arg,
			       (unsigned long long)(now_ns() - t0));
		} else if (!strncmp(line, "release", 7)) {
			munmap(mem, len);
			munmap(buf, len);
			printf("ok\n");
		} else if (!strncmp(line, "quit", 4)) {
			break;
		} else {
			printf("error unknown command %s", line);
		}
		fflush(stdout);
	}
	close(fd);
	return 0;
}
