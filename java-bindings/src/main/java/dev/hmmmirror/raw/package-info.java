/**
 * The hmm_mirror ABI spoken raw, for tests and tools that must speak raw to the kernel: a
 * fuzzer, a test of the module's argument checks, a tool that sends a command these bindings do
 * not know yet. <strong>No stability promise</strong>: this package follows
 * {@code native-headers/hmm_mirror.h} as it is, and changes whenever the header or the bindings
 * do. Everything else should use the API of {@code dev.hmmmirror} ({@code Mirror},
 * {@code Memory} ...), which checks its arguments and explains every error.
 *
 * <p>Nothing here interprets anything: a {@link dev.hmmmirror.raw.RawStruct} is a zeroed C struct
 * of the header (its {@code size} field preset to {@code sizeof}) whose every field, reserved
 * words and size included, the caller may set to any value; {@link dev.hmmmirror.raw.RawDevice}
 * issues any {@link dev.hmmmirror.raw.Command} (or any request number) with any struct, or with a
 * pointer of the caller's choosing. A refused call throws {@link dev.hmmmirror.HmmException}
 * carrying the kernel's errno and no hint.
 *
 * <pre>{@code
 * try (RawDevice dev = RawDevice.open("/dev/hmm_mirror0")) {
 *     RawStruct r = RawStruct.of(Struct.RANGE).set("addr", address).set("npages", 1).set("reserved", 3, 1);
 *     HmmException e = assertThrows(HmmException.class, () -> dev.ioctl(Command.FAULT, r));
 *     assertEquals(Errno.EINVAL.number(), e.errno());
 * }
 * }</pre>
 */
package dev.hmmmirror.raw;
