// SPDX-License-Identifier: GPL-2.0
/*
 * Our module against the kernel's test_hmm, side by side in one guest
 * (dev.hmmmirror.programs.DriverBench starts it after modprobe test_hmm).
 * Every figure runs both drivers' repetitions interleaved (A B B A ...),
 * each repetition from fresh memory, and prints medians with min-max and
 * the ratio ours/test_hmm. The table goes to stdout, the figures as JSON to
 * the file named by the first argument.
 *
 * Figures:
 *   fault+read, write  fresh anonymous memory filled by the CPU (so no
 *                      device mapping exists), then the device reads
 *                      (writes) it: ours HMM_MIRROR_IOC_FAULT + _READ (and
 *                      _READ alone, which faults what it lacks), test_hmm
 *                      HMM_DMIRROR_READ; writes _WRITE (and FAULT for
 *                      write + _WRITE) vs HMM_DMIRROR_WRITE
 *   migrate            to device memory and back, base pages and a 2 MiB THP
 *   munmap             a 1 GiB range that 1 or 4 mirrors faulted in
 *   per-page cost      1 GiB over 1 MiB, from the fault+read figures
 *
 * test_hmm's uapi is declared here from its documented layout (FACTS.md,
 * checked against lib/test_hmm_uapi.h of Linux 7.2); nothing of it is copied.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include <hmm_mirror.h>

/* test_hmm's command: 40 bytes, _IOWR('H', n, ...) */
struct hmm_dmirror_cmd {
	__u64 addr;
	__u64 ptr;
	__u64 npages;
	__u64 cpages;
	__u64 faults;
};

#define HMM_DMIRROR_READ		_IOWR('H', 0x00, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_WRITE		_IOWR('H', 0x01, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_MIGRATE_TO_DEV	_IOWR('H', 0x02, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_MIGRATE_TO_SYS	_IOWR('H', 0x03, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_SNAPSHOT		_IOWR('H', 0x04, struct hmm_dmirror_cmd)
#define HMM_DMIRROR_PROT_PMD		0x04
#define HMM_DMIRROR_PROT_TYPE_MASK	0xf0
#define HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL 0x20

#define OURS_DEV "/dev/hmm_mirror0"
#define THEIRS_DEV "/dev/hmm_dmirror0"
#define MAX_REPS 15
#define MAX_MIRRORS 4
#define GIB_PAGES (1ULL << 18)
/* Pages per command above which both drivers are called chunk by chunk:
 * test_hmm vmallocs a bounce buffer of the whole range, and a 2 GiB guest
 * has no room for a second GiB of user buffer either. */
#define CHUNK 16384ULL
#define HUGE_SIZE (2UL << 20)

enum op {
	OURS_FAULT_READ, OURS_READ, OURS_FAULT, THEIRS_READ, OURS_WRITE, OURS_FAULT_WRITE, THEIRS_WRITE,
	OURS_MIGRATE, THEIRS_MIGRATE, NOPS
};

static int ours, theirs;
static long page;
static unsigned char *buf;	/* CHUNK pages, the devices' read/write buffer */
static FILE *json;
static int json_rows;

