package dev.hmmmirror.explorer.report;

import dev.hmmmirror.explorer.engine.Failure;
import dev.hmmmirror.explorer.engine.Step;
import dev.hmmmirror.explorer.action.World;

/**
 * A shrunk failure as a standalone guest test: a JUnit class, runnable with {@code @GuestTest},
 * that replays the steps on a fresh {@link World} of the booted kernel. It fails while the bug is
 * there; kept in the suite, it guards the fix.
 */
public final class Reproducer {
    private Reproducer() {}

    /**
     * The Java source of class {@code className} in {@code packageName}; {@code separateOwners}: the failure
     * was found with each device its own owner (the module loaded with {@code shared_owner=N}), which the
     * class then says it needs.
     */
    public static String source(String packageName, String className, Failure<World> failure, String kernel,
            long campaignSeed, boolean separateOwners) {
        StringBuilder b = new StringBuilder();
        b.append("package ").append(packageName).append(";\n\n");
        b.append("import dev.hmmmirror.Access;\n");
        b.append("import dev.hmmmirror.Memory;\n");
        b.append("import dev.hmmmirror.explorer.model.Kind;\n");
        b.append("import dev.hmmmirror.explorer.action.World;\n");
        b.append("import dev.hmmmirror.junit.GuestTest;\n");
        b.append("import org.junit.jupiter.api.Test;\n\n");
        b.append("/**\n");
        b.append(" * Found by the explorer on kernel ").append(kernel).append(" (campaign seed ").append(campaignSeed)
                .append(", program seed ").append(failure.seed()).append("),\n");
        b.append(" * shrunk to ").append(failure.steps().size()).append(" steps. It failed with:\n");
        for (String line : failure.summary().split("\n")) {
            b.append(" * ").append(escape(line)).append('\n');
        }
        if (separateOwners) {
            b.append(" * Found with each device its own owner: run it with the module loaded with shared_owner=N\n");
            b.append(" * (-Dhmm.module.params=\"ndevices=2 shared_owner=N\").\n");
        }
        b.append(" */\n");
        b.append("@GuestTest\n");
        b.append("class ").append(className).append(" {\n");
        b.append("    @Test\n");
        b.append("    void reproduces() throws Exception {\n");
        b.append("        try (World w = World.open()) {\n");
        for (Step<World> s : failure.steps()) {
            b.append("            ").append(s.java()).append('\n');
        }
        b.append("        }\n");
        b.append("    }\n");
        b.append("}\n");
        return b.toString();
    }

    private static String escape(String s) {
        return s.replace("*/", "*\\/");
    }
}
