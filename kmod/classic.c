// SPDX-License-Identifier: GPL-2.0
/*
 * Classic mmu_notifiers on a process's address space (see classic.h).
 * Each pair lives from its process's write to the classic_notifiers
 * attribute to that address space's teardown (->release), after which a
 * work item takes it off the list, unregisters it (dropping the mm
 * references registration took) and frees it; module unload does the same
 * for the pairs left.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/list.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>

#include "classic.h"
#include "compat.h"
#include "contract.h"

/* The longest sleep a blocking invalidation may be given, in ms. */
#define HMM_MIRROR_CLASSIC_MAX_SLEEP_MS 10000

struct hmm_mirror_classic {
	struct list_head node;		/* on hmm_mirror_classics; empty once taken off */
	struct hmm_mirror_device *mdev;	/* whose contract_violations count */
	struct mm_struct *mm;
	struct mmu_notifier refuser;	/* refuses non-blocking starts; no end */
	struct mmu_notifier counter;	/* counts starts minus ends */
	unsigned int sleep_ms;		/* per blocking start of the refuser */
	/*
	 * 0: every blocking start sleeps; else only those of @sleeper (the
	 * writing thread) whose range contains @addr
	 */
	unsigned long addr;
	struct pid *sleeper;		/* referenced while @addr is set */
	atomic_t sleeping;		/* the refuser's sleeps in progress */
	atomic_t open_starts;		/* the counter's starts not yet ended */
	atomic_t released;		/* ->release ran once: free_work queued */
	bool closing;			/* module unload unregisters: no check */
	struct work_struct free_work;	/* after ->release: unregister, free */
};

/* protects hmm_mirror_classics and every pair's node */
static DEFINE_MUTEX(hmm_mirror_classics_lock);
static LIST_HEAD(hmm_mirror_classics);
/*
 * the pairs' free work; from module init to module exit, which come before
 * the first and after the last device (the only callers of
 * hmm_mirror_classic_add())
 */
static struct workqueue_struct *hmm_mirror_classic_wq;

static int hmm_mirror_classic_refuse(struct mmu_notifier *mn,
				     const struct mmu_notifier_range *range)
{
	struct hmm_mirror_classic *c =
		container_of(mn, struct hmm_mirror_classic, refuser);

	if (!mmu_notifier_range_blockable(range))
		return -EAGAIN;
	if (!c->sleep_ms)
		return 0;
	if (c->addr && (task_pid(current) != c->sleeper ||
			c->addr < range->start || c->addr >= range->end))
		return 0;
	atomic_inc(&c->sleeping);
	msleep(c->sleep_ms);
	atomic_dec(&c->sleeping);
	return 0;
}

static int hmm_mirror_classic_start(struct mmu_notifier *mn,
				    const struct mmu_notifier_range *range)
{
	struct hmm_mirror_classic *c =
		container_of(mn, struct hmm_mirror_classic, counter);

	atomic_inc(&c->open_starts);
	return 0;
}

static void hmm_mirror_classic_end(struct mmu_notifier *mn,
				   const struct mmu_notifier_range *range)
{
	struct hmm_mirror_classic *c =
		container_of(mn, struct hmm_mirror_classic, counter);

	if (atomic_dec_return(&c->open_starts) <= 0)
		wake_up_var(&c->open_starts);
}

/*
 * The address space goes (exit_mmap). An OOM reaper pass may still be
 * between its start and end: it gets a second; a start whose end never
 * comes is a broken promise of the hlist walk.
 *
 * Called once more by free_work's mmu_notifier_unregister() when that runs
 * before __mmu_notifier_release() has unhashed the subscription (the work
 * is queued from here): only the first call queues it, or the work would
 * run again on the pair it has just freed.
 */
static void hmm_mirror_classic_release(struct mmu_notifier *mn,
				       struct mm_struct *mm)
{
	struct hmm_mirror_classic *c =
		container_of(mn, struct hmm_mirror_classic, counter);
	int open;

	if (READ_ONCE(c->closing) || atomic_xchg(&c->released, 1))
		return;
	wait_var_event_timeout(&c->open_starts,
			       atomic_read(&c->open_starts) <= 0, HZ);
	open = atomic_read(&c->open_starts);
	if (open)
		hmm_mirror_contract_unpaired(c->mdev, open);
	queue_work(hmm_mirror_classic_wq, &c->free_work);
}

static const struct mmu_notifier_ops hmm_mirror_classic_refuser_ops = {
	.invalidate_range_start = hmm_mirror_classic_refuse,
};

static const struct mmu_notifier_ops hmm_mirror_classic_counter_ops = {
	.invalidate_range_start = hmm_mirror_classic_start,
	.invalidate_range_end = hmm_mirror_classic_end,
	.release = hmm_mirror_classic_release,
};

