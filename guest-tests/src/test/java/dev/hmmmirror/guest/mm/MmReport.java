package dev.hmmmirror.guest.mm;

import dev.hmmmirror.Invalidation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The rows of the event x kernel table: each mm-event test appends what it saw (the invalidation
 * reasons the kernel reported for the test's range, and the outcome) to
 * {@code /hmm/out/mm-events.tsv}; the host collects the files of a run into one table.
 */
public final class MmReport {
    public static final Path FILE = Path.of("/hmm/out/mm-events.tsv");

    private MmReport() {}

    /** Records one observation: {@code kernel  event  reasons  outcome}. */
    public static void record(String event, Set<Invalidation.Reason> reasons, String outcome) {
        record(Machinery.kernel(), event, reasons, outcome);
    }

    /**
     * Records one observation in the table's column {@code column} (the kernel, or the kernel with
     * another mirror beside ours, as {@code RxeMmEventsIT} records).
     */
    public static synchronized void record(String column, String event, Set<Invalidation.Reason> reasons,
            String outcome) {
        String r = reasons.isEmpty() ? "none" : reasons.stream().map(Enum::name).sorted()
                .collect(Collectors.joining(","));
        String line = String.join("\t", column, event, r, outcome.replace('\t', ' ')) + "\n";
        try {
            Files.writeString(FILE, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new AssertionError("writing " + FILE + ": " + e.getMessage(), e);
        }
    }
}
