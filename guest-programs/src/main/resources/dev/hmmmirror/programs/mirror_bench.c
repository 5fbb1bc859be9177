// SPDX-License-Identifier: GPL-2.0
/*
 * The C side of the Java/C benchmark: times HMM_MIRROR_IOC_FAULT followed
 * by HMM_MIRROR_IOC_READ of the same range, for each page count given on
 * the command line. Prints "pages iterations nanoseconds-per-iteration".
 * Built statically in a kernel root, run in the guest next to the Java
 * version (dev.hmmmirror.vm.bench.MirrorBench), which prints the ratio.
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

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int fault_read(int fd, void *mem, void *buf, uint64_t npages)
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

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = open("/dev/hmm_mirror0", O_RDWR | O_CLOEXEC);
	int i;

	if (fd < 0) {
		perror("open /dev/hmm_mirror0");
		return 1;
	}
	for (i = 1; i < argc; i++) {
		uint64_t npages = strtoull(argv[i], NULL, 0);
		size_t len = npages * page;
		void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		void *buf = malloc(len);
		uint64_t iters = 0, t0, t;
		int rc;

		if (mem == MAP_FAILED || !buf) {
			perror("mmap/malloc");
			return 1;
		}
		memset(mem, 0x5a, len);
		for (int w = 0; w < 3; w++) {
			rc = fault_read(fd, mem, buf, npages);
			if (rc) {
				fprintf(stderr, "ioctl: %s\n", strerror(-rc));
				return 1;
			}
		}
		t0 = now_ns();
		do {
			if (fault_read(fd, mem, buf, npages))
				return 1;
			iters++;
			t = now_ns();
		} while (t - t0 < 2000000000ull && iters < 100000);
		printf("%llu %llu %llu\n", (unsigned long long)npages,
		       (unsigned long long)iters,
		       (unsigned long long)((t - t0) / iters));
		munmap(mem, len);
		free(buf);
	}
	close(fd);
	return 0;
}
