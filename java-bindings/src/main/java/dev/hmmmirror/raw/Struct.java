package dev.hmmmirror.raw;

import dev.hmmmirror.internal.gen.hmm_mirror_atomic;
import dev.hmmmirror.internal.gen.hmm_mirror_counters;
import dev.hmmmirror.internal.gen.hmm_mirror_delay;
import dev.hmmmirror.internal.gen.hmm_mirror_event;
import dev.hmmmirror.internal.gen.hmm_mirror_event_scope;
import dev.hmmmirror.internal.gen.hmm_mirror_inject;
import dev.hmmmirror.internal.gen.hmm_mirror_migrate;
import dev.hmmmirror.internal.gen.hmm_mirror_pages;
import dev.hmmmirror.internal.gen.hmm_mirror_range;
import dev.hmmmirror.internal.gen.hmm_mirror_rw;
import dev.hmmmirror.internal.gen.hmm_mirror_snapshot;
import dev.hmmmirror.internal.gen.hmm_mirror_version;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.SequenceLayout;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The structs of native-headers/hmm_mirror.h, with their fields as the C compiler lays them out. */
public enum Struct {
    /** {@code struct hmm_mirror_version}: argument of {@link Command#VERSION}. */
    VERSION,
    /** {@code struct hmm_mirror_range}: argument of {@link Command#FAULT} and {@link Command#EXCLUSIVE}. */
    RANGE,
    /** {@code struct hmm_mirror_rw}: argument of {@link Command#READ} and {@link Command#WRITE}. */
    RW,
    /** {@code struct hmm_mirror_snapshot}: argument of {@link Command#SNAPSHOT}. */
    SNAPSHOT,
    /** {@code struct hmm_mirror_counters}: argument of {@link Command#COUNTERS}. */
    COUNTERS,
    /** {@code struct hmm_mirror_delay}: argument of {@link Command#SET_DELAY}. */
    DELAY,
    /** {@code struct hmm_mirror_event}: one invalidation as {@code read(2)} returns it; no {@code size} field. */
    EVENT,
    /** {@code struct hmm_mirror_migrate}: argument of {@link Command#MIGRATE_TO_DEV} and {@code MIGRATE_TO_SYS}. */
    MIGRATE,
    /** {@code struct hmm_mirror_atomic}: argument of {@link Command#ATOMIC_ADD}. */
    ATOMIC,
    /** {@code struct hmm_mirror_pages}: argument of {@link Command#PAGES}. */
    PAGES,
    /** {@code struct hmm_mirror_inject}: argument of {@link Command#INJECT}. */
    INJECT,
    /** {@code struct hmm_mirror_event_scope}: argument of {@link Command#EVENT_SCOPE}. */
    EVENT_SCOPE;

    /** One field: {@code count} words of {@code width} bytes at {@code offset} (count 1 unless an array). */
    record Field(String name, long offset, int width, long count) {}

    /** The layout and its named fields, made on first use: one struct's, not all twelve at once. */
    private record Shape(GroupLayout layout, Map<String, Field> fields) {}

    private volatile Shape shape;

    private Shape shape() {
        Shape s = shape;
        if (s == null) {
            s = shape = shapeOf(layoutOf(this)); // the same on every thread: a race only repeats the work
        }
        return s;
    }

    // The generated classes are loaded on first use: each one's initialisation builds its layout and
    // field selectors, seconds for all twelve in an interpreted or C1 JVM under TCG (docs/performance.md, 'Boot').
    private static GroupLayout layoutOf(Struct s) {
        return switch (s) {
            case VERSION -> hmm_mirror_version.layout();
            case RANGE -> hmm_mirror_range.layout();
            case RW -> hmm_mirror_rw.layout();
            case SNAPSHOT -> hmm_mirror_snapshot.layout();
            case COUNTERS -> hmm_mirror_counters.layout();
            case DELAY -> hmm_mirror_delay.layout();
            case EVENT -> hmm_mirror_event.layout();
            case MIGRATE -> hmm_mirror_migrate.layout();
            case ATOMIC -> hmm_mirror_atomic.layout();
            case PAGES -> hmm_mirror_pages.layout();
            case INJECT -> hmm_mirror_inject.layout();
            case EVENT_SCOPE -> hmm_mirror_event_scope.layout();
        };
    }

    private static Shape shapeOf(GroupLayout layout) {
        Map<String, Field> fields = new LinkedHashMap<>();
        for (MemoryLayout member : layout.memberLayouts()) {
            if (member.name().isEmpty()) {
                continue; // padding
            }
            String name = member.name().get();
            long offset = layout.byteOffset(MemoryLayout.PathElement.groupElement(name));
            if (member instanceof SequenceLayout seq) {
                fields.put(name, new Field(name, offset, (int) seq.elementLayout().byteSize(), seq.elementCount()));
            } else {
                fields.put(name, new Field(name, offset, (int) ((ValueLayout) member).byteSize(), 1));
            }
        }
        return new Shape(layout, java.util.Collections.unmodifiableMap(fields));
    }

    /**
     * The C name, e.g. {@code struct hmm_mirror_range}.
     *
     * @return {@code "struct "} and the struct's tag
     */
    public String cName() {
        return "struct " + shape().layout().name().orElse("hmm_mirror_" + name().toLowerCase());
    }

    /**
     * {@code sizeof} the struct.
     *
     * @return the size in bytes, padding included: the value the {@code size} field must hold
     */
    public long byteSize() {
        return shape().layout().byteSize();
    }

    /**
     * The field names in declaration order, as in the header.
     *
     * @return the names {@link RawStruct#set(String, long)} and {@link RawStruct#get(String)} take (unmodifiable)
     */
    public List<String> fieldNames() {
        return List.copyOf(shape().fields().keySet());
    }

    /**
     * How many elements field {@code name} has: 1, or the length of an array such as {@code reserved}.
     *
     * @param name the field's name in the header
     * @return the element count
     * @throws IllegalArgumentException when the struct has no such field
     */
    public int elements(String name) {
        return (int) field(name).count();
    }

    /**
     * Where field {@code name} starts: {@code offsetof} in the header, for decoding structs that
     * arrive as bytes, such as the events {@link RawDevice#read(RawBuffer)} returns
     * ({@link RawBuffer#getLong}, {@link RawBuffer#getInt}).
     *
     * @param name the field's name in the header
     * @return its byte offset from the start of the struct
     * @throws IllegalArgumentException when the struct has no such field
     */
    public long offset(String name) {
        return field(name).offset();
    }

    /**
     * Whether the struct starts with the {@code __u32 size} field every command struct has.
     *
     * @return {@code true} for every struct but {@link #EVENT}
     */
    public boolean hasSizeField() {
        return shape().fields().containsKey("size");
    }

    Field field(String name) {
        Field f = shape().fields().get(name);
        if (f == null) {
            throw new IllegalArgumentException(cName() + " has no field " + name + "; it has " + shape().fields().keySet());
        }
        return f;
    }

    long alignment() {
        return shape().layout().byteAlignment();
    }
}
