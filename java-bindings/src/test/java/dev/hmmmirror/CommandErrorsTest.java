package dev.hmmmirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.raw.Command;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Bug 4 of issue 10: what an errno means depends on the command and on what the kernel can do.
 * EOPNOTSUPP in particular is "this kernel lacks the option" only for commands whose capability
 * the module does not report; from EXCLUSIVE and ATOMIC_ADD on a kernel that has it, it is
 * make_device_exclusive() refusing a page (native-headers/hmm_mirror.h).
 */
class CommandErrorsTest {
    private static final Set<Capability> SID = EnumSet.allOf(Capability.class);
    private static final Set<Capability> NO_DEVICE_PRIVATE = EnumSet.of(Capability.MIRROR, Capability.THP);

    private static HmmException error(Command command, Errno errno, Set<Capability> capabilities) {
        HmmException e = CommandErrors.exception(command, "/dev/hmm_mirror0", errno.number(), capabilities);
        assertEquals(errno.number(), e.errno(), "the errno is carried as the kernel returned it");
        assertTrue(e.getMessage().contains(errno.name()), "the message names the errno: " + e.getMessage());
        assertTrue(e.getMessage().startsWith("ioctl " + command.ioctlName() + " /dev/hmm_mirror0 failed"),
                e.getMessage());
        return e;
    }

    private static void assertRefusedPageNotMissingOption(Command command) {
        HmmException e = error(command, Errno.EOPNOTSUPP, SID);
        assertFalse(e instanceof MissingCapabilityException,
                command + ": the kernel has device-exclusive access, yet reported as missing: " + e.getMessage());
        assertFalse(e.getMessage().contains("CONFIG_DEVICE_PRIVATE"), e.getMessage());
        assertTrue(e.getMessage().contains("make_device_exclusive") && e.getMessage().contains("anonymous"),
                "says which pages the kernel refuses: " + e.getMessage());
    }

    private static void assertMissing(Command command, Capability expected) {
        HmmException e = error(command, Errno.EOPNOTSUPP, NO_DEVICE_PRIVATE);
        MissingCapabilityException m = assertInstanceOf(MissingCapabilityException.class, e, e.getMessage());
        assertEquals(expected, m.capability(), "the capability the module reports for " + command);
        assertTrue(e.getMessage().contains("CONFIG_DEVICE_PRIVATE=y"), e.getMessage());
    }

    @Test
    void exclusiveEopnotsuppOnAKernelWithExclusiveIsARefusedPage() {
        assertRefusedPageNotMissingOption(Command.EXCLUSIVE);
    }

    @Test
    void atomicAddEopnotsuppOnAKernelWithExclusiveIsARefusedPage() {
        assertRefusedPageNotMissingOption(Command.ATOMIC_ADD);
    }

    @Test
    void exclusiveEopnotsuppWithoutTheCapabilityIsMissingExclusive() {
        assertMissing(Command.EXCLUSIVE, Capability.EXCLUSIVE);
    }

    @Test
    void atomicAddEopnotsuppWithoutTheCapabilityIsMissingExclusive() {
        assertMissing(Command.ATOMIC_ADD, Capability.EXCLUSIVE);
    }

    @Test
    void migrationEopnotsuppWithoutTheCapabilityIsMissingMigrate() {
        assertMissing(Command.MIGRATE_TO_DEV, Capability.MIGRATE);
        assertMissing(Command.MIGRATE_TO_SYS, Capability.MIGRATE);
    }

    @Test
    void eopnotsuppFromACommandThatNeedsNoCapabilityClaimsNoMissingOption() {
        for (Command c : new Command[] {Command.VERSION, Command.FAULT, Command.READ, Command.WRITE,
            Command.SNAPSHOT, Command.COUNTERS, Command.SET_DELAY}) {
            HmmException e = error(c, Errno.EOPNOTSUPP, NO_DEVICE_PRIVATE);
            assertFalse(e instanceof MissingCapabilityException, c + ": " + e.getMessage());
        }
        HmmException e = error(Command.MIGRATE_TO_DEV, Errno.EOPNOTSUPP, SID);
        assertFalse(e instanceof MissingCapabilityException, "the module reports CAP_MIGRATE: " + e.getMessage());
    }

    @Test
    void epermFromExclusiveAndAtomicsIsAReadOnlyMapping() {
        for (Command c : new Command[] {Command.EXCLUSIVE, Command.ATOMIC_ADD, Command.FAULT, Command.WRITE}) {
            assertTrue(error(c, Errno.EPERM, SID).getMessage().contains("without write permission"), c.name());
        }
        assertTrue(error(Command.SNAPSHOT, Errno.EPERM, SID).getMessage().contains("another process"));
    }

    @Test
    void einvalFromMigrationToTheDeviceIsSharedOrProtNoneMemory() {
        String m = error(Command.MIGRATE_TO_DEV, Errno.EINVAL, SID).getMessage();
        assertTrue(m.contains("only private memory") && m.contains("shared mapping") && m.contains("read permission"), m);
    }

    @Test
    void einvalFromFaultInjectionNamesTheDelayLimit() {
        String m = error(Command.INJECT, Errno.EINVAL, SID).getMessage();
        assertTrue(m.contains("copy delay must be 0..100000 microseconds"), m);
    }

