// SPDX-License-Identifier: GPL-2.0
/*
 * hmm_mirror: simulated devices that mirror a process address space
 * through HMM, driven from userspace by ioctls on /dev/hmm_mirrorN.
 *
 * This file holds the module lifetime, the misc devices, the checks of
 * every user argument and the ioctl dispatch. The ABI lives in
 * native-headers/hmm_mirror.h; the mirror itself in mirror.c (with its
 * device page table in pt.c), device memory in dmem.c, device-exclusive
 * access in exclusive.c, the event ring in events.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "classic.h"
#include "compat.h"
#include "mirror.h"
#include "planted.h"

#define HMM_MIRROR_MAX_DEVICES 16

static unsigned int ndevices = 2;
module_param(ndevices, uint, 0444);
MODULE_PARM_DESC(ndevices, "number of /dev/hmm_mirrorN devices (1-16, default 2)");

static bool inject_warn;
module_param(inject_warn, bool, 0644);
MODULE_PARM_DESC(inject_warn, "debug: WARN at the next open (checks that test harnesses catch kernel splats)");

static struct hmm_mirror_device *devices;

static u64 hmm_mirror_caps(void)
{
	u64 caps = 0;

	if (IS_ENABLED(CONFIG_HMM_MIRROR))
		caps |= HMM_MIRROR_CAP_MIRROR;
	if (IS_ENABLED(CONFIG_DEVICE_PRIVATE))
		caps |= HMM_MIRROR_CAP_DEVICE_PRIVATE;
	if (IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		caps |= HMM_MIRROR_CAP_THP;
	if (IS_ENABLED(CONFIG_DEVICE_PRIVATE))
		caps |= HMM_MIRROR_CAP_MIGRATE | HMM_MIRROR_CAP_EXCLUSIVE;
	if (hmm_mirror_dmem_shared_owner())
		caps |= HMM_MIRROR_CAP_SHARED_OWNER;
	if (hmm_mirror_dmem_huge())
		caps |= HMM_MIRROR_CAP_THP_MIGRATE;
	caps |= HMM_MIRROR_CAP_EVENT_SCOPE | HMM_MIRROR_CAP_MAP_ORDER;
	return caps;
}

static bool reserved_is_zero(const __u64 *reserved, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (reserved[i])
			return false;
	return true;
}

/*
 * Copies in a command struct of @size bytes and checks its size field (its
 * first __u32) and its @nreserved reserved words, which must all be zero.
 */
static int hmm_mirror_copy_in(void *arg, size_t size, const void __user *uarg,
			      const __u64 *reserved, size_t nreserved)
{
	u32 declared;

	if (copy_from_user(arg, uarg, size))
		return -EFAULT;
	memcpy(&declared, arg, sizeof(declared));
	if (declared != size || !reserved_is_zero(reserved, nreserved))
		return -EINVAL;
	return 0;
}

static long hmm_mirror_ioc_version(struct hmm_mirror *mirror,
				   void __user *uarg)
{
	struct hmm_mirror_version v;
	int ret;

	ret = hmm_mirror_copy_in(&v, sizeof(v), uarg, v.reserved,
				 ARRAY_SIZE(v.reserved));
	if (ret)
		return ret;
	if (v.pad)
		return -EINVAL;

	v.abi_version = HMM_MIRROR_ABI_VERSION;
	v.caps = hmm_mirror_caps();
	v.page_size = PAGE_SIZE;
	v.ndevices = ndevices;
	v.device_index = mirror->mdev->index;

	if (copy_to_user(uarg, &v, sizeof(v)))
		return -EFAULT;
	return 0;
}

/* A page-aligned, non-empty, bounded range inside the user address space. */
static int hmm_mirror_check_range(u64 addr, u64 npages)
{
	if (!npages || npages > HMM_MIRROR_MAX_PAGES)
		return -EINVAL;
	if (addr & ~PAGE_MASK)
		return -EINVAL;
	if (addr + (npages << PAGE_SHIFT) < addr ||
	    addr + (npages << PAGE_SHIFT) > TASK_SIZE)
		return -EINVAL;
	return 0;
}

