package dev.hmmmirror.raw;

import dev.hmmmirror.internal.gen.HmmMirrorH;

/** Limits of native-headers/hmm_mirror.h, for callers that build commands at (or past) them. */
public final class Abi {
    /** {@code HMM_MIRROR_ABI_VERSION} these bindings were generated for. */
    public static final int VERSION = HmmMirrorH.HMM_MIRROR_ABI_VERSION();
    /** {@code HMM_MIRROR_MAX_PAGES}: the largest range one command accepts. */
    public static final long MAX_PAGES = HmmMirrorH.HMM_MIRROR_MAX_PAGES();
    /** {@code HMM_MIRROR_MAX_DELAY_US}: the largest device delay. */
    public static final long MAX_DELAY_US = HmmMirrorH.HMM_MIRROR_MAX_DELAY_US();
    /** {@code HMM_MIRROR_EVENT_RING}: events a mirror holds before it drops the oldest. */
    public static final int EVENT_RING = HmmMirrorH.HMM_MIRROR_EVENT_RING();
    /** {@code HMM_MIRROR_SCOPE_RANGES}: ranges a mirror's event scope holds; one more is {@code ENOSPC}. */
    public static final int SCOPE_RANGES = HmmMirrorH.HMM_MIRROR_SCOPE_RANGES();

    private Abi() {}
}
