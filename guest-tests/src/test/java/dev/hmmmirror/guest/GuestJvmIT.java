package dev.hmmmirror.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.hmmmirror.junit.GuestTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The guest agent's JVM, as a test body sees it. */
@GuestTest
class GuestJvmIT {
    /**
     * The agent starts its JIT compiler threads at the lowest priority so that they do not compete with
     * its start on the guest's one vCPU, and puts them back at nice 0 after its first answer or 4 s after
     * its {@code main}, whichever comes first: a long body's hot loop must not wait for a compiler that
     * gets no CPU (with the compilers at nice 19 throughout, filling 64 MiB from Java took 110 s instead of
     * 19 s). Whichever test runs first, the compilers are soon at the normal priority.
     */
    @Test
    void theJitCompilersRunAtTheNormalPriorityOnceTheAgentIsUp() throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L; // 4 s after main, with room for a loaded host
        Map<String, Integer> nice = compilerNice();
        while (nice.values().stream().anyMatch(n -> n != 0) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            nice = compilerNice();
        }
        assumeFalse(nice.isEmpty(), "no JIT compiler thread in this JVM: it runs interpreted (hmm.guest.jit=off, "
                + System.getProperty("java.vm.info") + ")");
        for (Map.Entry<String, Integer> e : nice.entrySet()) {
            assertEquals(0, e.getValue(), "nice of the JIT compiler thread " + e.getKey() + " (all: " + nice + ")");
        }
    }

    /** This JVM's compiler threads ({@code C1 CompilerThre...}, {@code C2 ...}) by thread id, with their nice values. */
    private static Map<String, Integer> compilerNice() throws IOException {
        Map<String, Integer> nice = new TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    String comm = Files.readString(task.resolve("comm")).strip();
                    if (comm.matches("C[12] CompilerThre.*")) {
                        String stat = Files.readString(task.resolve("stat"));
                        // after the command in parentheses: field 3 (state) onwards; the nice value is field 19
                        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        nice.put(comm + " (tid " + task.getFileName() + ")", Integer.parseInt(f[16]));
                    }
                } catch (NoSuchFileException ended) {
                    // a compiler thread that ended meanwhile (the JVM adds and removes them as needed)
                }
            }
        }
        return nice;
    }
}
