package dev.hmmmirror.raw;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * One of the header's structs in native memory, zeroed, with its {@code size} field preset to
 * {@code sizeof}: the argument of a raw command. Every field, reserved words and {@code size}
 * included, may be set to any value; a value wider than the field keeps its low bytes, as a C
 * assignment would. Fields go by their names in the header ({@code "addr"}, {@code "npages"},
 * {@code "reserved"} ...); {@link Struct#fieldNames()} lists them.
 *
 * <p>The memory is freed once the struct is unreachable.
 */
public final class RawStruct {
    private final Struct type;
    private final MemorySegment segment;
    /** Buffers this struct points to: reachable as long as the struct is. */
    private final List<RawBuffer> pointees = new ArrayList<>();

    private RawStruct(Struct type) {
        this.type = type;
        this.segment = Arena.ofAuto().allocate(type.byteSize(), type.alignment());
        if (type.hasSizeField()) {
            set("size", type.byteSize());
        }
    }

    /**
     * A zeroed {@code type} with {@code size = sizeof(type)}.
     *
     * @param type which struct of the header
     * @return the struct, every other field (reserved words included) zero
     */
    public static RawStruct of(Struct type) {
        return new RawStruct(type);
    }

    /**
     * Which struct this is.
     *
     * @return the type given to {@link #of}
     */
    public Struct type() {
        return type;
    }

    /**
     * Stores {@code value} in {@code field} (its low bytes, for a 32-bit field).
     *
     * @param field the field's name in the header; for an array, its element 0
     * @param value the value, truncated to the field's width
     * @return this struct
     * @throws IllegalArgumentException when the struct has no such field
     */
    public RawStruct set(String field, long value) {
        return set(field, 0, value);
    }

    /**
     * Stores {@code value} in element {@code index} of the array {@code field} (e.g. {@code reserved}).
     *
     * @param field the field's name in the header
     * @param index the element, 0 .. {@link Struct#elements(String)} - 1
     * @param value the value, truncated to the element's width
     * @return this struct
     * @throws IllegalArgumentException  when the struct has no such field
     * @throws IndexOutOfBoundsException when {@code index} is outside the field
     */
    public RawStruct set(String field, int index, long value) {
        Struct.Field f = element(field, index);
        long offset = f.offset() + (long) index * f.width();
        if (f.width() == Integer.BYTES) {
            segment.set(ValueLayout.JAVA_INT, offset, (int) value);
        } else {
            segment.set(ValueLayout.JAVA_LONG, offset, value);
        }
        return this;
    }

    /**
     * Stores {@code buffer}'s address in the pointer {@code field}, and keeps the buffer alive.
     *
     * @param field  the field's name in the header, normally {@code "ptr"} (any field is accepted)
     * @param buffer the buffer whose address to store; reachable for as long as this struct is
     * @return this struct
     * @throws IllegalArgumentException when the struct has no such field
     */
    public RawStruct set(String field, RawBuffer buffer) {
        pointees.add(buffer);
        return set(field, buffer.address());
    }

    /**
     * The value of {@code field} (a 32-bit field zero-extended).
     *
     * @param field the field's name in the header; for an array, its element 0
     * @return the value, as the kernel left it after a command
     * @throws IllegalArgumentException when the struct has no such field
     */
    public long get(String field) {
        return get(field, 0);
    }

    /**
     * Element {@code index} of the array {@code field}.
     *
     * @param field the field's name in the header
     * @param index the element, 0 .. {@link Struct#elements(String)} - 1
     * @return the value (a 32-bit element zero-extended)
     * @throws IllegalArgumentException  when the struct has no such field
     * @throws IndexOutOfBoundsException when {@code index} is outside the field
     */
    public long get(String field, int index) {
        Struct.Field f = element(field, index);
        long offset = f.offset() + (long) index * f.width();
        return f.width() == Integer.BYTES ? Integer.toUnsignedLong(segment.get(ValueLayout.JAVA_INT, offset))
                : segment.get(ValueLayout.JAVA_LONG, offset);
    }

    private Struct.Field element(String field, int index) {
        Struct.Field f = type.field(field);
        if (index < 0 || index >= f.count()) {
            throw new IndexOutOfBoundsException(type.cName() + "." + field + " has " + f.count()
                    + (f.count() == 1 ? " element" : " elements") + ", not index " + index);
        }
        return f;
    }

    /**
     * The struct's address (valid while this object is reachable).
     *
     * @return the address {@link RawDevice#ioctl(Command, RawStruct)} passes to the kernel; usable with
     *         {@link RawDevice#ioctlAt}
     */
    public long address() {
        return segment.address();
    }

    MemorySegment segment() {
        return segment;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(type.cName()).append(" {");
        for (String name : type.fieldNames()) {
            Struct.Field f = type.field(name);
            b.append(' ').append(name).append('=');
            for (int i = 0; i < f.count(); i++) {
                b.append(i == 0 ? "" : ",").append("0x").append(Long.toHexString(get(name, i)));
            }
        }
        return b.append(" }").toString();
    }
}