static void fail(const char *what, int err)
{
	printf("error %s: %s\n", what, strerror(err));
	fflush(stdout);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Fresh anonymous memory of @pages, PMD aligned when @huge (MADV_HUGEPAGE), filled with @fill. */
struct region {
	void *raw;
	size_t raw_len;
	unsigned char *p;
	size_t len;
};

static struct region map_fresh(uint64_t pages, int huge, int fill)
{
	struct region r;

	r.len = pages * page;
	r.raw_len = r.len + (huge ? HUGE_SIZE : 0);
	r.raw = mmap(NULL, r.raw_len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r.raw == MAP_FAILED)
		fail("mmap", errno);
	r.p = r.raw;
	if (huge) {
		r.p = (unsigned char *)(((uintptr_t)r.raw + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1));
		if (madvise(r.p, r.len, MADV_HUGEPAGE))
			fail("madvise(MADV_HUGEPAGE)", errno);
	}
	memset(r.p, fill, r.len);
	return r;
}

static void unmap(struct region *r)
{
	if (munmap(r->raw, r->raw_len))
		fail("munmap", errno);
}

static void ours_range(int fd, unsigned long req, const char *what, void *a, uint64_t n, uint32_t flags)
{
	struct hmm_mirror_range r = { .size = sizeof(r), .flags = flags };

	r.addr = (uintptr_t)a;
	r.npages = n;
	if (ioctl(fd, req, &r))
		fail(what, errno);
}

static void ours_rw(int fd, unsigned long req, const char *what, void *a, uint64_t n)
{
	struct hmm_mirror_rw rw = { .size = sizeof(rw) };

	rw.addr = (uintptr_t)a;
	rw.npages = n;
	rw.ptr = (uintptr_t)buf;
	if (ioctl(fd, req, &rw))
		fail(what, errno);
}

static uint64_t ours_migrate(unsigned long req, const char *what, void *a, uint64_t n)
{
	struct hmm_mirror_migrate m = { .size = sizeof(m) };

	m.addr = (uintptr_t)a;
	m.npages = n;
	if (ioctl(ours, req, &m))
		fail(what, errno);
	return m.migrated;
}

static uint64_t theirs_cmd(int fd, unsigned long req, const char *what, void *a, uint64_t n, void *ptr)
{
	struct hmm_dmirror_cmd c = { 0 };

	c.addr = (uintptr_t)a;
	c.npages = n;
	c.ptr = (uintptr_t)ptr;
	if (ioctl(fd, req, &c))
		fail(what, errno);
	return c.cpages;
}

/* One device access of @n pages at @a through @fd, chunk by chunk. */
static void access_range(enum op op, int fd, unsigned char *a, uint64_t n)
{
	uint64_t done, k;

	for (done = 0; done < n; done += k) {
		unsigned char *at = a + done * page;

		k = n - done < CHUNK ? n - done : CHUNK;
		switch (op) {
		case OURS_FAULT_READ:
			ours_range(fd, HMM_MIRROR_IOC_FAULT, "HMM_MIRROR_IOC_FAULT", at, k, 0);
			ours_rw(fd, HMM_MIRROR_IOC_READ, "HMM_MIRROR_IOC_READ", at, k);
			break;
		case OURS_READ:
			ours_rw(fd, HMM_MIRROR_IOC_READ, "HMM_MIRROR_IOC_READ", at, k);
			break;
		case OURS_FAULT:
			ours_range(fd, HMM_MIRROR_IOC_FAULT, "HMM_MIRROR_IOC_FAULT", at, k, 0);
			break;
		case OURS_FAULT_WRITE:
			ours_range(fd, HMM_MIRROR_IOC_FAULT, "HMM_MIRROR_IOC_FAULT", at, k, HMM_MIRROR_FAULT_WRITE);
			ours_rw(fd, HMM_MIRROR_IOC_WRITE, "HMM_MIRROR_IOC_WRITE", at, k);
			break;
		case OURS_WRITE:
			ours_rw(fd, HMM_MIRROR_IOC_WRITE, "HMM_MIRROR_IOC_WRITE", at, k);
			break;
		case THEIRS_READ:
			if (theirs_cmd(fd, HMM_DMIRROR_READ, "HMM_DMIRROR_READ", at, k, buf) != k)
				fail("HMM_DMIRROR_READ copied fewer pages than asked", EIO);
			break;
		case THEIRS_WRITE:
			if (theirs_cmd(fd, HMM_DMIRROR_WRITE, "HMM_DMIRROR_WRITE", at, k, buf) != k)
				fail("HMM_DMIRROR_WRITE copied fewer pages than asked", EIO);
			break;
		default:
			fail("access_range: not an access", EINVAL);
		}
	}
}

static int is_ours(enum op op)
{
	return op == OURS_FAULT_READ || op == OURS_READ || op == OURS_FAULT || op == OURS_WRITE
	       || op == OURS_FAULT_WRITE
	       || op == OURS_MIGRATE;
}

/* Per-repetition results of one series: ns per operation. */
struct series {
	enum op op;
	double ns[MAX_REPS];
	double back_ns[MAX_REPS];	/* migration: to system memory */
	int reps;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stat3 {
	double med, min, max;
};

static struct stat3 stats(const double *v, int n)
{
	double s[MAX_REPS];
	struct stat3 r;

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	r.med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	r.min = s[0];
	r.max = s[n - 1];
	return r;
}

static void json_series(const char *key, struct stat3 s, double pages)
{
	fprintf(json, "\"%s\": {\"medianUs\": %.3f, \"minUs\": %.3f, \"maxUs\": %.3f, \"pagesPerSecond\": %.0f}",
		key, s.med / 1e3, s.min / 1e3, s.max / 1e3, pages * 1e9 / s.med);
}

/*
 * One table row: @ours against @theirs at @pages per operation. The ratio is
 * of throughputs, ours pages/s over test_hmm's (above 1: ours is faster).
 */
static void row(const char *figure, const char *size, uint64_t pages, int units, struct stat3 o, struct stat3 t,
		const char *extra_json)
{
	char os[64], ts[64];

	snprintf(os, sizeof(os), "%.1f [%.1f-%.1f]", o.med / 1e3, o.min / 1e3, o.max / 1e3);
	snprintf(ts, sizeof(ts), "%.1f [%.1f-%.1f]", t.med / 1e3, t.min / 1e3, t.max / 1e3);
	printf("%-18s %-9s %32s %32s %9.0f %9.0f %6.2f\n", figure, size, os, ts,
	       pages * 1e9 / o.med, pages * 1e9 / t.med, t.med / o.med);
	fflush(stdout);
	fprintf(json, "%s\n    {\"figure\": \"%s\", \"size\": \"%s\", \"pages\": %llu, \"opsPerRepetition\": %d, ",
		json_rows++ ? "," : "", figure, size, (unsigned long long)pages, units);
	json_series("ours", o, pages);
	fprintf(json, ", ");
	json_series("testHmm", t, pages);
	fprintf(json, ", \"throughputOursOverTestHmm\": %.3f%s}", t.med / o.med, extra_json ? extra_json : "");
}

static void header(const char *what)
{
	printf("\n%s\n%-18s %-9s %32s %32s %9s %9s %6s\n", what, "figure", "size", "ours us/op [min-max]",
	       "test_hmm us/op [min-max]", "ours pg/s", "thm pg/s", "ratio");
}

/*
 * Device access figure: @nops series at @pages per operation, @units
 * operations per repetition on fresh memory (one region of @units * @pages,
 * filled by the CPU before the clock starts), @reps repetitions, series
 * order reversed every other repetition.
 */
static void access_figure(struct series *s, int nops, uint64_t pages, int units, int reps)
{
	int r, i, u;

	for (r = 0; r < reps; r++) {
		for (i = 0; i < nops; i++) {
			struct series *x = &s[r % 2 ? nops - 1 - i : i];
			int write = x->op == OURS_WRITE || x->op == OURS_FAULT_WRITE || x->op == THEIRS_WRITE;
			uint64_t chunk = pages < CHUNK ? pages : CHUNK;
			struct region m = map_fresh(pages * units, 0, 0x5a);
			uint64_t t0;

			memset(buf, write ? 0xa5 : 0, chunk * page);
			t0 = now_ns();
			for (u = 0; u < units; u++)
				access_range(x->op, is_ours(x->op) ? ours : theirs, m.p + (uint64_t)u * pages * page, pages);
			x->ns[r] = (double)(now_ns() - t0) / units;
			if (x->op != OURS_FAULT &&
			    (write ? m.p[0] != 0xa5 || m.p[m.len - 1] != 0xa5 : buf[0] != 0x5a || buf[chunk * page - 1] != 0x5a))
				fail(write ? "the CPU does not see the device's write" : "the device read other data", EIO);
			unmap(&m);
		}
	}
	for (i = 0; i < nops; i++)
		s[i].reps = reps;
}

static const char *size_name(uint64_t pages, char *out, size_t n)
{
	if (pages >= GIB_PAGES)
		snprintf(out, n, "%llu GiB", (unsigned long long)(pages / GIB_PAGES));
	else if (pages == 256)
		snprintf(out, n, "1 MiB");
	else
		snprintf(out, n, "%llu pg", (unsigned long long)pages);
	return out;
}

/* fault+read at @pages: ours FAULT+READ and READ alone against test_hmm's READ; returns medians (ns/op). */
static void read_write_sizes(double *fr_ours, double *fr_theirs, double *r_ours)
{
	static const uint64_t sizes[] = { 1, 64, 256, 512, 16384, GIB_PAGES };
	static const int units[] = { 256, 32, 8, 8, 1, 1 };
	int n = sizeof(sizes) / sizeof(sizes[0]);
	char name[32];
	int i;

	header("device fault + read of fresh CPU-filled anonymous memory (ours: FAULT then READ; READ alone below)");
	for (i = 0; i < n; i++) {
		struct series s[4] = { { .op = OURS_FAULT_READ }, { .op = THEIRS_READ }, { .op = OURS_READ },
				       { .op = OURS_FAULT } };
		int reps = sizes[i] >= GIB_PAGES ? 3 : 7;

		access_figure(s, 4, sizes[i], units[i], reps);
		struct stat3 o = stats(s[0].ns, reps), t = stats(s[1].ns, reps), ro = stats(s[2].ns, reps);

		size_name(sizes[i], name, sizeof(name));
		row("fault+read", name, sizes[i], units[i], o, t, NULL);
		row("READ alone (ours)", name, sizes[i], units[i], ro, t, NULL);
		/* where the time goes: the fault alone, against test_hmm's whole READ */
		row("FAULT alone (ours)", name, sizes[i], units[i], stats(s[3].ns, reps), t, NULL);
		fr_ours[i] = o.med;
		fr_theirs[i] = t.med;
		r_ours[i] = ro.med;
	}
	header("device write of fresh CPU-filled anonymous memory (ours: WRITE, which faults for write;"
	       " FAULT(write) then WRITE below)");
	for (i = 0; i < n; i++) {
		struct series s[3] = { { .op = OURS_WRITE }, { .op = THEIRS_WRITE }, { .op = OURS_FAULT_WRITE } };
		int reps = sizes[i] >= GIB_PAGES ? 3 : 7;
		struct stat3 t;

		access_figure(s, 3, sizes[i], units[i], reps);
		size_name(sizes[i], name, sizeof(name));
		t = stats(s[1].ns, reps);
		row("write", name, sizes[i], units[i], stats(s[0].ns, reps), t, NULL);
		row("FAULT+WRITE (ours)", name, sizes[i], units[i], stats(s[2].ns, reps), t, NULL);
	}
}

/* Our snapshot byte of the page at @a (the CPU side is what matters for memory test_hmm moved). */
static unsigned char ours_state(void *a)
{
	struct hmm_mirror_snapshot s = { .size = sizeof(s) };
	unsigned char b = 0;

	s.addr = (uintptr_t)a;
	s.npages = 1;
	s.ptr = (uintptr_t)&b;
	if (ioctl(ours, HMM_MIRROR_IOC_SNAPSHOT, &s))
		fail("HMM_MIRROR_IOC_SNAPSHOT", errno);
	return b;
}

static unsigned char theirs_state(void *a)
{
	unsigned char b = 0;

	theirs_cmd(theirs, HMM_DMIRROR_SNAPSHOT, "HMM_DMIRROR_SNAPSHOT", a, 1, &b);
	return b;
}

/*
 * Migration to device memory and back: @units ranges of @pages per
 * repetition, fresh and CPU-filled; with @huge each range is a PMD-aligned
 * MADV_HUGEPAGE range touched first by the CPU (a THP when one is free).
 * Counts whether the range was a THP before, whether the driver's device
 * page table mapped it as one device PMD, and whether the CPU maps a THP
 * again after the way back.
 */
static void migrate_figure(const char *size, uint64_t pages, int units, int huge, int reps)
{
	struct series s[2] = { { .op = OURS_MIGRATE }, { .op = THEIRS_MIGRATE } };
	int huge_before[2] = { 0 }, whole[2] = { 0 }, huge_after[2] = { 0 };
	int short_to_dev[2] = { 0 }, short_to_sys[2] = { 0 };
	uint64_t last_to_dev[2] = { 0 }, last_to_sys[2] = { 0 };
	char extra[768];
	int r, i, u;

	for (r = 0; r < reps; r++) {
		for (i = 0; i < 2; i++) {
			int k = r % 2 ? 1 - i : i;
			struct series *x = &s[k];
			struct region m = map_fresh(pages * units, huge, 0x5a);
			uint64_t t0, moved;

			if (huge && (ours_state(m.p) & HMM_MIRROR_PAGE_HUGE))
				huge_before[k]++;
			t0 = now_ns();
			for (u = 0; u < units; u++) {
				void *a = m.p + (uint64_t)u * pages * page;

				moved = x->op == OURS_MIGRATE
					? ours_migrate(HMM_MIRROR_IOC_MIGRATE_TO_DEV, "HMM_MIRROR_IOC_MIGRATE_TO_DEV", a, pages)
					: theirs_cmd(theirs, HMM_DMIRROR_MIGRATE_TO_DEV, "HMM_DMIRROR_MIGRATE_TO_DEV", a,
						     pages, buf);
				short_to_dev[k] += moved != pages;
				last_to_dev[k] = moved;
			}
			x->ns[r] = (double)(now_ns() - t0) / units;
			if (huge) {
				unsigned char b = x->op == OURS_MIGRATE ? ours_state(m.p) : theirs_state(m.p);

				if (x->op == OURS_MIGRATE
				    ? (b & (HMM_MIRROR_PAGE_HUGE | HMM_MIRROR_PAGE_KIND_MASK))
					== (HMM_MIRROR_PAGE_HUGE | HMM_MIRROR_PAGE_KIND_PRIVATE)
				    : (b & HMM_DMIRROR_PROT_PMD)
					&& (b & HMM_DMIRROR_PROT_TYPE_MASK) == HMM_DMIRROR_PROT_DEV_PRIVATE_LOCAL)
					whole[k]++;
			}
			t0 = now_ns();
			for (u = 0; u < units; u++) {
				void *a = m.p + (uint64_t)u * pages * page;

				moved = x->op == OURS_MIGRATE
					? ours_migrate(HMM_MIRROR_IOC_MIGRATE_TO_SYS, "HMM_MIRROR_IOC_MIGRATE_TO_SYS", a, pages)
					: theirs_cmd(theirs, HMM_DMIRROR_MIGRATE_TO_SYS, "HMM_DMIRROR_MIGRATE_TO_SYS", a,
						     pages, NULL);
				short_to_sys[k] += moved != pages;
				last_to_sys[k] = moved;
			}
			x->back_ns[r] = (double)(now_ns() - t0) / units;
			if (huge && (ours_state(m.p) & HMM_MIRROR_PAGE_HUGE))
				huge_after[k]++;
			if (m.p[0] != 0x5a || m.p[m.len - 1] != 0x5a)
				fail("data changed on the way to device memory and back", EIO);
			unmap(&m);
		}
	}
	snprintf(extra, sizeof(extra), ", \"repetitions\": %d, \"shortMovesToDevice\": {\"ours\": %d, \"testHmm\": %d}"
		 ", \"shortMovesToSystem\": {\"ours\": %d, \"testHmm\": %d}, \"lastReportedMoved\": {\"oursToDevice\": %llu,"
		 " \"testHmmToDevice\": %llu, \"oursToSystem\": %llu, \"testHmmToSystem\": %llu}", reps,
		 short_to_dev[0], short_to_dev[1], short_to_sys[0], short_to_sys[1], (unsigned long long)last_to_dev[0],
		 (unsigned long long)last_to_dev[1], (unsigned long long)last_to_sys[0], (unsigned long long)last_to_sys[1]);
	if (huge)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
			 ", \"thpBefore\": {\"ours\": %d, \"testHmm\": %d}, \"deviceWholePmd\": {\"ours\": %d, "
			 "\"testHmm\": %d}, \"thpAfterBack\": {\"ours\": %d, \"testHmm\": %d}",
			 huge_before[0], huge_before[1], whole[0], whole[1], huge_after[0], huge_after[1]);
	row("migrate to device", size, pages, units, stats(s[0].ns, reps), stats(s[1].ns, reps), extra);
	row("migrate to system", size, pages, units, stats(s[0].back_ns, reps), stats(s[1].back_ns, reps), extra);
	if (short_to_dev[0] || short_to_dev[1] || short_to_sys[0] || short_to_sys[1])
		printf("  moved-page count below the %llu asked (of %d operations per direction): to device ours %d,"
		       " test_hmm %d; to system ours %d, test_hmm %d (last counts reported: to device %llu / %llu, to"
		       " system %llu / %llu; the data came back intact every time)\n", (unsigned long long)pages,
		       reps * units, short_to_dev[0], short_to_dev[1], short_to_sys[0], short_to_sys[1],
		       (unsigned long long)last_to_dev[0], (unsigned long long)last_to_dev[1],
		       (unsigned long long)last_to_sys[0], (unsigned long long)last_to_sys[1]);
	if (huge)
		printf("  THP of %d repetitions: CPU huge before ours %d / test_hmm %d; device mapped it as one PMD"
		       " ours %d / test_hmm %d; CPU huge after the way back ours %d / test_hmm %d\n", reps,
		       huge_before[0], huge_before[1], whole[0], whole[1], huge_after[0], huge_after[1]);
}

static int open_dev(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fail(path, errno);
	return fd;
}

/*
 * Invalidation: munmap of a 1 GiB range that @mirrors open files of each
 * driver have faulted in whole (ours FAULT, test_hmm READ, chunk by chunk),
 * next to the same munmap with no device mapping (the CPU's own teardown,
 * the same for both). The extra files are opened for the repetition only:
 * an open test_hmm file watches the whole address space.
 */
static void munmap_figure(int reps)
{
	static const int mirrors[] = { 1, MAX_MIRRORS };
	double t[2][2][MAX_REPS], extra[2][2][MAX_REPS], base[MAX_REPS];
	char name[32], json_extra[256];
	int r, i, j;

	for (r = 0; r < reps; r++) {
		for (i = 0; i < 5; i++) {
			int c = r % 2 ? 4 - i : i;	/* 0: baseline, then ours 1, test_hmm 1, ours 4, test_hmm 4 */
			int mi = (c - 1) / 2, d = (c - 1) % 2;
			int fds[MAX_MIRRORS];
			struct region m = map_fresh(GIB_PAGES, 0, 0x5a);
			uint64_t t0;

			for (j = 0; c && j < mirrors[mi]; j++) {
				fds[j] = j == 0 ? (d == 0 ? ours : theirs) : open_dev(d == 0 ? OURS_DEV : THEIRS_DEV);
				access_range(d == 0 ? OURS_FAULT_READ : THEIRS_READ, fds[j], m.p, GIB_PAGES);
			}
			t0 = now_ns();
			unmap(&m);
			if (c)
				t[mi][d][r] = (double)(now_ns() - t0);
			else
				base[r] = (double)(now_ns() - t0);
			for (j = 1; c && j < mirrors[mi]; j++)
				close(fds[j]);
		}
		for (i = 0; i < 4; i++)
			extra[i / 2][i % 2][r] = t[i / 2][i % 2][r] - base[r];
	}
	struct stat3 b = stats(base, reps);

	snprintf(json_extra, sizeof(json_extra), ", \"baselineNoMirrorUs\": {\"median\": %.1f, \"min\": %.1f, \"max\": %.1f}",
		 b.med / 1e3, b.min / 1e3, b.max / 1e3);
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "%d mirror%s", mirrors[i], mirrors[i] > 1 ? "s" : "");
		row("munmap 1 GiB", name, GIB_PAGES, 1, stats(t[i][0], reps), stats(t[i][1], reps), json_extra);
	}
	for (i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "%d mirror%s", mirrors[i], mirrors[i] > 1 ? "s" : "");
		row("munmap - baseline", name, GIB_PAGES, 1, stats(extra[i][0], reps), stats(extra[i][1], reps), NULL);
	}
	printf("  baseline: munmap of the same GiB with no device mapping %.1f us [%.1f-%.1f] (%.0f pages/s);"
	       " 'minus baseline' is each repetition's time less that repetition's baseline\n",
	       b.med / 1e3, b.min / 1e3, b.max / 1e3, GIB_PAGES * 1e9 / b.med);
}

