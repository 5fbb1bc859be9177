// SPDX-License-Identifier: GPL-2.0
/*
 * hmm_mirror: simulated devices that mirror a process address space
 * through HMM, driven from userspace by ioctls on /dev/hmm_mirrorN.
 *
 * This file holds the module lifetime, the misc devices and the ioctl
 * dispatch. The ABI lives in native-headers/hmm_mirror.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <hmm_mirror.h>

#define HMM_MIRROR_MAX_DEVICES 16

static unsigned int ndevices = 2;
module_param(ndevices, uint, 0444);
MODULE_PARM_DESC(ndevices, "number of /dev/hmm_mirrorN devices (1-16, default 2)");

struct hmm_mirror_device {
	struct miscdevice misc;
	unsigned int index;
	char name[32];
};

/* One per open(): the mirror of the opener's address space. */
struct hmm_mirror_file {
	struct hmm_mirror_device *mdev;
	struct mm_struct *mm;	/* mmgrab()ed at open, mmdrop()ed at release */
};

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

static long hmm_mirror_ioc_version(struct hmm_mirror_file *mfile,
				   void __user *uarg)
{
	struct hmm_mirror_version v;

	if (copy_from_user(&v, uarg, sizeof(v)))
		return -EFAULT;
	if (v.size != sizeof(v) || v.pad ||
	    !reserved_is_zero(v.reserved, ARRAY_SIZE(v.reserved)))
		return -EINVAL;

	v.abi_version = HMM_MIRROR_ABI_VERSION;
	v.caps = hmm_mirror_caps();
	v.page_size = PAGE_SIZE;
	v.ndevices = ndevices;
	v.device_index = mfile->mdev->index;

	if (copy_to_user(uarg, &v, sizeof(v)))
		return -EFAULT;
	return 0;
}

static int hmm_mirror_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;
	struct hmm_mirror_file *mfile;

	mfile = kzalloc(sizeof(*mfile), GFP_KERNEL);
	if (!mfile)
		return -ENOMEM;
	mfile->mdev = container_of(misc, struct hmm_mirror_device, misc);
	mfile->mm = current->mm;
	mmgrab(mfile->mm);
	file->private_data = mfile;
	return 0;
}

static int hmm_mirror_release(struct inode *inode, struct file *file)
{
	struct hmm_mirror_file *mfile = file->private_data;

	mmdrop(mfile->mm);
	kfree(mfile);
	return 0;
}

static long hmm_mirror_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct hmm_mirror_file *mfile = file->private_data;
	void __user *uarg = (void __user *)arg;

	if (current->mm != mfile->mm)
		return -EPERM;

	switch (cmd) {
	case HMM_MIRROR_IOC_VERSION:
		return hmm_mirror_ioc_version(mfile, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations hmm_mirror_fops = {
	.owner = THIS_MODULE,
	.open = hmm_mirror_open,
	.release = hmm_mirror_release,
	.unlocked_ioctl = hmm_mirror_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static void hmm_mirror_unregister(unsigned int count)
{
	while (count--)
		misc_deregister(&devices[count].misc);
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

	devices = kcalloc(ndevices, sizeof(*devices), GFP_KERNEL);
	if (!devices)
		return -ENOMEM;

	for (i = 0; i < ndevices; i++) {
		struct hmm_mirror_device *mdev = &devices[i];

		mdev->index = i;
		snprintf(mdev->name, sizeof(mdev->name), "hmm_mirror%u", i);
		mdev->misc.minor = MISC_DYNAMIC_MINOR;
		mdev->misc.name = mdev->name;
		mdev->misc.fops = &hmm_mirror_fops;
		mdev->misc.mode = 0600;
		ret = misc_register(&mdev->misc);
		if (ret) {
			pr_err("misc_register(%s) failed: %d\n", mdev->name, ret);
			hmm_mirror_unregister(i);
			kfree(devices);
			return ret;
		}
	}
	pr_info("loaded: ABI %d, %u devices, caps %#llx\n",
		HMM_MIRROR_ABI_VERSION, ndevices, hmm_mirror_caps());
	return 0;
}

static void __exit hmm_mirror_exit(void)
{
	hmm_mirror_unregister(ndevices);
	kfree(devices);
	pr_info("unloaded\n");
}

module_init(hmm_mirror_init);
module_exit(hmm_mirror_exit);

MODULE_DESCRIPTION("HMM mirror test devices driven from userspace");
MODULE_LICENSE("GPL");
