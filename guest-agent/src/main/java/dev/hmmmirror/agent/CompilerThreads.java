package dev.hmmmirror.agent;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * The JIT's compiler threads wait while the agent starts. The host starts the agent's JVM with its
 * compiler threads at the lowest priority ({@code -XX:ThreadPriorityPolicy=1
 * -XX:CompilerThreadPriority=19}): under TCG the guest has one emulated vCPU, and C1 compiling
 * start-up code beside the work delays the first result by about a second (docs/performance.md,
 * 'Boot, by stage'). Once the first answer is out, or {@link #DEADLINE_MS} after {@code main}
 * whichever comes first, {@link #restore()} puts them back at the normal priority, so that a long
 * test body's hot loops are compiled as soon as they are hot.
 */
final class CompilerThreads {
    /** At the latest this long after {@code main} the compilers get their priority back. */
    static final long DEADLINE_MS = 4000;
    private static final int PRIO_PROCESS = 0;
    private static final AtomicBoolean RESTORED = new AtomicBoolean();

    private CompilerThreads() {}

    /** Restores the compiler threads' priority {@link #DEADLINE_MS} from now unless the first answer does it first. */
    static void restoreLater() {
        Thread.ofPlatform().daemon().name("hmm-compiler-priority").start(() -> {
            try {
                Thread.sleep(DEADLINE_MS);
            } catch (InterruptedException e) {
                return;
            }
            restore();
        });
    }

    /**
     * Puts the JIT's compiler threads back at nice 0, once; returns how many it changed. Nothing to do
     * when the JVM runs interpreted or its compilers already run at the normal priority.
     */
    static int restore() {
        if (!RESTORED.compareAndSet(false, true)) {
            return 0;
        }
        List<Integer> tids = lowPriorityCompilers();
        if (tids.isEmpty()) {
            return 0;
        }
        int changed = 0;
        try {
            MethodHandle setpriority = Linker.nativeLinker().downcallHandle(
                    Linker.nativeLinker().defaultLookup().find("setpriority").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT));
            for (int tid : tids) {
                if ((int) setpriority.invokeExact(PRIO_PROCESS, tid, 0) == 0) {
                    changed++;
                }
            }
        } catch (Throwable e) {
            console("could not restore the JIT compiler threads' priority (" + e + "): long test bodies may run "
                    + "interpreted; set hmm.guest.jvm.options=-XX:CompilerThreadPriority=-1 to start them at the "
                    + "normal priority");
            return changed;
        }
        if (changed < tids.size()) {
            console("restored the priority of " + changed + " of " + tids.size() + " JIT compiler threads (is the "
                    + "agent root?); set hmm.guest.jvm.options=-XX:CompilerThreadPriority=-1 to start them at the "
                    + "normal priority");
        }
        return changed;
    }

    /** The thread ids of this JVM's compiler threads that run below the normal priority. */
    static List<Integer> lowPriorityCompilers() {
        List<Integer> tids = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                String comm = read(task.resolve("comm"));
                if (comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre")) {
                    // field 19 of stat is the nice value; the command (field 2) ends at the last ')'
                    String stat = read(task.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    if (Integer.parseInt(f[16]) > 0) {
                        tids.add(Integer.parseInt(task.getFileName().toString()));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            console("could not list the JIT compiler threads (" + e + ")");
        }
        return tids;
    }

    private static String read(Path p) throws IOException {
        try {
            return Files.readString(p).strip();
        } catch (java.nio.file.NoSuchFileException e) {
            return ""; // the thread ended meanwhile
        }
    }

    /** To the guest's console (the agent's System.err is a test's output capture). */
    private static void console(String message) {
        new java.io.PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true,
                java.nio.charset.StandardCharsets.UTF_8).println("[hmm agent] " + message);
    }
}
