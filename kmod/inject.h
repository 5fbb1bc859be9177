/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hmm_mirror fault injection (HMM_MIRROR_IOC_INJECT): per-mirror counts of
 * failures still to inject into allocations, hmm_range_fault() attempts
 * and device copies, and a delay per device copy.
 */
#ifndef HMM_MIRROR_INJECT_H
#define HMM_MIRROR_INJECT_H

#include <linux/atomic.h>
#include <linux/types.h>

struct hmm_mirror_inject;

/*
 * Lock-free: each count is consumed with atomic_dec_if_positive(), and the
 * delay is a single word read with READ_ONCE(). A zeroed struct injects
 * nothing.
 */
struct hmm_mirror_injector {
	atomic_t fail_alloc;
	atomic_t fault_busy;
	atomic_t fail_copy;
	u32 copy_delay_us;
};

void hmm_mirror_inject_swap(struct hmm_mirror_injector *inj,
			    struct hmm_mirror_inject *cmd);
bool hmm_mirror_inject_alloc_fails(struct hmm_mirror_injector *inj);
bool hmm_mirror_inject_fault_busy(struct hmm_mirror_injector *inj);
int hmm_mirror_inject_copy(struct hmm_mirror_injector *inj);

#endif /* HMM_MIRROR_INJECT_H */