static long hmm_mirror_ioc_fault(struct hmm_mirror *mirror, void __user *uarg)
{
	struct hmm_mirror_range r;
	int ret;

	ret = hmm_mirror_copy_in(&r, sizeof(r), uarg, r.reserved,
				 ARRAY_SIZE(r.reserved));
	if (ret)
		return ret;
	if (r.flags & ~HMM_MIRROR_FAULT_WRITE)
		return -EINVAL;
	ret = hmm_mirror_check_range(r.addr, r.npages);
	if (ret)
		return ret;
	r.faulted = 0;
	ret = hmm_mirror_fault(mirror, r.addr, r.npages,
			       r.flags & HMM_MIRROR_FAULT_WRITE, &r.faulted);
	if (copy_to_user(uarg, &r, sizeof(r)))
		return -EFAULT;
	return ret;
}

static long hmm_mirror_ioc_rw(struct hmm_mirror *mirror, void __user *uarg,
			      bool write)
{
	struct hmm_mirror_rw rw;
	int ret;

	ret = hmm_mirror_copy_in(&rw, sizeof(rw), uarg, rw.reserved,
				 ARRAY_SIZE(rw.reserved));
	if (ret)
		return ret;
	if (rw.flags)
		return -EINVAL;
	ret = hmm_mirror_check_range(rw.addr, rw.npages);
	if (ret)
		return ret;
	if (!access_ok(u64_to_user_ptr(rw.ptr), rw.npages << PAGE_SHIFT))
		return -EFAULT;
	rw.faulted = 0;
	if (write)
		ret = hmm_mirror_write(mirror, rw.addr, rw.npages,
				       u64_to_user_ptr(rw.ptr), &rw.faulted);
	else
		ret = hmm_mirror_read(mirror, rw.addr, rw.npages,
				      u64_to_user_ptr(rw.ptr), &rw.faulted);
	if (copy_to_user(uarg, &rw, sizeof(rw)))
		return -EFAULT;
	return ret;
}

static long hmm_mirror_ioc_snapshot(struct hmm_mirror *mirror,
				    void __user *uarg)
{
	struct hmm_mirror_snapshot snap;
	int ret;

	ret = hmm_mirror_copy_in(&snap, sizeof(snap), uarg, snap.reserved,
				 ARRAY_SIZE(snap.reserved));
	if (ret)
		return ret;
	if (snap.flags & ~HMM_MIRROR_SNAPSHOT_MAP_ORDER)
		return -EINVAL;
	ret = hmm_mirror_check_range(snap.addr, snap.npages);
	if (ret)
		return ret;
	if (!access_ok(u64_to_user_ptr(snap.ptr), snap.npages))
		return -EFAULT;
	return hmm_mirror_snapshot(mirror, snap.addr, snap.npages,
				   u64_to_user_ptr(snap.ptr),
				   snap.flags & HMM_MIRROR_SNAPSHOT_MAP_ORDER);
}

static long hmm_mirror_ioc_pages(struct hmm_mirror *mirror, void __user *uarg)
{
	struct hmm_mirror_pages req;
	int ret;

	ret = hmm_mirror_copy_in(&req, sizeof(req), uarg, req.reserved,
				 ARRAY_SIZE(req.reserved));
	if (ret)
		return ret;
	if (req.flags)
		return -EINVAL;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = hmm_mirror_check_range(req.addr, req.npages);
	if (ret)
		return ret;
	if (!access_ok(u64_to_user_ptr(req.ptr),
		       req.npages * sizeof(struct hmm_mirror_page)))
		return -EFAULT;
	return hmm_mirror_pages(mirror, req.addr, req.npages,
				u64_to_user_ptr(req.ptr));
}

