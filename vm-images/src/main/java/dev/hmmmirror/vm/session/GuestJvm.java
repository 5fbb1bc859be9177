package dev.hmmmirror.vm.session;

import dev.hmmmirror.agent.GuestAgent;
import dev.hmmmirror.agent.protocol.Protocol;
import dev.hmmmirror.vm.config.Settings;
import java.util.List;

/** The guest agent's JVM: the guest's Java, its flags and its command line. */
final class GuestJvm {
    /** The guest's Java runtime (from the userland). */
    static final String JAVA = "/usr/lib/jvm/java-25-openjdk-amd64/bin/java";

    private GuestJvm() {}

    /** Flags of the guest JVM; the AOT training run uses the same ones. */
    static List<String> flags(Settings settings) {
        // In one guest (TCG) a Java body filling 64 MiB took 502 s interpreted and 4.3 s with C1, and
        // JVM start to a first mirror result 11.3 s vs 6.4 s (docs/performance.md, 'Guest JVM mode'),
        // but with C1 the agent failed NumaMigrationIT on bookworm 6.1 in 2 of 2 runs (passes
        // interpreted): interpreted stays the default until that is understood; hmm.guest.jit=true.
        return List.of(settings.guestJit() ? "-XX:TieredStopAtLevel=1" : "-Xint",
                "-XX:+UseSerialGC", "-XX:-UsePerfData", "-XX:ErrorFile=/hmm/out/hs_err_pid%p.log",
                "--enable-native-access=ALL-UNNAMED", "-Djava.io.tmpdir=/tmp",
                "-D" + Protocol.IN_GUEST_PROPERTY + "=true",
                "-D" + Protocol.WATCHDOG_PROPERTY + "=" + settings.guestWatchdogSeconds(),
                "-Dhmm.kernel=" + settings.kernel());
    }

    /** Flags of a user's Java program in the guest (its own JVM, not the agent). */
    static List<String> programFlags() {
        return List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData",
                "--enable-native-access=ALL-UNNAMED", "-Djava.io.tmpdir=/tmp");
    }

    /** The shell line that starts the agent from the staged jars. */
    static String command(List<String> jars, Settings settings, boolean aot) {
        return "exec " + JAVA + " " + String.join(" ", flags(settings))
                + (aot ? " -XX:AOTCache=/hmm/host/" + AgentCache.FILE : "")
                + " -cp " + String.join(":", jars) + " " + GuestAgent.class.getName();
    }
}
