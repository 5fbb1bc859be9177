/* SPDX-License-Identifier: GPL-2.0 */
/* hmm_mirror event ring: the invalidations of one mirror, for read(2). */
#ifndef HMM_MIRROR_EVENTS_H
#define HMM_MIRROR_EVENTS_H

#include <linux/atomic.h>
#include <linux/mmu_notifier.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include <hmm_mirror.h>

/* One range of an event scope, [start, end), page aligned. */
struct hmm_mirror_scope_range {
	unsigned long start;
	unsigned long end;
};

struct hmm_mirror_events {
	/*
	 * Protects @ring, @head, @count, @next_seq, @overflow, @scope and
	 * @nscope. A spinlock (irqsave): recording runs in the invalidation
	 * callback, which may not sleep.
	 */
	spinlock_t lock;
	struct hmm_mirror_event *ring;
	unsigned int head;	/* index of the oldest event */
	unsigned int count;	/* events in the ring */
	u64 next_seq;		/* seq of the next event recorded */
	bool overflow;		/* events dropped since the last read */
	atomic64_t dropped;	/* events dropped since the ring was made */
	wait_queue_head_t wait;	/* readers waiting for an event */
	/*
	 * HMM_MIRROR_IOC_EVENT_SCOPE: with @nscope ranges, only invalidations
	 * overlapping one of @scope[0 .. @nscope - 1] are recorded; with none,
	 * all are.
	 */
	struct hmm_mirror_scope_range scope[HMM_MIRROR_SCOPE_RANGES];
	unsigned int nscope;
};

int hmm_mirror_events_init(struct hmm_mirror_events *ev);
void hmm_mirror_events_fini(struct hmm_mirror_events *ev);
void hmm_mirror_events_record(struct hmm_mirror_events *ev,
			      const struct mmu_notifier_range *range,
			      unsigned long cur_seq, u64 pages);
int hmm_mirror_events_scope_add(struct hmm_mirror_events *ev,
				unsigned long start, unsigned long end);
void hmm_mirror_events_scope_clear(struct hmm_mirror_events *ev);
ssize_t hmm_mirror_events_read(struct hmm_mirror_events *ev, char __user *buf,
			       size_t count, bool nonblock);
__poll_t hmm_mirror_events_poll(struct hmm_mirror_events *ev,
				struct file *file, poll_table *wait);

static inline u64 hmm_mirror_events_dropped(struct hmm_mirror_events *ev)
{
	return atomic64_read(&ev->dropped);
}

#endif /* HMM_MIRROR_EVENTS_H */