    @Test
    void efaultFromMigrationIsARangeWithNothingMapped() {
        assertTrue(error(Command.MIGRATE_TO_DEV, Errno.EFAULT, SID).getMessage().contains("nothing in the range"));
    }

    @Test
    void einvalFromAtomicAddIsAMisalignedWord() {
        assertTrue(error(Command.ATOMIC_ADD, Errno.EINVAL, SID).getMessage().contains("8-byte aligned"));
    }

    @Test
    void einvalFromSetDelayIsADelayOutOfRange() {
        assertTrue(error(Command.SET_DELAY, Errno.EINVAL, SID).getMessage().contains("10000000"));
    }

    @Test
    void ebusyFromExclusiveIsAPageThatKeptChanging() {
        assertTrue(error(Command.EXCLUSIVE, Errno.EBUSY, SID).getMessage().contains("retry"));
    }

    @Test
    void enomemFromMigrationToTheDeviceIsDeviceMemoryExhausted() {
        assertTrue(error(Command.MIGRATE_TO_DEV, Errno.ENOMEM, SID).getMessage().contains("dmem_mib"));
    }

    @Test
    void eventScopeEnottyFromAModuleWithoutTheCapabilityIsAnOlderModule() {
        HmmException e = error(Command.EVENT_SCOPE, Errno.ENOTTY, NO_DEVICE_PRIVATE);
        MissingCapabilityException m = assertInstanceOf(MissingCapabilityException.class, e,
                "a module that does not report EVENT_SCOPE predates the command: " + e.getMessage());
        assertEquals(Capability.EVENT_SCOPE, m.capability(), "the capability the command needs");
        assertTrue(e.getMessage().contains("hmm_mirror.ko") && e.getMessage().contains("older than these bindings"),
                "names the module, not a kernel option: " + e.getMessage());
        assertFalse(e.getMessage().contains("=y"), "no kernel option provides EVENT_SCOPE: " + e.getMessage());
    }

    @Test
    void eventScopeEnottyFromAModuleWithTheCapabilityIsNoMissingCapability() {
        HmmException e = error(Command.EVENT_SCOPE, Errno.ENOTTY, SID);
        assertFalse(e instanceof MissingCapabilityException, "the module reports EVENT_SCOPE: " + e.getMessage());
    }

    @Test
    void enottyFromACommandWhoseCapabilityIsAKernelOptionClaimsNoMissingOption() {
        for (Command c : new Command[] {Command.MIGRATE_TO_DEV, Command.EXCLUSIVE}) {
            HmmException e = error(c, Errno.ENOTTY, NO_DEVICE_PRIVATE);
            assertFalse(e instanceof MissingCapabilityException,
                    c + ": ENOTTY is not how a kernel without CONFIG_DEVICE_PRIVATE refuses: " + e.getMessage());
        }
    }

    @Test
    void enospcFromEventScopeSaysTheLimitAndHowToMakeRoom() {
        String m = error(Command.EVENT_SCOPE, Errno.ENOSPC, SID).getMessage();
        assertTrue(m.contains("at most 16 ranges") && m.contains("clearEventScope() first"),
                "names the 16-range limit and clearEventScope(): " + m);
    }

    @Test
    void einvalFromEventScopeNamesAlignmentOrderAndFlags() {
        String m = error(Command.EVENT_SCOPE, Errno.EINVAL, SID).getMessage();
        assertTrue(m.contains("page aligned") && m.contains("end above its start") && m.contains("TASK_SIZE")
                && m.contains("exactly one of ADD and CLEAR"), "says what a valid scope range and flags are: " + m);
    }

    @Test
    void efaultFromEventScopeIsABadStructPointerNotAnUnmappedRange() {
        String m = error(Command.EVENT_SCOPE, Errno.EFAULT, SID).getMessage();
        assertTrue(m.contains("struct's address") && m.contains("need not be mapped"),
                "a scope range may be unmapped; only the struct pointer can fault: " + m);
    }

    @Test
    void enospcFromOtherCommandsHasNoScopeHint() {
        String m = error(Command.FAULT, Errno.ENOSPC, SID).getMessage();
        assertFalse(m.contains("clearEventScope"), "only EVENT_SCOPE documents ENOSPC: " + m);
    }

    @Test
    void everyDocumentedErrnoOfEveryCommandSaysWhatToDo() {
        for (Command c : Command.values()) {
            for (Errno e : new Errno[] {Errno.EINVAL, Errno.EFAULT, Errno.EPERM, Errno.ENOTTY, Errno.ESRCH,
                Errno.EINTR, Errno.ENOMEM}) {
                String msg = error(c, e, SID).getMessage();
                assertTrue(msg.matches("(?s).* failed: " + e.name() + " \\([^)]*\\): .+"),
                        c + " " + e + " has no hint: " + msg);
            }
        }
        String enospc = error(Command.EVENT_SCOPE, Errno.ENOSPC, SID).getMessage();
        assertTrue(enospc.matches("(?s).* failed: ENOSPC \\([^)]*\\): .+"),
                "EVENT_SCOPE ENOSPC has no hint: " + enospc);
    }
}
