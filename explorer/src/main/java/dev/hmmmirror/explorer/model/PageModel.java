package dev.hmmmirror.explorer.model;

import dev.hmmmirror.Memory;
import java.util.Arrays;

/**
 * What the model knows of one page: whether it is mapped and how, its expected bytes, and the
 * special states a device may hold it in. The device's ordinary mappings are not modelled: the
 * kernel may drop them at any time; the invariants check them against the CPU's page table instead.
 */
public final class PageModel {
    /** The base page size in bytes. */
    public static final int SIZE = (int) Memory.pageSize();

    /** Mapped by this program (false: unmapped, a guard holds the hole). */
    boolean mapped = true;
    Memory.Protection protection = Memory.Protection.READ_WRITE;
    /** Expected bytes; null means all zero. */
    private byte[] data;
    /** The device whose memory may hold the page (-1: none). */
    int privateDevice = -1;
    /** The mirror slot that moved it there. */
    int privateSlot = -1;
    /** The mirror slot that may hold the page exclusive (-1: none). */
    int exclusiveSlot = -1;

    /** Mapped by this program (false: unmapped, a guard holds the hole). */
    public boolean mapped() {
        return mapped;
    }

    public Memory.Protection protection() {
        return protection;
    }

    /** The device whose memory may hold the page (-1: none). */
    public int privateDevice() {
        return privateDevice;
    }

    /** The mirror slot that may hold the page exclusive (-1: none). */
    public int exclusiveSlot() {
        return exclusiveSlot;
    }

    public boolean readable() {
        return mapped && protection != Memory.Protection.NONE;
    }

    public boolean writable() {
        return mapped && protection == Memory.Protection.READ_WRITE;
    }

    /** The expected bytes (a copy). */
    public byte[] bytes() {
        return data == null ? new byte[SIZE] : data.clone();
    }

    public long word(int index) {
        if (data == null) {
            return 0;
        }
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (data[index * 8 + i] & 0xff);
        }
        return v;
    }

    void setWord(int index, long value) {
        if (data == null) {
            data = new byte[SIZE];
        }
        for (int i = 0; i < 8; i++) {
            data[index * 8 + i] = (byte) (value >>> (8 * i));
        }
    }

    void setBytes(byte[] bytes) {
        data = allZero(bytes) ? null : bytes.clone();
    }

    void clear() {
        data = null;
    }

    /** The page is back in system memory and no device holds it exclusive. */
    void cpuTouched() {
        privateDevice = -1;
        privateSlot = -1;
        exclusiveSlot = -1;
    }

    private static boolean allZero(byte[] b) {
        return Arrays.mismatch(b, new byte[b.length]) < 0;
    }
}
