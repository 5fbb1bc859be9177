/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hmm_mirror: userspace ABI of the hmm_mirror kernel module.
 *
 * This header is the single source of truth for the C module (kmod/) and
 * the Java bindings (java-bindings/, generated from it by jextract).
 *
 * Rules every command follows:
 *  - the struct starts with a __u32 size field that the caller sets to
 *    sizeof(struct) as it knows it; a size the module does not know gets
 *    -EINVAL;
 *  - reserved fields must be zero on input, or the command fails with
 *    -EINVAL; the module zeroes them on output;
 *  - unknown flag bits are rejected with -EINVAL;
 *  - a command issued from a process whose mm is not the one that opened
 *    the device file fails with -EPERM.
 */
#ifndef _UAPI_LINUX_HMM_MIRROR_H
#define _UAPI_LINUX_HMM_MIRROR_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* Bumped on any incompatible change of this header. */
#define HMM_MIRROR_ABI_VERSION 1

/* Device nodes are /dev/hmm_mirror0 .. /dev/hmm_mirror<ndevices - 1>. */
#define HMM_MIRROR_DEVICE_PREFIX "/dev/hmm_mirror"

/*
 * Capability bits reported by HMM_MIRROR_IOC_VERSION.
 *
 * HMM_MIRROR_CAP_MIRROR: the kernel has CONFIG_HMM_MIRROR; mirroring works.
 * HMM_MIRROR_CAP_DEVICE_PRIVATE: the kernel has CONFIG_DEVICE_PRIVATE;
 *	device-private memory can exist.
 * HMM_MIRROR_CAP_THP: the kernel has CONFIG_TRANSPARENT_HUGEPAGE.
 */
#define HMM_MIRROR_CAP_MIRROR		(1ULL << 0)
#define HMM_MIRROR_CAP_DEVICE_PRIVATE	(1ULL << 1)
#define HMM_MIRROR_CAP_THP		(1ULL << 2)

/**
 * struct hmm_mirror_version - HMM_MIRROR_IOC_VERSION argument
 * @size: in: sizeof(struct hmm_mirror_version)
 * @abi_version: out: HMM_MIRROR_ABI_VERSION of the loaded module
 * @caps: out: HMM_MIRROR_CAP_* bits
 * @page_size: out: PAGE_SIZE of the running kernel
 * @ndevices: out: number of /dev/hmm_mirror* devices
 * @device_index: out: index N of the /dev/hmm_mirrorN this file refers to
 * @pad: must be zero
 * @reserved: must be zero
 */
struct hmm_mirror_version {
	__u32 size;
	__u32 abi_version;
	__u64 caps;
	__u32 page_size;
	__u32 ndevices;
	__u32 device_index;
	__u32 pad;
	__u64 reserved[4];
};

#define HMM_MIRROR_IOC_MAGIC 0xB6

#define HMM_MIRROR_IOC_VERSION \
	_IOWR(HMM_MIRROR_IOC_MAGIC, 0x00, struct hmm_mirror_version)

#endif /* _UAPI_LINUX_HMM_MIRROR_H */
