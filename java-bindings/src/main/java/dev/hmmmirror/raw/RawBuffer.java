package dev.hmmmirror.raw;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Zeroed native bytes whose address a raw command may carry (the {@code ptr} of READ, WRITE,
 * SNAPSHOT) or a raw read may fill. The memory is freed once the buffer is unreachable: a
 * {@link RawStruct} that points to it through {@link RawStruct#set(String, RawBuffer)} keeps it
 * reachable.
 */
public final class RawBuffer {
    private final MemorySegment segment;

    private RawBuffer(MemorySegment segment) {
        this.segment = segment;
    }

    /**
     * {@code bytes} zeroed bytes, aligned to the system's page size (4 KiB, 16 KiB or 64 KiB): the module
     * pins a page-aligned buffer and copies an unaligned one through a bounce page.
     *
     * @param bytes size in bytes, {@code > 0}; READ and WRITE need {@code npages} pages' worth
     * @return the buffer
     * @throws IllegalArgumentException when {@code bytes} is not positive
     */
    public static RawBuffer allocate(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("bytes must be > 0, got " + bytes);
        }
        return new RawBuffer(Arena.ofAuto().allocate(bytes, dev.hmmmirror.Memory.pageSize()));
    }

    /**
     * The first byte's address.
     *
     * @return the address to put in a {@code ptr} field (valid while this buffer is reachable)
     */
    public long address() {
        return segment.address();
    }

    /**
     * Size in bytes.
     *
     * @return the size given to {@link #allocate}
     */
    public long byteSize() {
        return segment.byteSize();
    }

    /**
     * A copy of the whole buffer.
     *
     * @return {@link #byteSize()} bytes
     * @throws IllegalStateException when the buffer is too large for one array
     */
    public byte[] bytes() {
        return segment.toArray(ValueLayout.JAVA_BYTE);
    }

    /**
     * A copy of {@code length} bytes from {@code offset}.
     *
     * @param offset byte offset from {@link #address()}
     * @param length number of bytes
     * @return the bytes
     * @throws IndexOutOfBoundsException when they are not wholly inside the buffer
     */
    public byte[] bytes(long offset, int length) {
        return segment.asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE);
    }

    /**
     * The native-order 64-bit word at {@code offset}.
     *
     * @param offset byte offset from {@link #address()}; any alignment
     * @return the word
     * @throws IndexOutOfBoundsException when the word is not wholly inside the buffer
     */
    public long getLong(long offset) {
        return segment.get(ValueLayout.JAVA_LONG_UNALIGNED, offset);
    }

    /**
     * The native-order 32-bit word at {@code offset}, e.g. a {@code __u32} field of an event read
     * into this buffer ({@link Struct#offset(String)}).
     *
     * @param offset byte offset from {@link #address()}; any alignment
     * @return the word (as Java's signed int)
     * @throws IndexOutOfBoundsException when the word is not wholly inside the buffer
     */
    public int getInt(long offset) {
        return segment.get(ValueLayout.JAVA_INT_UNALIGNED, offset);
    }

    /**
     * Stores a native-order 64-bit word at {@code offset}; returns this buffer.
     *
     * @param offset byte offset from {@link #address()}; any alignment
     * @param value  the word to store
     * @return this buffer
     * @throws IndexOutOfBoundsException when the word is not wholly inside the buffer
     */
    public RawBuffer setLong(long offset, long value) {
        segment.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, value);
        return this;
    }

    /**
     * Stores {@code data} at {@code offset}; returns this buffer.
     *
     * @param offset byte offset from {@link #address()}
     * @param data   the bytes to store
     * @return this buffer
     * @throws IndexOutOfBoundsException when they do not fit inside the buffer
     */
    public RawBuffer set(long offset, byte[] data) {
        MemorySegment.copy(data, 0, segment, ValueLayout.JAVA_BYTE, offset, data.length);
        return this;
    }

    MemorySegment segment() {
        return segment;
    }

    @Override
    public String toString() {
        return "RawBuffer[0x" + Long.toHexString(address()) + ", " + byteSize() + " bytes]";
    }
}
