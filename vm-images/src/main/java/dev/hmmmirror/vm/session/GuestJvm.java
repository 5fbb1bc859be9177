package dev.hmmmirror.vm.session;

import dev.hmmmirror.agent.GuestAgent;
import dev.hmmmirror.agent.protocol.Protocol;
import dev.hmmmirror.vm.config.GuestJit;
import dev.hmmmirror.vm.config.Settings;
import java.util.ArrayList;
import java.util.List;

/** The guest agent's JVM: the guest's Java, its flags and its command line. */
final class GuestJvm {
    /** The guest's Java runtime (from the userland) of an x86-64 guest. */
    static final String JAVA = java("amd64");

    /** The guest's Java runtime in a userland of Debian architecture {@code arch} (Debian's openjdk-25 package). */
    static String java(String arch) {
        return "/usr/lib/jvm/java-25-openjdk-" + arch + "/bin/java";
    }

    /** The agent's JIT compiler threads start at the lowest priority (the agent restores it: CompilerThreads). */
    static final List<String> COMPILERS_WAIT = List.of("-XX:ThreadPriorityPolicy=1", "-XX:CompilerThreadPriority=19");

    private GuestJvm() {}

    /** Flags of the guest JVM; the AOT training run uses the same ones. */
    static List<String> flags(Settings settings) {
        // hmm.guest.jit: C1 by default (docs/performance.md, 'Guest JVM mode'). The agent ran
        // interpreted from 2 December 2026 because with C1 it had failed NumaMigrationIT on bookworm;
        // the cause was NUMA balancing (on in guests then), whose PROT_NONE hinting PTEs 6.1's
        // move_pages(2) reports as -ENOENT, interpreted too (Kernel.keepNumaBalancingOff, movePages).
        List<String> f = new ArrayList<>(settings.guestJit().flags());
        if (settings.guestJit() != GuestJit.OFF) {
            // the compilers wait (nice 19) until the agent's first answer or 4 s after main, when the agent
            // puts them back (CompilerThreads): C1 beside the start-up on one emulated vCPU delays the first result
            f.addAll(COMPILERS_WAIT);
        }
        f.addAll(List.of("-XX:+UseSerialGC", "-XX:-UsePerfData", "-XX:ErrorFile=/hmm/out/hs_err_pid%p.log",
                "--enable-native-access=ALL-UNNAMED", "-Djava.io.tmpdir=/tmp",
                "-D" + Protocol.IN_GUEST_PROPERTY + "=true",
                "-D" + Protocol.WATCHDOG_PROPERTY + "=" + settings.guestWatchdogSeconds(),
                "-Dhmm.kernel=" + settings.kernel()));
        f.addAll(settings.guestJvmOptions());
        return List.copyOf(f);
    }

    /** Flags of a user's Java program in the guest (its own JVM, not the agent): the same JIT mode. */
    static List<String> programFlags(Settings settings) {
        List<String> f = new ArrayList<>(settings.guestJit().flags());
        f.addAll(List.of("-XX:+UseSerialGC", "-XX:-UsePerfData", "--enable-native-access=ALL-UNNAMED",
                "-Djava.io.tmpdir=/tmp"));
        return List.copyOf(f);
    }

    /** The shell line that starts the agent from the staged jars. */
    static String command(List<String> jars, Settings settings, boolean aot, String arch) {
        String cache = "/hmm/host/" + AgentCache.FILE;
        return "exec " + java(arch) + " " + String.join(" ", flags(settings))
                // the agent's children (an explorer campaign, a test's victim) use its cache too: explorer's
                // ChildJvm reads this property
                + (aot ? " -XX:AOTCache=" + cache + " -Dhmm.guest.aotCache=" + cache : "")
                + " -cp " + String.join(":", jars) + " " + GuestAgent.class.getName();
    }
}
