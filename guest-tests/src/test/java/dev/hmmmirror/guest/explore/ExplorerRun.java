package dev.hmmmirror.guest.explore;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.explorer.ChildJvm;
import dev.hmmmirror.guest.HugetlbPool;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * One explorer campaign in a child JVM of the guest (C1-compiled: the agent's own JVM is
 * interpreted, which would make a campaign a hundred times slower; and a fresh process per campaign
 * keeps a planted bug's leftovers out of the agent). Its output is printed, so it reaches the
 * report; its files land in {@code /hmm/out/explorer/NAME}.
 *
 * @param exitCode   0 nothing found, 1 a failure (shrunk, reproducer written)
 * @param output     what the campaign printed
 * @param properties its explorer.properties (programs, steps, checks, shrunkSteps, signature ...)
 * @param dir        its report folder
 */
record ExplorerRun(int exitCode, String output, Properties properties, Path dir) {
    static final Path OUT = Path.of("/hmm/out/explorer");

    static ExplorerRun run(String name, long seed, int programs, int steps) throws IOException, InterruptedException {
        return run(name, seed, "--programs", Integer.toString(programs), "--steps", Integer.toString(steps));
    }

    static ExplorerRun run(String name, long seed, String... args) throws IOException, InterruptedException {
        Path dir = OUT.resolve(name);
        Files.createDirectories(dir);
        List<String> cmd = new ArrayList<>(ChildJvm.command("dev.hmmmirror.explorer.Explorer", "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC", "-XX:-UsePerfData", "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(List.of("--seed", Long.toString(seed), "--out", dir.toString(), "--name", name));
        cmd.addAll(List.of(args));
        Process p;
        String out;
        try (HugetlbPool kept = HugetlbPool.keep()) { // the explorer reserves huge pages for its hugetlb regions
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(900, TimeUnit.SECONDS), "explorer campaign " + name + " hung:\n" + out);
        }
        System.out.print(out);
        Properties props = new Properties();
        Path file = dir.resolve("explorer.properties");
        if (Files.isRegularFile(file)) {
            props.load(new StringReader(Files.readString(file)));
        }
        return new ExplorerRun(p.exitValue(), out, props, dir);
    }

    long number(String key) {
        return Long.parseLong(properties.getProperty(key, "-1"));
    }
}
