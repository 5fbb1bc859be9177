// SPDX-License-Identifier: GPL-2.0
/*
 * hmm_mirror planted bugs (planted.h): the plant_bug module parameter.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>

#include "planted.h"

/* read-only after load: the bug a test planted, for the module's lifetime */
static unsigned int plant_bug;
module_param(plant_bug, uint, 0444);
MODULE_PARM_DESC(plant_bug, "test aid, default 0 (none): plant a known bug for the explorer to find: 1 protection changes keep device entries, 2 every second invalidation that removed entries goes unreported, 3 migration to the device zeroes the last page of a chunk, 4 closing a mirror leaves a page in device memory, 5 a read fault commits without the sequence re-check");

/* At load: 0, or -EINVAL for a value that names no bug. */
int hmm_mirror_planted_check(void)
{
	if (plant_bug > HMM_MIRROR_BUG_MAX) {
		pr_err("plant_bug=%u names no planted bug (0-%d)\n", plant_bug,
		       HMM_MIRROR_BUG_MAX);
		return -EINVAL;
	}
	if (plant_bug)
		pr_notice("test aid: planted bug %u is active\n", plant_bug);
	return 0;
}

bool hmm_mirror_planted(enum hmm_mirror_bug bug)
{
	return bug != HMM_MIRROR_BUG_NONE && plant_bug == bug;
}
