/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hmm_mirror device memory: device-private pages and migration to and from
 * them. Compiled only where the kernel has CONFIG_DEVICE_PRIVATE; elsewhere
 * the stubs below report -EOPNOTSUPP and "no device page", so callers carry
 * no #ifdef.
 */
#ifndef HMM_MIRROR_DMEM_H
#define HMM_MIRROR_DMEM_H

#include <linux/atomic.h>
#include <linux/errno.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct hmm_mirror;
struct hmm_mirror_chunk;
struct page;

#define HMM_MIRROR_MAX_CHUNKS 8

/* The device memory of one device. */
struct hmm_mirror_dmem {
	const char *name;		/* the device's, for messages */
	/* protects @chunks and @nchunks; held while adding or evicting */
	struct mutex lock;
	struct hmm_mirror_chunk *chunks[HMM_MIRROR_MAX_CHUNKS];
	unsigned int nchunks;
	/*
	 * protects @free_huge, @partial, @nr_free_huge, @used_pages and
	 * every block of every chunk (struct hmm_mirror_block, dmem.c);
	 * nests inside @lock
	 */
	spinlock_t free_lock;
	struct list_head free_huge;	/* whole free PMD-sized blocks */
	struct list_head partial;	/* blocks in base pages, some free */
	unsigned long nr_free_huge;	/* blocks on @free_huge */
	unsigned long used_pages;
	atomic64_t cpu_fault_migrations; /* pages brought back by CPU faults */
};

#if IS_ENABLED(CONFIG_DEVICE_PRIVATE)

void hmm_mirror_dmem_init(struct hmm_mirror_dmem *dmem, const char *name);
void hmm_mirror_dmem_fini(struct hmm_mirror_dmem *dmem);
void hmm_mirror_dmem_evict(struct hmm_mirror_dmem *dmem,
			   struct hmm_mirror *only);
int hmm_mirror_migrate(struct hmm_mirror *mirror, unsigned long start,
		       unsigned long npages, bool to_device, u64 *migrated,
		       u64 *skipped);
void *hmm_mirror_dmem_owner(struct hmm_mirror_dmem *dmem);
bool hmm_mirror_dmem_shared_owner(void);
bool hmm_mirror_dmem_huge(void);
bool hmm_mirror_dmem_is_local(struct hmm_mirror_dmem *dmem,
			      struct page *dpage);
struct page *hmm_mirror_dmem_backing(struct page *dpage);
unsigned long hmm_mirror_dmem_used(struct hmm_mirror_dmem *dmem);
unsigned long hmm_mirror_dmem_huge_blocks(struct hmm_mirror_dmem *dmem);
unsigned long hmm_mirror_dmem_free_huge_blocks(struct hmm_mirror_dmem *dmem);

#else /* !CONFIG_DEVICE_PRIVATE */

static inline void hmm_mirror_dmem_init(struct hmm_mirror_dmem *dmem,
					const char *name)
{
}

static inline void hmm_mirror_dmem_fini(struct hmm_mirror_dmem *dmem)
{
}

static inline void hmm_mirror_dmem_evict(struct hmm_mirror_dmem *dmem,
					 struct hmm_mirror *only)
{
}

static inline int hmm_mirror_migrate(struct hmm_mirror *mirror,
				     unsigned long start, unsigned long npages,
				     bool to_device, u64 *migrated,
				     u64 *skipped)
{
	return -EOPNOTSUPP;
}

static inline void *hmm_mirror_dmem_owner(struct hmm_mirror_dmem *dmem)
{
	return NULL;
}

static inline unsigned long hmm_mirror_dmem_used(struct hmm_mirror_dmem *dmem)
{
	return 0;
}

static inline unsigned long hmm_mirror_dmem_huge_blocks(struct hmm_mirror_dmem *dmem)
{
	return 0;
}

static inline unsigned long hmm_mirror_dmem_free_huge_blocks(struct hmm_mirror_dmem *dmem)
{
	return 0;
}

static inline bool hmm_mirror_dmem_shared_owner(void)
{
	return false;
}

static inline bool hmm_mirror_dmem_huge(void)
{
	return false;
}

static inline bool hmm_mirror_dmem_is_local(struct hmm_mirror_dmem *dmem,
					    struct page *dpage)
{
	return false;
}

static inline struct page *hmm_mirror_dmem_backing(struct page *dpage)
{
	return dpage;
}

#endif /* CONFIG_DEVICE_PRIVATE */

static inline u64 hmm_mirror_dmem_cpu_fault_migrations(struct hmm_mirror_dmem *dmem)
{
	return atomic64_read(&dmem->cpu_fault_migrations);
}

#endif /* HMM_MIRROR_DMEM_H */