static long hmm_mirror_ioc_counters(struct hmm_mirror *mirror,
				    void __user *uarg)
{
	struct hmm_mirror_stats *s = &mirror->stats;
	struct hmm_mirror_counters c;
	int ret;

	ret = hmm_mirror_copy_in(&c, sizeof(c), uarg, c.reserved,
				 ARRAY_SIZE(c.reserved));
	if (ret)
		return ret;
	if (c.pad)
		return -EINVAL;
	c.faults = atomic64_read(&s->faults);
	c.pages_faulted = atomic64_read(&s->pages_faulted);
	c.fault_retries = atomic64_read(&s->fault_retries);
	c.invalidations = atomic64_read(&s->invalidations);
	c.pages_invalidated = atomic64_read(&s->pages_invalidated);
	c.events_dropped = hmm_mirror_events_dropped(&mirror->events);
	c.device_reads = atomic64_read(&s->device_reads);
	c.device_writes = atomic64_read(&s->device_writes);
	c.migrated_to_device = atomic64_read(&s->migrated_to_device);
	c.migrated_to_system = atomic64_read(&s->migrated_to_system);
	c.cpu_fault_migrations =
		hmm_mirror_dmem_cpu_fault_migrations(&mirror->mdev->dmem);
	c.exclusive_grants = atomic64_read(&s->exclusive_grants);
	c.exclusive_revocations = atomic64_read(&s->exclusive_revocations);
	c.device_atomics = atomic64_read(&s->device_atomics);
	c.device_private_reads = atomic64_read(&s->device_private_reads);
	if (copy_to_user(uarg, &c, sizeof(c)))
		return -EFAULT;
	return 0;
}

static long hmm_mirror_ioc_set_delay(struct hmm_mirror *mirror,
				     void __user *uarg)
{
	struct hmm_mirror_delay d;
	int ret;

	ret = hmm_mirror_copy_in(&d, sizeof(d), uarg, d.reserved,
				 ARRAY_SIZE(d.reserved));
	if (ret)
		return ret;
	if (d.flags || d.delay_us > HMM_MIRROR_MAX_DELAY_US)
		return -EINVAL;
	hmm_mirror_set_delay(mirror, d.delay_us);
	return 0;
}

static long hmm_mirror_ioc_inject(struct hmm_mirror *mirror,
				  void __user *uarg)
{
	struct hmm_mirror_inject in;
	int ret;

	ret = hmm_mirror_copy_in(&in, sizeof(in), uarg, in.reserved,
				 ARRAY_SIZE(in.reserved));
	if (ret)
		return ret;
	if (in.flags || in.copy_delay_us > HMM_MIRROR_MAX_COPY_DELAY_US)
		return -EINVAL;
	hmm_mirror_inject_swap(&mirror->inject, &in);
	if (copy_to_user(uarg, &in, sizeof(in)))
		return -EFAULT;
	return 0;
}

static long hmm_mirror_ioc_event_scope(struct hmm_mirror *mirror,
				       void __user *uarg)
{
	struct hmm_mirror_event_scope sc;
	int ret;

	ret = hmm_mirror_copy_in(&sc, sizeof(sc), uarg, sc.reserved,
				 ARRAY_SIZE(sc.reserved));
	if (ret)
		return ret;
	switch (sc.flags) {
	case HMM_MIRROR_SCOPE_CLEAR:
		if (sc.start || sc.end)
			return -EINVAL;
		hmm_mirror_events_scope_clear(&mirror->events);
		return 0;
	case HMM_MIRROR_SCOPE_ADD:
		if ((sc.start | sc.end) & ~PAGE_MASK)
			return -EINVAL;
		if (sc.end <= sc.start || sc.end > TASK_SIZE)
			return -EINVAL;
		return hmm_mirror_events_scope_add(&mirror->events, sc.start,
						   sc.end);
	default:
		/* unknown bits, both flags or neither */
		return -EINVAL;
	}
}

static long hmm_mirror_ioc_migrate(struct hmm_mirror *mirror,
				   void __user *uarg, bool to_device)
{
	struct hmm_mirror_migrate mg;
	int ret;

	ret = hmm_mirror_copy_in(&mg, sizeof(mg), uarg, mg.reserved,
				 ARRAY_SIZE(mg.reserved));
	if (ret)
		return ret;
	if (mg.flags)
		return -EINVAL;
	ret = hmm_mirror_check_range(mg.addr, mg.npages);
	if (ret)
		return ret;
	mg.migrated = 0;
	mg.skipped = 0;
	ret = hmm_mirror_migrate(mirror, mg.addr, mg.npages, to_device,
				 &mg.migrated, &mg.skipped);
	if (copy_to_user(uarg, &mg, sizeof(mg)))
		return -EFAULT;
	return ret;
}

