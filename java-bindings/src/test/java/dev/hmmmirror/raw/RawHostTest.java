package dev.hmmmirror.raw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.Errno;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.Memory;
import dev.hmmmirror.internal.gen.hmm_mirror_range;
import dev.hmmmirror.internal.gen.hmm_mirror_version;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The raw package on the host: structs laid out as the header says, calls that interpret nothing. */
class RawHostTest {
    private static MemorySegment view(RawStruct s) {
        return MemorySegment.ofAddress(s.address()).reinterpret(s.type().byteSize());
    }

    @Test
    void aStructIsZeroedWithItsSizePreset() {
        RawStruct r = RawStruct.of(Struct.RANGE);
        assertEquals(hmm_mirror_range.sizeof(), r.get("size"));
        assertEquals(List.of("size", "flags", "addr", "npages", "faulted", "reserved"), Struct.RANGE.fieldNames());
        for (String f : Struct.RANGE.fieldNames()) {
            if (!f.equals("size")) {
                assertEquals(0, r.get(f), f);
            }
        }
        assertEquals("struct hmm_mirror_range", Struct.RANGE.cName());
        assertTrue(!Struct.EVENT.hasSizeField() && Struct.VERSION.hasSizeField());
    }

    @Test
    void fieldsLandWhereTheGeneratedLayoutPutsThem() {
        RawStruct r = RawStruct.of(Struct.RANGE).set("addr", 0x1234_5000L).set("npages", -1L).set("flags", 1 << 7)
                .set("reserved", 3, 1L).set("size", 40);
        MemorySegment s = view(r);
        assertEquals(0x1234_5000L, hmm_mirror_range.addr(s));
        assertEquals(-1L, hmm_mirror_range.npages(s));
        assertEquals(1 << 7, hmm_mirror_range.flags(s));
        assertEquals(1L, hmm_mirror_range.reserved(s, 3));
        assertEquals(0L, hmm_mirror_range.reserved(s, 2));
        assertEquals(40, hmm_mirror_range.size(s));
        RawStruct v = RawStruct.of(Struct.VERSION).set("pad", 0x1_0000_0001L); // a u32 keeps its low bytes
        assertEquals(1, hmm_mirror_version.pad(view(v)));
        assertEquals(1, v.get("pad"));
        assertTrue(r.toString().startsWith("struct hmm_mirror_range { size=0x28"), r.toString());
    }

    @Test
    void unknownFieldsAndIndexesAreRefusedOnTheJavaSide() {
        RawStruct r = RawStruct.of(Struct.RANGE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.set("ptr", 1));
        assertTrue(e.getMessage().contains("struct hmm_mirror_range has no field ptr"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> r.set("reserved", 4, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> r.set("addr", 1, 1));
    }

    @Test
    void aPointerFieldKeepsItsBufferAndTheBufferIsAligned() {
        RawBuffer b = RawBuffer.allocate(100);
        RawStruct rw = RawStruct.of(Struct.RW).set("ptr", b);
        assertEquals(b.address(), rw.get("ptr"));
        assertEquals(0, b.address() % 4096);
        assertArrayEquals(new byte[100], b.bytes());
    }

    @Test
    void everyCommandTakesTheStructTheHeaderSays() {
        assertEquals(Struct.RANGE, Command.EXCLUSIVE.struct());
        assertEquals(Struct.RW, Command.WRITE.struct());
        assertEquals(Struct.ATOMIC, Command.ATOMIC_ADD.struct());
        assertEquals(Struct.EVENT_SCOPE, Command.EVENT_SCOPE.struct());
        assertEquals(List.of("size", "flags", "start", "end", "reserved"), Struct.EVENT_SCOPE.fieldNames(),
                "struct hmm_mirror_event_scope as the header declares it");
        assertTrue(Struct.EVENT_SCOPE.hasSizeField(), "every command struct starts with its size");
    }

    @Test
    void aRefusedCallCarriesTheErrnoAndNoInterpretation() throws Exception {
        try (RawDevice d = RawDevice.open("/dev/null")) {
            HmmException e = assertThrows(HmmException.class, () -> d.ioctl(Command.EXCLUSIVE, RawStruct.of(Struct.RANGE)));
            assertEquals(Errno.ENOTTY.number(), e.errno());
            assertEquals("ioctl HMM_MIRROR_IOC_EXCLUSIVE /dev/null failed: ENOTTY (Inappropriate ioctl for device)",
                    e.getMessage());
            e = assertThrows(HmmException.class, () -> d.ioctl(0xc018b67fL, RawStruct.of(Struct.RANGE)));
            assertEquals("ioctl 0xc018b67f", e.operation());
            assertEquals(0, d.read(RawBuffer.allocate(8)), "/dev/null reads nothing");
        }
        HmmException open = assertThrows(HmmException.class, () -> RawDevice.open("/dev/hmm_mirror_does_not_exist"));
        assertEquals(Errno.ENOENT.number(), open.errno());
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseIsAClearError() throws Exception {
        RawDevice d = RawDevice.open("/dev/null");
        d.close();
        d.close();
        assertTrue(d.isClosed());
        assertThrows(IllegalStateException.class, () -> d.ioctl(Command.VERSION, RawStruct.of(Struct.VERSION)));
        RawPipe p = RawPipe.open();
        p.close();
        p.close();
        assertThrows(IllegalStateException.class, () -> p.read(1));
    }

    @Test
    void vmspliceCarriesUserPagesThroughThePipe() throws Exception {
        try (Memory mem = Memory.anonymous(2); RawPipe pipe = RawPipe.open()) {
            byte[] data = new byte[(int) (2 * Memory.pageSize())];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 7);
            }
            mem.write(0, data);
            assertEquals(data.length, pipe.vmsplice(mem.address(), data.length));
            assertArrayEquals(data, pipe.read(data.length));
        }
    }

    @Test
    void abiLimitsAreTheHeaders() {
        assertEquals(1L << 18, Abi.MAX_PAGES);
        assertEquals(10_000_000L, Abi.MAX_DELAY_US);
        assertEquals(16, Abi.SCOPE_RANGES, "HMM_MIRROR_SCOPE_RANGES");
        assertNull(Errno.orNull(4095));
    }
}
