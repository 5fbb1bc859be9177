// SPDX-License-Identifier: GPL-2.0
/*
 * Prints the C view of the hmm_mirror ABI as "name value" lines, one per
 * struct size, field offset, ioctl number and constant. LayoutProbeTest
 * compiles it against native-headers/ and compares every line with the
 * jextract bindings.
 */
#include <stddef.h>
#include <stdio.h>
#include <hmm_mirror.h>

#define SIZE(s) printf("sizeof.%s %zu\n", #s, sizeof(struct s))
#define OFF(s, f) printf("offsetof.%s.%s %zu\n", #s, #f, offsetof(struct s, f))
#define CONST(c) printf("const.%s %llu\n", #c, (unsigned long long)(c))

int main(void)
{
	SIZE(hmm_mirror_version);
	OFF(hmm_mirror_version, size);
	OFF(hmm_mirror_version, abi_version);
	OFF(hmm_mirror_version, caps);
	OFF(hmm_mirror_version, page_size);
	OFF(hmm_mirror_version, ndevices);
	OFF(hmm_mirror_version, device_index);
	OFF(hmm_mirror_version, pad);
	OFF(hmm_mirror_version, reserved);
	CONST(HMM_MIRROR_ABI_VERSION);
	CONST(HMM_MIRROR_IOC_MAGIC);
	CONST(HMM_MIRROR_IOC_VERSION);
	CONST(HMM_MIRROR_CAP_MIRROR);
	CONST(HMM_MIRROR_CAP_DEVICE_PRIVATE);
	CONST(HMM_MIRROR_CAP_THP);
	return 0;
}