static long hmm_mirror_ioc_exclusive(struct hmm_mirror *mirror,
				     void __user *uarg)
{
	struct hmm_mirror_range r;
	int ret;

	ret = hmm_mirror_copy_in(&r, sizeof(r), uarg, r.reserved,
				 ARRAY_SIZE(r.reserved));
	if (ret)
		return ret;
	if (r.flags)
		return -EINVAL;
	ret = hmm_mirror_check_range(r.addr, r.npages);
	if (ret)
		return ret;
	r.faulted = 0;
	ret = hmm_mirror_exclusive(mirror, r.addr, r.npages, &r.faulted);
	if (copy_to_user(uarg, &r, sizeof(r)))
		return -EFAULT;
	return ret;
}

static long hmm_mirror_ioc_atomic_add(struct hmm_mirror *mirror,
				      void __user *uarg)
{
	struct hmm_mirror_atomic a;
	int ret;

	ret = hmm_mirror_copy_in(&a, sizeof(a), uarg, a.reserved,
				 ARRAY_SIZE(a.reserved));
	if (ret)
		return ret;
	if (a.flags || (a.addr & 7))
		return -EINVAL;
	ret = hmm_mirror_check_range(a.addr & PAGE_MASK, 1);
	if (ret)
		return ret;
	ret = hmm_mirror_atomic_add(mirror, a.addr, a.value, &a.old);
	if (ret)
		return ret;
	if (copy_to_user(uarg, &a, sizeof(a)))
		return -EFAULT;
	return 0;
}

static int hmm_mirror_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;
	struct hmm_mirror *mirror;
	int ret;

	if (!current->mm)
		return -EINVAL;
	WARN(READ_ONCE(inject_warn) && xchg(&inject_warn, false),
	     "hmm_mirror: WARN injected by the inject_warn module parameter\n");
	mirror = kzalloc_obj(*mirror, GFP_KERNEL);
	if (!mirror)
		return -ENOMEM;
	ret = hmm_mirror_init_mirror(mirror,
				     container_of(misc, struct hmm_mirror_device, misc),
				     current->mm);
	if (ret) {
		kfree(mirror);
		return ret;
	}
	hmm_mirror_aperture_init(&mirror->aperture);
	file->private_data = mirror;
	atomic_inc(&mirror->mdev->mirrors);
	return 0;
}

static int hmm_mirror_release(struct inode *inode, struct file *file)
{
	struct hmm_mirror *mirror = file->private_data;

	/* bring back whatever this mirror moved to device memory */
	hmm_mirror_dmem_evict(&mirror->mdev->dmem, mirror);
	atomic_dec(&mirror->mdev->mirrors);
	hmm_mirror_fini_mirror(mirror);
	hmm_mirror_aperture_fini(&mirror->aperture);
	kfree(mirror);
	return 0;
}

/* The device's aperture (aperture.c), for the mirror's own process only. */
static int hmm_mirror_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct hmm_mirror *mirror = file->private_data;

	if (current->mm != mirror->mm)
		return -EPERM;
	return hmm_mirror_aperture_mmap(&mirror->aperture, vma);
}

