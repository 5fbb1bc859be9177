package dev.hmmmirror.agent.protocol;

import java.util.List;

/**
 * The marker lines the guest writes on its console ({@code @@HMM <NAME> ...}): the initramfs, the
 * stage-2 init, the kernel selftest script and the agent's watchdog write them; the host's console
 * reader waits for them. Defined here once; a host test checks the guest scripts against
 * {@link #ALL}.
 */
public final class Markers {
    /** Prefix of every marker line. */
    public static final String PREFIX = "@@HMM ";

    /** initramfs /init started. */
    public static final String INIT = "INIT";
    /** bare boot: /init reached, powering off (boot benchmark, KVM probe). */
    public static final String BARE = "BARE";
    /** the userland root is mounted; switching to it. */
    public static final String ROOT = "ROOT";
    /** a step of the initramfs failed ({@code FAIL <what>}). */
    public static final String FAIL = "FAIL";
    /** insmod hmm_mirror.ko finished ({@code MODULE rc=N}). */
    public static final String MODULE = "MODULE";
    /** the agent JVM exited ({@code AGENT_EXIT rc=N}). */
    public static final String AGENT_EXIT = "AGENT_EXIT";
    /** rmmod hmm_mirror finished ({@code RMMOD rc=N}). */
    public static final String RMMOD = "RMMOD";
    /** the guest is about to power off ({@code DONE rc=N}). */
    public static final String DONE = "DONE";
    /** the agent's watchdog: a test runs too long; stacks follow. */
    public static final String WATCHDOG = "WATCHDOG";
    /** the kernel's own selftests: start, each RUN/result line, rmmod. */
    public static final String KSELFTEST = "KSELFTEST";
    /** the peer suite (rdma-core's ODP tests): skipped (why), start, end. */
    public static final String PEER = "PEER";

    /** Every marker. */
    public static final List<String> ALL = List.of(INIT, BARE, ROOT, FAIL, MODULE, AGENT_EXIT, RMMOD, DONE, WATCHDOG,
            KSELFTEST, PEER);

    private Markers() {}

    /** A marker line: {@code @@HMM <name> <text>}. */
    public static String line(String name, String text) {
        return PREFIX + name + (text.isEmpty() ? "" : " " + text);
    }
}