/* Off the list (true for the one caller that took it off). */
static bool hmm_mirror_classic_take(struct hmm_mirror_classic *c)
{
	bool mine;

	mutex_lock(&hmm_mirror_classics_lock);
	mine = !list_empty(&c->node);
	if (mine)
		list_del_init(&c->node);
	mutex_unlock(&hmm_mirror_classics_lock);
	return mine;
}

/* Both notifiers off @c->mm, no callback of theirs running. */
static void hmm_mirror_classic_unregister(struct hmm_mirror_classic *c)
{
	mmu_notifier_unregister(&c->counter, c->mm);
	mmu_notifier_unregister(&c->refuser, c->mm);
}

static void hmm_mirror_classic_free(struct hmm_mirror_classic *c)
{
	put_pid(c->sleeper);	/* NULL-safe */
	kfree(c);
}

static void hmm_mirror_classic_free_work(struct work_struct *work)
{
	struct hmm_mirror_classic *c =
		container_of(work, struct hmm_mirror_classic, free_work);

	if (hmm_mirror_classic_take(c)) {
		hmm_mirror_classic_unregister(c);
		hmm_mirror_classic_free(c);
	}
}

/*
 * From a process writing N (ms, at most 10 s) to @mdev's classic_notifiers
 * attribute: its pair, on its own address space. With @addr (not 0) the
 * refuser sleeps only in the writing thread's blocking starts over @addr.
 * 0 or a negative errno.
 */
int hmm_mirror_classic_add(struct hmm_mirror_device *mdev,
			   unsigned int sleep_ms, unsigned long addr)
{
	struct mm_struct *mm = current->mm;
	struct hmm_mirror_classic *c;
	int ret;

	if (sleep_ms > HMM_MIRROR_CLASSIC_MAX_SLEEP_MS || !mm)
		return -EINVAL;
	c = kzalloc_obj(*c, GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	INIT_LIST_HEAD(&c->node);
	INIT_WORK(&c->free_work, hmm_mirror_classic_free_work);
	c->mdev = mdev;
	c->mm = mm;
	c->sleep_ms = sleep_ms;
	c->addr = addr;
	if (addr)
		c->sleeper = get_task_pid(current, PIDTYPE_PID);
	atomic_set(&c->sleeping, 0);
	atomic_set(&c->open_starts, 0);
	atomic_set(&c->released, 0);
	c->refuser.ops = &hmm_mirror_classic_refuser_ops;
	c->counter.ops = &hmm_mirror_classic_counter_ops;
	ret = mmu_notifier_register(&c->refuser, mm);
	if (ret)
		goto free;
	ret = mmu_notifier_register(&c->counter, mm);
	if (ret)
		goto unregister;
	mutex_lock(&hmm_mirror_classics_lock);
	list_add(&c->node, &hmm_mirror_classics);
	mutex_unlock(&hmm_mirror_classics_lock);
	if (addr)
		pr_notice("test aid: classic notifiers on the address space of pid %d (blocking starts of thread %d over %#lx sleep %u ms)\n",
			  task_tgid_nr(current), task_pid_nr(current), addr,
			  sleep_ms);
	else
		pr_notice("test aid: classic notifiers on the address space of pid %d (blocking starts sleep %u ms)\n",
			  task_tgid_nr(current), sleep_ms);
	return 0;
unregister:
	mmu_notifier_unregister(&c->refuser, mm);
free:
	hmm_mirror_classic_free(c);
	return ret;
}

/* The refuser sleeps in progress on @mm, summed over its pairs. */
int hmm_mirror_classic_sleeping(struct mm_struct *mm)
{
	struct hmm_mirror_classic *c;
	int n = 0;

	mutex_lock(&hmm_mirror_classics_lock);
	list_for_each_entry(c, &hmm_mirror_classics, node)
		if (c->mm == mm)
			n += atomic_read(&c->sleeping);
	mutex_unlock(&hmm_mirror_classics_lock);
	return n;
}

/* Module load: 0 or -ENOMEM. */
int hmm_mirror_classic_init(void)
{
	struct workqueue_struct *wq = alloc_workqueue("hmm_mirror_classic", WQ_UNBOUND, 0);

	if (!wq)
		return -ENOMEM;
	hmm_mirror_classic_wq = wq;
	return 0;
}

/*
 * Module unload: the pairs whose address space is still there are
 * unregistered here (the mm references go with them); then the free work
 * of those released meanwhile runs to its end.
 */
void hmm_mirror_classic_exit(void)
{
	struct hmm_mirror_classic *c;

	for (;;) {
		mutex_lock(&hmm_mirror_classics_lock);
		c = list_first_entry_or_null(&hmm_mirror_classics,
					     struct hmm_mirror_classic, node);
		if (c)
			list_del_init(&c->node);
		mutex_unlock(&hmm_mirror_classics_lock);
		if (!c)
			break;
		WRITE_ONCE(c->closing, true);
		hmm_mirror_classic_unregister(c);
		flush_work(&c->free_work);	/* queued by a ->release before */
		hmm_mirror_classic_free(c);
	}
	destroy_workqueue(hmm_mirror_classic_wq);
}