static long hmm_mirror_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct hmm_mirror *mirror = file->private_data;
	void __user *uarg = (void __user *)arg;

	if (current->mm != mirror->mm)
		return -EPERM;

	switch (cmd) {
	case HMM_MIRROR_IOC_VERSION:
		return hmm_mirror_ioc_version(mirror, uarg);
	case HMM_MIRROR_IOC_FAULT:
		return hmm_mirror_ioc_fault(mirror, uarg);
	case HMM_MIRROR_IOC_READ:
		return hmm_mirror_ioc_rw(mirror, uarg, false);
	case HMM_MIRROR_IOC_WRITE:
		return hmm_mirror_ioc_rw(mirror, uarg, true);
	case HMM_MIRROR_IOC_SNAPSHOT:
		return hmm_mirror_ioc_snapshot(mirror, uarg);
	case HMM_MIRROR_IOC_COUNTERS:
		return hmm_mirror_ioc_counters(mirror, uarg);
	case HMM_MIRROR_IOC_SET_DELAY:
		return hmm_mirror_ioc_set_delay(mirror, uarg);
	case HMM_MIRROR_IOC_MIGRATE_TO_DEV:
		return hmm_mirror_ioc_migrate(mirror, uarg, true);
	case HMM_MIRROR_IOC_MIGRATE_TO_SYS:
		return hmm_mirror_ioc_migrate(mirror, uarg, false);
	case HMM_MIRROR_IOC_EXCLUSIVE:
		return hmm_mirror_ioc_exclusive(mirror, uarg);
	case HMM_MIRROR_IOC_ATOMIC_ADD:
		return hmm_mirror_ioc_atomic_add(mirror, uarg);
	case HMM_MIRROR_IOC_PAGES:
		return hmm_mirror_ioc_pages(mirror, uarg);
	case HMM_MIRROR_IOC_INJECT:
		return hmm_mirror_ioc_inject(mirror, uarg);
	case HMM_MIRROR_IOC_EVENT_SCOPE:
		return hmm_mirror_ioc_event_scope(mirror, uarg);
	default:
		return -ENOTTY;
	}
}

static ssize_t hmm_mirror_read_events(struct file *file, char __user *buf,
				      size_t count, loff_t *ppos)
{
	struct hmm_mirror *mirror = file->private_data;

	return hmm_mirror_events_read(&mirror->events, buf, count,
				      file->f_flags & O_NONBLOCK);
}

static __poll_t hmm_mirror_poll(struct file *file, poll_table *wait)
{
	struct hmm_mirror *mirror = file->private_data;

	return hmm_mirror_events_poll(&mirror->events, file, wait);
}

/*
 * Read-only state of a device in /sys/class/misc/hmm_mirrorN/: what must
 * return to zero once every process using the device is gone, however it
 * went (exit, kill, OOM), and how many blocks of device memory can hold a
 * whole THP (all of them once every device page is free).
 */
static struct hmm_mirror_device *hmm_mirror_sysfs_device(struct device *dev)
{
	struct miscdevice *misc = dev_get_drvdata(dev);

	return container_of(misc, struct hmm_mirror_device, misc);
}

static ssize_t mirrors_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  atomic_read(&hmm_mirror_sysfs_device(dev)->mirrors));
}
static DEVICE_ATTR_RO(mirrors);

static ssize_t dmem_used_pages_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n",
			  hmm_mirror_dmem_used(&hmm_mirror_sysfs_device(dev)->dmem));
}
static DEVICE_ATTR_RO(dmem_used_pages);

static ssize_t dmem_huge_blocks_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n",
			  hmm_mirror_dmem_huge_blocks(&hmm_mirror_sysfs_device(dev)->dmem));
}
static DEVICE_ATTR_RO(dmem_huge_blocks);

static ssize_t dmem_free_huge_blocks_show(struct device *dev,
					  struct device_attribute *attr,
					  char *buf)
{
	return sysfs_emit(buf, "%lu\n",
			  hmm_mirror_dmem_free_huge_blocks(&hmm_mirror_sysfs_device(dev)->dmem));
}
static DEVICE_ATTR_RO(dmem_free_huge_blocks);

static ssize_t contract_violations_show(struct device *dev,
					struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lld\n",
			  atomic64_read(&hmm_mirror_sysfs_device(dev)->contract_violations));
}
static DEVICE_ATTR_RO(contract_violations);

/*
 * Test aid (classic.c): a process writing "N" gets classic notifiers whose
 * blocking starts sleep N ms; "N ADDR" (hex) sleeps only in the writing
 * thread's blocking starts over ADDR.
 */
static ssize_t classic_notifiers_store(struct device *dev,
				       struct device_attribute *attr,
				       const char *buf, size_t count)
{
	const char *space = strchr(buf, ' ');
	unsigned long addr = 0;
	unsigned int sleep_ms;
	char ms[16];
	size_t len;
	int ret;

	/* kstrto*: an overflowing N or ADDR is -ERANGE, not a wrapped value */
	len = space ? space - buf : strlen(buf);
	if (len >= sizeof(ms))
		return -EINVAL;
	memcpy(ms, buf, len);
	ms[len] = '\0';
	ret = kstrtouint(ms, 0, &sleep_ms);
	if (ret)
		return ret;
	if (space) {
		ret = kstrtoul(skip_spaces(space), 16, &addr);
		if (ret)
			return ret;
		if (!addr)
			return -EINVAL;
	}
	ret = hmm_mirror_classic_add(hmm_mirror_sysfs_device(dev), sleep_ms,
				     addr);
	return ret ? ret : count;
}
static DEVICE_ATTR_WO(classic_notifiers);

