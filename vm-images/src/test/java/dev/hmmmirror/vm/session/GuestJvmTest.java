package dev.hmmmirror.vm.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.config.GuestJit;
import dev.hmmmirror.vm.config.Setting;
import dev.hmmmirror.vm.config.Settings;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The guest JVMs' JIT mode: C1 unless hmm.guest.jit says otherwise, the same for the agent and hmm run --java. */
class GuestJvmTest {
    private static Settings with(String jit) {
        Settings s = Settings.from(Map.<String, String>of()::get, Map.<String, String>of()::get);
        return jit == null ? s : s.with(Setting.GUEST_JIT, jit);
    }

    private static boolean interpreted(List<String> flags) {
        return flags.contains("-Xint");
    }

    @Test
    void c1IsTheDefaultOfTheAgentAndOfPrograms() {
        assertEquals(GuestJit.C1, with(null).guestJit());
        for (List<String> f : List.of(GuestJvm.flags(with(null)), GuestJvm.programFlags(with(null)))) {
            assertTrue(f.contains("-XX:TieredStopAtLevel=1"), f.toString());
            assertTrue(f.contains("-XX:CompileThresholdScaling=10"), "start-up code stays interpreted: " + f);
            assertFalse(interpreted(f), f.toString());
        }
    }

    @Test
    void offTurnsTheInterpreterBackForBoth() {
        for (String v : List.of("off", "false", "Xint", "interpreted")) {
            assertEquals(GuestJit.OFF, with(v).guestJit(), v);
            assertTrue(interpreted(GuestJvm.flags(with(v))), v);
            assertTrue(interpreted(GuestJvm.programFlags(with(v))), v);
            assertFalse(GuestJvm.flags(with(v)).contains("-XX:TieredStopAtLevel=1"), v);
        }
    }

    @Test
    void tieredLeavesTheJvmsOwnCompilationPolicy() {
        List<String> f = GuestJvm.flags(with("tiered"));
        assertFalse(f.stream().anyMatch(x -> x.startsWith("-XX:TieredStopAtLevel") || x.equals("-Xint")), f.toString());
        assertEquals(GuestJit.C1, with("true").guestJit(), "true, the old opt-in, is C1");
    }

    @Test
    void anUnknownModeIsRefusedWithTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> with("fast").guestJit());
        assertTrue(e.getMessage().contains("c1, tiered or off"), e.getMessage());
    }

    @Test
    void theAgentsCommandLineCarriesTheMode() {
        String cmd = GuestJvm.command(List.of("/hmm/host/lib/a.jar"), with("off"), false, "amd64");
        assertTrue(cmd.contains(" -Xint "), cmd);
        assertTrue(GuestJvm.command(List.of("/hmm/host/lib/a.jar"), with(null), false, "amd64")
                .contains(" -XX:TieredStopAtLevel=1 "));
    }

    @Test
    void theAgentsCompilersStartAtTheLowestPriorityOnlyWhenThereAreCompilers() {
        for (String jit : List.of("c1", "tiered")) {
            List<String> f = GuestJvm.flags(with(jit));
            assertTrue(f.containsAll(GuestJvm.COMPILERS_WAIT), jit + ": " + f);
            List<String> mine = GuestJvm.flags(with(jit).with(Setting.GUEST_JVM_OPTIONS, "-XX:CompilerThreadPriority=-1"));
            assertTrue(mine.indexOf("-XX:CompilerThreadPriority=19") < mine.indexOf("-XX:CompilerThreadPriority=-1"),
                    "the user's hmm.guest.jvm.options come after, so -XX:CompilerThreadPriority=-1 there wins: " + mine);
        }
        assertFalse(GuestJvm.flags(with("off")).contains("-XX:CompilerThreadPriority=19"), "no compilers with -Xint");
        assertFalse(GuestJvm.programFlags(with(null)).contains("-XX:CompilerThreadPriority=19"),
                "a user's program has no agent to give the compilers their priority back");
    }

    @Test
    void anArm64GuestRunsDebiansArm64Java() {
        String cmd = GuestJvm.command(List.of("/hmm/host/lib/a.jar"), with(null), false, "arm64");
        assertTrue(cmd.startsWith("exec /usr/lib/jvm/java-25-openjdk-arm64/bin/java "), cmd);
        assertTrue(GuestJvm.command(List.of("/hmm/host/lib/a.jar"), with(null), false, "amd64")
                .startsWith("exec /usr/lib/jvm/java-25-openjdk-amd64/bin/java "));
    }
}
