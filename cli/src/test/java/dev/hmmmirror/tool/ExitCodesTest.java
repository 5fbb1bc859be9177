package dev.hmmmirror.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The tool's exit code 125 for what a kernel developer gets wrong first, with a line that says what. */
class ExitCodesTest {
    private static int execute(StringWriter err, String... args) {
        CommandLine hmm = Hmm.commandLine();
        hmm.setOut(new PrintWriter(java.io.Writer.nullWriter()));
        hmm.setErr(new PrintWriter(err));
        return hmm.execute(args);
    }

    @Test
    void anUnknownOptionIsExit125NamingIt() {
        StringWriter err = new StringWriter();
        assertEquals(Hmm.CANNOT_RUN, execute(err, "demo", "--frobnicate"));
        assertTrue(err.toString().contains("--frobnicate"), err.toString());
    }

    @Test
    void anUnknownKernelOrAMissingTreeIsExit125NamingIt(@TempDir Path dir) {
        PrintStream stderr = System.err;
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        System.setErr(new PrintStream(said, true, StandardCharsets.UTF_8));
        try {
            assertEquals(Hmm.CANNOT_RUN, execute(new StringWriter(), "images", "--kernel", "debian-potato"));
            assertEquals(Hmm.CANNOT_RUN, execute(new StringWriter(), "suite", "--kernel-tree",
                    dir.resolve("nope").toString()));
        } finally {
            System.setErr(stderr);
        }
        String text = said.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("debian-potato") && text.contains("nope"), text);
    }
    @Test
    void hmmExploreRefusesWhatTheExplorerWouldBeforeBootingAGuest() {
        StringWriter err = new StringWriter();
        PrintStream stderr = System.err;
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        System.setErr(new PrintStream(said, true, StandardCharsets.UTF_8));
        try {
            assertEquals(Hmm.CANNOT_RUN, execute(err, "explore", "--plant-bug", "9"));
        } finally {
            System.setErr(stderr);
        }
        assertTrue(said.toString(StandardCharsets.UTF_8).contains("--plant-bug takes 1-5"), said.toString());
    }

    @Test
    void hmmExploreHandsTheGuestTheOptionsItWasGiven() {
        CommandLine.ParseResult r = Hmm.commandLine().parseArgs("explore", "--kernel", "built-7.2-debug", "--minutes",
                "10", "--fuzz-minutes", "5", "--jobs", "2", "--plant-bug", "1", "--out", "/tmp/c");
        Explore explore = (Explore) r.subcommand().commandSpec().userObject();
        assertEquals(java.util.List.of("built-7.2-debug"), explore.guest.kernels);
        assertEquals(java.util.List.of("--minutes", "10", "--fuzz-minutes", "5", "--jobs", "2", "--plant-bug", "1",
                "--out", "/tmp/c"), explore.campaign.args());
    }
}