static void thp_setting(char *out, size_t n)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	snprintf(out, n, "unknown");
	if (f) {
		if (!fgets(out, n, f))
			snprintf(out, n, "unknown");
		out[strcspn(out, "\n")] = 0;
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	static const char *const per_page_names[] = { "ours FAULT+READ", "ours READ alone", "test_hmm READ" };
	double fr_ours[6], fr_theirs[6], r_ours[6];
	double *per_page[3] = { fr_ours, r_ours, fr_theirs };
	struct utsname u;
	char thp[128];
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: driver_bench JSON-FILE (with test_hmm loaded: modprobe test_hmm)\n");
		return 2;
	}
	page = sysconf(_SC_PAGESIZE);
	ours = open_dev(OURS_DEV);
	theirs = open(THEIRS_DEV, O_RDWR | O_CLOEXEC);
	if (theirs < 0)
		fail(THEIRS_DEV " (load the kernel's test_hmm first: modprobe test_hmm)", errno);
	json = fopen(argv[1], "w");
	if (!json)
		fail(argv[1], errno);
	buf = mmap(NULL, CHUNK * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		fail("mmap", errno);
	memset(buf, 0, CHUNK * page);
	uname(&u);
	thp_setting(thp, sizeof(thp));
	printf("our module (%s) against test_hmm (%s), one guest, kernel %s; THP %s\n", OURS_DEV, THEIRS_DEV,
	       u.release, thp);
	printf("repetitions interleaved A B B A, each on fresh memory (mmap, CPU fill, untimed; munmap after);"
	       " 7 per size, 3 at 1 GiB; above %llu pages both drivers are called %llu pages at a time;"
	       " ratio = ours pages/s over test_hmm's (above 1: ours faster)\n",
	       (unsigned long long)CHUNK, (unsigned long long)CHUNK);
	fprintf(json, "{\"kernel\": \"%s\", \"thp\": \"%s\", \"chunkPages\": %llu, \"rows\": [", u.release, thp,
		(unsigned long long)CHUNK);

	read_write_sizes(fr_ours, fr_theirs, r_ours);

	header("migration to device memory and back (ours MIGRATE_TO_DEV/_TO_SYS, test_hmm MIGRATE_TO_DEV/_TO_SYS)");
	migrate_figure("1 pg", 1, 64, 0, 7);
	migrate_figure("512 pg", 512, 4, 0, 7);
	migrate_figure("2 MiB THP", 512, 2, 1, 7);

	header("invalidation: munmap of a 1 GiB range every mirror faulted in (us per munmap)");
	munmap_figure(3);

	printf("\nper-page cost of fault+read, 1 GiB over 1 MiB (goal for ours: at most 1.2)\n");
	fprintf(json, "\n  ], \"perPageCost1GiBOver1MiB\": {");
	for (i = 0; i < 3; i++) {
		double ratio = (per_page[i][5] / GIB_PAGES) / (per_page[i][2] / 256);

		printf("  %-18s %.2f (%.2f us/page at 1 GiB, %.2f us/page at 1 MiB)\n", per_page_names[i], ratio,
		       per_page[i][5] / GIB_PAGES / 1e3, per_page[i][2] / 256 / 1e3);
		fprintf(json, "%s\"%s\": %.3f", i ? ", " : "", per_page_names[i], ratio);
	}
	fprintf(json, "}}\n");
	if (fclose(json))
		fail("writing the JSON", errno);
	return 0;
}
