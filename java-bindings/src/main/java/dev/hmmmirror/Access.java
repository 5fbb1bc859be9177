package dev.hmmmirror;

/** The access a device fault asks for. */
public enum Access {
    /** Read: the device page table maps the page read-only unless the CPU mapping is writable. */
    READ,
    /** Write: fails with {@link Errno#EPERM} on a read-only mapping; breaks copy-on-write first. */
    WRITE
}
