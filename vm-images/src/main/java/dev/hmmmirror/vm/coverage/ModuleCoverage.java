package dev.hmmmirror.vm.coverage;

import dev.hmmmirror.agent.protocol.GuestResult;
import dev.hmmmirror.vm.build.ModuleCoverageBuild;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.session.GuestSession;
import dev.hmmmirror.vm.session.SessionHook;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Line coverage of {@code hmm_mirror.ko} by a session's tests, on kernels with
 * {@code CONFIG_GCOV_KERNEL} (the built profiles), where the module is built with
 * {@code GCOV_PROFILE}. The tests are split into parts (the explorer: test classes in a package
 * named {@code explore}; the suite: the rest): whenever the part changes, the guest copies the
 * kernel's counters ({@code /sys/kernel/debug/gcov/...gcda}) into the run's {@code out/gcov/N-part/} and
 * resets them. When the session ends, gcov turns each copy into covered lines in the module's
 * toolchain ({@link Gcov}), and the lines are joined per part ({@link Coverage}); the report goes to
 * the run folder's {@code coverage/} ({@link CoverageReport}).
 */
public final class ModuleCoverage implements SessionHook<Optional<Coverage>> {
    /** The part of tests in a package named {@code explore}. */
    public static final String EXPLORER = "explorer";
    /** The part of every other test. */
    public static final String SUITE = "suite";

    private final String firstPart;
    private final Path reportDir;
    private final List<Dump> dumps = new ArrayList<>();
    private String current;

    /** Coverage of a suite, by part, reported in the run folder's {@code coverage/}. */
    public ModuleCoverage() {
        this(SUITE, null);
    }

    /**
     * Coverage of whatever the session runs, as part {@code part} until a test says otherwise, reported in
     * {@code reportDir} (null: the run folder's {@code coverage/}).
     */
    public ModuleCoverage(String part, Path reportDir) {
        this.firstPart = part;
        this.reportDir = reportDir;
    }

    private record Dump(String part, Path dir) {}

    @Override
    public String name() {
        return "module coverage";
    }

    @Override
    public boolean wanted(GuestSession session) {
        return session.moduleCoverage().isPresent();
    }

    /** The part a test belongs to, from its JUnit unique id. */
    static String partOf(String uniqueId) {
        int at = uniqueId.indexOf("[class:");
        if (at < 0) {
            return SUITE;
        }
        String cls = uniqueId.substring(at + 7, uniqueId.indexOf(']', at));
        int dot = cls.lastIndexOf('.');
        String pkg = dot < 0 ? "" : cls.substring(0, dot);
        return pkg.equals("explore") || pkg.endsWith(".explore") ? EXPLORER : SUITE;
    }

    @Override
    public synchronized void beforeTest(GuestSession session, String uniqueId) throws InterruptedException {
        if (!wanted(session)) {
            return;
        }
        String part = partOf(uniqueId);
        if (part.equals(current)) {
            return;
        }
        if (current != null) {
            dump(session, current);
        } else {
            reset(session); // what loading the module and booting counted is nobody's
        }
        current = part;
    }

    @Override
    public synchronized Optional<Coverage> run(GuestSession session) throws InterruptedException {
        ModuleCoverageBuild build = session.moduleCoverage().orElseThrow();
        dump(session, current == null ? firstPart : current);
        current = null;
        long t = System.nanoTime();
        Coverage coverage = Coverage.empty();
        Path out = reportDir != null ? reportDir : session.runDir().resolve("coverage");
        try {
            Gcov gcov = new Gcov(session.toolchain(), build, out);
            for (Dump d : dumps) {
                if (Files.isDirectory(d.dir())) {
                    coverage = coverage.with(d.part(), gcov.lines(d.dir()));
                }
            }
            CoverageReport.write(coverage, out);
        } catch (IOException | RuntimeException e) {
            // a report, not a verdict: say why it is missing and let the run's results stand
            Progress.say("coverage of hmm_mirror.ko on %s: not computed: %s (gcov log: %s)", session.profile().name(),
                    e.getMessage(), out.resolve("gcov.log"));
            return Optional.empty();
        }
        Progress.say("coverage of hmm_mirror.ko on %s (%s): %s; every line: %s", session.profile().name(),
                Progress.since(t), coverage.summary(), out.resolve("index.html"));
        return Optional.of(coverage);
    }

    private void reset(GuestSession session) throws InterruptedException {
        exec(session, mount() + " && echo 1 > /sys/kernel/debug/gcov/reset");
    }

    private void dump(GuestSession session, String part) throws InterruptedException {
        String objdir = session.moduleCoverage().orElseThrow().objdir();
        String name = (dumps.size() + 1) + "-" + part;
        // the kernel keeps a module's counters under the object directory the compiler saw
        String script = mount() + " && src=/sys/kernel/debug/gcov" + objdir
                + " && if [ ! -d \"$src\" ]; then f=$(find /sys/kernel/debug/gcov -name mirror.gcda | head -n 1);"
                + " src=${f%/*}; fi && [ -d \"$src\" ] && d=/hmm/out/gcov/" + name + " && mkdir -p \"$d\""
                + " && for f in \"$src\"/*.gcda; do cat \"$f\" > \"$d/${f##*/}\"; done"
                + " && echo 1 > /sys/kernel/debug/gcov/reset";
        if (exec(session, script)) {
            dumps.add(new Dump(part, session.runDir().resolve("out/gcov").resolve(name)));
        }
    }

    private static String mount() {
        return "{ mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug; }";
    }

    private static boolean exec(GuestSession session, String script) throws InterruptedException {
        GuestResult r = session.exec(script, Duration.ofSeconds(120));
        boolean ok = r.status() == GuestResult.Status.PASSED;
        if (!ok) {
            Progress.say("coverage: the guest could not copy the module's gcov counters: %s", r.message());
        }
        return ok;
    }
}
