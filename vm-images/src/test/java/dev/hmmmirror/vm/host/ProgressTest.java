package dev.hmmmirror.vm.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Lines of guests that run at once name their kernel, on every thread the guest's work starts. */
class ProgressTest {
    @Test
    void aLabelPrefixesLinesOfThisThreadAndOfThreadsItStarts() throws Exception {
        assertEquals("[hmm] ", Progress.prefix());
        AtomicReference<String> child = new AtomicReference<>();
        try (Progress.Labelled l = Progress.labelled("debian-trixie")) {
            assertEquals("[hmm debian-trixie] ", Progress.prefix());
            Thread t = Thread.ofPlatform().start(() -> child.set(Progress.prefix()));
            t.join();
        }
        assertEquals("[hmm debian-trixie] ", child.get(), "a console pump started by the kernel's thread");
        assertEquals("[hmm] ", Progress.prefix(), "closing restores the unlabelled prefix");
        assertNull(Progress.label());
    }
}
