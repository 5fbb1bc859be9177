// SPDX-License-Identifier: GPL-2.0
/*
 * hmm_mirror fault injection: makes the error and fallback paths of
 * migration, the hmm_range_fault() retry loop and device copies run on
 * demand (HMM_MIRROR_IOC_INJECT), as test_hmm's HMM_DMIRROR_FLAGS does for
 * its THP allocations.
 */
#include <linux/delay.h>
#include <hmm_mirror.h>

#include "inject.h"

/* Installs @cmd's settings and hands back the ones they replace. */
void hmm_mirror_inject_swap(struct hmm_mirror_injector *inj,
			    struct hmm_mirror_inject *cmd)
{
	cmd->fail_alloc = atomic_xchg(&inj->fail_alloc, cmd->fail_alloc);
	cmd->fault_busy = atomic_xchg(&inj->fault_busy, cmd->fault_busy);
	cmd->fail_copy = atomic_xchg(&inj->fail_copy, cmd->fail_copy);
	cmd->copy_delay_us = xchg(&inj->copy_delay_us, cmd->copy_delay_us);
}

/* True when this allocation is to fail (one pending failure consumed). */
bool hmm_mirror_inject_alloc_fails(struct hmm_mirror_injector *inj)
{
	return atomic_dec_if_positive(&inj->fail_alloc) >= 0;
}

/* True when this hmm_range_fault() attempt is to count as -EBUSY. */
bool hmm_mirror_inject_fault_busy(struct hmm_mirror_injector *inj)
{
	return atomic_dec_if_positive(&inj->fault_busy) >= 0;
}

/*
 * Called before each device copy, where sleeping is allowed: waits for the
 * slow link, then returns -EIO when this copy is to fail, else 0.
 */
int hmm_mirror_inject_copy(struct hmm_mirror_injector *inj)
{
	u32 delay = READ_ONCE(inj->copy_delay_us);

	if (delay)
		fsleep(delay);
	return atomic_dec_if_positive(&inj->fail_copy) >= 0 ? -EIO : 0;
}
