package dev.hmmmirror.vm.config;

import java.util.List;
import java.util.Locale;

/**
 * How the guest's JVMs (the guest agent that runs {@code @GuestTest} bodies, and a program of
 * {@code hmm run --java}) execute Java: {@code hmm.guest.jit}. Under TCG the JIT compiler itself
 * runs emulated, so the choice trades the first result against long test bodies (docs,
 * performance, 'Guest JVM mode').
 */
public enum GuestJit {
    /**
     * C1 only ({@code -XX:TieredStopAtLevel=1}) with its compile thresholds ten times the JVM's
     * ({@code -XX:CompileThresholdScaling=10}): the default. Code that runs a few hundred times at
     * start-up (class initialisation, the first FFM downcalls) stays interpreted instead of being
     * compiled on the guest's one emulated CPU, while a long body's hot loop is still compiled in
     * its first fraction of a second: the first result came 30 % sooner and a 64 MiB fill from Java
     * took as long (docs/performance.md, 'Guest JVM mode'). Long bodies run ~100x the interpreter.
     */
    C1(List.of("-XX:TieredStopAtLevel=1", "-XX:CompileThresholdScaling=10")),
    /** The JVM's own tiered C1 + C2: long bodies fastest, the first result later (C2 compiles run emulated too). */
    TIERED(List.of()),
    /** Interpreted ({@code -Xint}): no compiler thread at all; long bodies two orders of magnitude slower. */
    OFF(List.of("-Xint"));

    private final List<String> flags;

    GuestJit(List<String> flags) {
        this.flags = flags;
    }

    /** The JVM flags of this mode. */
    public List<String> flags() {
        return flags;
    }

    /**
     * The mode named {@code value}: {@code c1}, {@code tiered}, {@code off} (also {@code int},
     * {@code xint}, {@code interpreted}); {@code true} and {@code false}, the setting's values
     * before C1 became the default, mean {@code c1} and {@code off}.
     */
    public static GuestJit parse(String value) {
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "c1", "true", "yes", "1" -> C1;
            case "tiered", "c2" -> TIERED;
            case "off", "false", "no", "0", "int", "xint", "-xint", "interpreted" -> OFF;
            default -> throw new IllegalArgumentException(Setting.GUEST_JIT.property() + " must be c1, tiered or off"
                    + " (-Xint), not '" + value + "'");
        };
    }
}
