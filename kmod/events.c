// SPDX-License-Identifier: GPL-2.0
/*
 * hmm_mirror event ring: every invalidation a mirror receives is recorded
 * here (range, reason, notifier sequence) and read by userspace with
 * read(2)/poll(2), unless an event scope (HMM_MIRROR_IOC_EVENT_SCOPE)
 * limits recording to invalidations overlapping its ranges. When the ring
 * is full the oldest event is dropped and the loss is counted and flagged
 * on the next event read.
 */
#include <linux/lockdep.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "events.h"

int hmm_mirror_events_init(struct hmm_mirror_events *ev)
{
	ev->ring = kcalloc(HMM_MIRROR_EVENT_RING, sizeof(*ev->ring), GFP_KERNEL);
	if (!ev->ring)
		return -ENOMEM;
	spin_lock_init(&ev->lock);
	ev->nscope = 0;
	atomic64_set(&ev->dropped, 0);
	init_waitqueue_head(&ev->wait);
	return 0;
}

void hmm_mirror_events_fini(struct hmm_mirror_events *ev)
{
	kfree(ev->ring);
	ev->ring = NULL;
}

static u32 hmm_mirror_reason(enum mmu_notifier_event event)
{
	switch (event) {
	case MMU_NOTIFY_UNMAP:
		return HMM_MIRROR_EVENT_UNMAP;
	case MMU_NOTIFY_CLEAR:
		return HMM_MIRROR_EVENT_CLEAR;
	case MMU_NOTIFY_PROTECTION_VMA:
		return HMM_MIRROR_EVENT_PROTECTION_VMA;
	case MMU_NOTIFY_PROTECTION_PAGE:
		return HMM_MIRROR_EVENT_PROTECTION_PAGE;
	case MMU_NOTIFY_SOFT_DIRTY:
		return HMM_MIRROR_EVENT_SOFT_DIRTY;
	case MMU_NOTIFY_RELEASE:
		return HMM_MIRROR_EVENT_RELEASE;
	case MMU_NOTIFY_MIGRATE:
		return HMM_MIRROR_EVENT_MIGRATE;
	case MMU_NOTIFY_EXCLUSIVE:
		return HMM_MIRROR_EVENT_EXCLUSIVE;
	default:
		return HMM_MIRROR_EVENT_OTHER;
	}
}

/* Whether the scope lets [start, end) be recorded; under ev->lock. */
static bool hmm_mirror_events_in_scope(struct hmm_mirror_events *ev,
				       unsigned long start, unsigned long end)
{
	unsigned int i;

	lockdep_assert_held(&ev->lock);
	if (!ev->nscope)
		return true;
	for (i = 0; i < ev->nscope; i++)
		if (start < ev->scope[i].end && ev->scope[i].start < end)
			return true;
	return false;
}

/*
 * Called from the invalidation callback; must not sleep. An invalidation
 * the scope leaves out is not recorded at all: it takes no sequence
 * number, so the recorded events stay gapless.
 */
void hmm_mirror_events_record(struct hmm_mirror_events *ev,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq, u64 pages)
{
	struct hmm_mirror_event *e;
	unsigned long flags;

	spin_lock_irqsave(&ev->lock, flags);
	if (!hmm_mirror_events_in_scope(ev, range->start, range->end)) {
		spin_unlock_irqrestore(&ev->lock, flags);
		return;
	}
	if (ev->count == HMM_MIRROR_EVENT_RING) {
		ev->head = (ev->head + 1) % HMM_MIRROR_EVENT_RING;
		ev->count--;
		ev->overflow = true;
		atomic64_inc(&ev->dropped);
	}
	e = &ev->ring[(ev->head + ev->count) % HMM_MIRROR_EVENT_RING];
	e->seq = ev->next_seq++;
	e->start = range->start;
	e->end = range->end;
	e->notifier_seq = cur_seq;
	e->reason = hmm_mirror_reason(range->event);
	e->flags = mmu_notifier_range_blockable(range) ?
		   HMM_MIRROR_EVENT_BLOCKABLE : 0;
	if (ev->overflow && ev->count == 0)
		e->flags |= HMM_MIRROR_EVENT_OVERFLOW;
	e->pages = pages;
	ev->count++;
	spin_unlock_irqrestore(&ev->lock, flags);
	wake_up_interruptible(&ev->wait);
}

/*
 * Adds [start, end) to the scope (the caller checked the range): 0, or
 * -ENOSPC when the scope holds HMM_MIRROR_SCOPE_RANGES ranges already.
 * Events already in the ring are left as they are.
 */
int hmm_mirror_events_scope_add(struct hmm_mirror_events *ev,
				unsigned long start, unsigned long end)
{
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&ev->lock, flags);
	if (ev->nscope == ARRAY_SIZE(ev->scope)) {
		ret = -ENOSPC;
	} else {
		ev->scope[ev->nscope].start = start;
		ev->scope[ev->nscope].end = end;
		ev->nscope++;
	}
	spin_unlock_irqrestore(&ev->lock, flags);
	return ret;
}

/* Empties the scope: every invalidation is recorded again. */
void hmm_mirror_events_scope_clear(struct hmm_mirror_events *ev)
{
	unsigned long flags;

	spin_lock_irqsave(&ev->lock, flags);
	ev->nscope = 0;
	spin_unlock_irqrestore(&ev->lock, flags);
}

static bool hmm_mirror_events_pending(struct hmm_mirror_events *ev)
{
	unsigned long flags;
	bool pending;

	spin_lock_irqsave(&ev->lock, flags);
	pending = ev->count > 0;
	spin_unlock_irqrestore(&ev->lock, flags);
	return pending;
}

ssize_t hmm_mirror_events_read(struct hmm_mirror_events *ev, char __user *buf,
			       size_t count, bool nonblock)
{
	struct hmm_mirror_event batch[16];
	size_t want = min_t(size_t, count / sizeof(batch[0]), ARRAY_SIZE(batch));
	unsigned long flags;
	size_t n;
	int ret;

	if (!want)
		return -EINVAL;
	for (;;) {
		spin_lock_irqsave(&ev->lock, flags);
		for (n = 0; n < want && ev->count; n++) {
			batch[n] = ev->ring[ev->head];
			if (n == 0 && ev->overflow) {
				batch[n].flags |= HMM_MIRROR_EVENT_OVERFLOW;
				ev->overflow = false;
			}
			ev->head = (ev->head + 1) % HMM_MIRROR_EVENT_RING;
			ev->count--;
		}
		spin_unlock_irqrestore(&ev->lock, flags);
		if (n)
			break;
		if (nonblock)
			return -EAGAIN;
		ret = wait_event_interruptible(ev->wait,
					       hmm_mirror_events_pending(ev));
		if (ret)
			return ret;
	}
	if (copy_to_user(buf, batch, n * sizeof(batch[0])))
		return -EFAULT;
	return n * sizeof(batch[0]);
}

__poll_t hmm_mirror_events_poll(struct hmm_mirror_events *ev,
				struct file *file, poll_table *wait)
{
	poll_wait(file, &ev->wait, wait);
	return hmm_mirror_events_pending(ev) ?
	       EPOLLIN | EPOLLRDNORM : 0;
}