/* Test aid (classic.c): the reading process's refuser sleeps in progress. */
static ssize_t classic_sleeping_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n",
			  current->mm ? hmm_mirror_classic_sleeping(current->mm) : 0);
}
static DEVICE_ATTR_RO(classic_sleeping);

static struct attribute *hmm_mirror_attrs[] = {
	&dev_attr_contract_violations.attr,
	&dev_attr_classic_notifiers.attr,
	&dev_attr_classic_sleeping.attr,
	&dev_attr_mirrors.attr,
	&dev_attr_dmem_used_pages.attr,
	&dev_attr_dmem_huge_blocks.attr,
	&dev_attr_dmem_free_huge_blocks.attr,
	NULL,
};
ATTRIBUTE_GROUPS(hmm_mirror);

static const struct file_operations hmm_mirror_fops = {
	.owner = THIS_MODULE,
	.open = hmm_mirror_open,
	.release = hmm_mirror_release,
	.read = hmm_mirror_read_events,
	.poll = hmm_mirror_poll,
	.unlocked_ioctl = hmm_mirror_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = hmm_mirror_mmap,
};

static void hmm_mirror_unregister(unsigned int count)
{
	while (count--) {
		misc_deregister(&devices[count].misc);
		hmm_mirror_dmem_fini(&devices[count].dmem);
	}
}

static int __init hmm_mirror_init(void)
{
	unsigned int i;
	int ret;

	if (ndevices < 1 || ndevices > HMM_MIRROR_MAX_DEVICES) {
		pr_err("ndevices=%u out of range 1-%d\n", ndevices,
		       HMM_MIRROR_MAX_DEVICES);
		return -EINVAL;
	}
	ret = hmm_mirror_planted_check();
	if (ret)
		return ret;
	ret = hmm_mirror_classic_init();
	if (ret)
		return ret;

	devices = kcalloc(ndevices, sizeof(*devices), GFP_KERNEL);
	if (!devices) {
		hmm_mirror_classic_exit();
		return -ENOMEM;
	}

	for (i = 0; i < ndevices; i++) {
		struct hmm_mirror_device *mdev = &devices[i];

		mdev->index = i;
		snprintf(mdev->name, sizeof(mdev->name), "hmm_mirror%u", i);
		hmm_mirror_dmem_init(&mdev->dmem, mdev->name);
		mdev->misc.minor = MISC_DYNAMIC_MINOR;
		mdev->misc.name = mdev->name;
		mdev->misc.fops = &hmm_mirror_fops;
		mdev->misc.mode = 0600;
		mdev->misc.groups = hmm_mirror_groups;
		ret = misc_register(&mdev->misc);
		if (ret) {
			pr_err("misc_register(%s) failed: %d\n", mdev->name, ret);
			hmm_mirror_unregister(i);
			kfree(devices);
			hmm_mirror_classic_exit();
			return ret;
		}
	}
	pr_info("loaded: ABI %d, %u devices, caps %#llx\n",
		HMM_MIRROR_ABI_VERSION, ndevices, hmm_mirror_caps());
	return 0;
}

static void __exit hmm_mirror_exit(void)
{
	/*
	 * The devices go first: their removal waits for sysfs writers, so no
	 * classic_notifiers pair is added after hmm_mirror_classic_exit() took
	 * the last one; the pairs' callbacks still count in devices[] until
	 * it is freed.
	 */
	hmm_mirror_unregister(ndevices);
	hmm_mirror_classic_exit();
	kfree(devices);
	pr_info("unloaded\n");
}

module_init(hmm_mirror_init);
module_exit(hmm_mirror_exit);

MODULE_DESCRIPTION("HMM mirror test devices driven from userspace");
MODULE_LICENSE("GPL");
