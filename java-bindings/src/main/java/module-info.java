/**
 * Java bindings of the hmm_mirror kernel module ({@code /dev/hmm_mirrorN}).
 *
 * <p>{@code dev.hmmmirror} is the API: devices, mirrors, memory, page states, invalidations,
 * migration and exclusive access, with errors that carry the errno and say what to do.
 * {@code dev.hmmmirror.raw} speaks the ABI raw, for tests and tools that must send what the API
 * refuses to; it has no stability promise. The jextract output ({@code dev.hmmmirror.internal.gen})
 * and the FFM calls ({@code dev.hmmmirror.internal}) are not exported.
 *
 * <p>The module calls into libc through FFM: run with {@code --enable-native-access=dev.hmmmirror}
 * (on the module path) or {@code --enable-native-access=ALL-UNNAMED} (on the class path).
 */
module dev.hmmmirror {
    exports dev.hmmmirror;
    exports dev.hmmmirror.raw;
}
