package dev.hmmmirror.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The README's CLI reference is the tool's own help: every subcommand has a block there
 * ({@code <!-- hmm help: NAME -->} then a text block) equal to its generated {@code --help}.
 */
class CliReferenceTest {
    private static final Pattern BLOCK = Pattern.compile("<!-- hmm help: ([a-z-]*) -->\\n```text\\n(.*?)```",
            Pattern.DOTALL);

    static String usage(CommandLine cl) {
        return cl.getUsageMessage(CommandLine.Help.Ansi.OFF);
    }

    @Test
    void theReadmeShowsEverySubcommandsHelpAsTheToolPrintsIt() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        CommandLine hmm = Hmm.commandLine();
        List<String> missing = new ArrayList<>();
        Matcher m = BLOCK.matcher(readme);
        java.util.Map<String, String> blocks = new java.util.HashMap<>();
        while (m.find()) {
            blocks.put(m.group(1), m.group(2));
        }
        assertEquals(usage(hmm), blocks.get(""), "README block <!-- hmm help:  --> (hmm --help)");
        for (var e : hmm.getSubcommands().entrySet()) {
            if (e.getKey().equals("help")) {
                continue;
            }
            String block = blocks.get(e.getKey());
            if (block == null) {
                missing.add(e.getKey());
            } else {
                assertEquals(usage(e.getValue()), block, "README block for hmm " + e.getKey() + " --help");
            }
        }
        assertTrue(missing.isEmpty(), "README lacks the help of: " + missing + " (add <!-- hmm help: NAME --> blocks;"
                + " ci/hmm NAME --help prints them)");
    }

    @Test
    void usageErrorsExit125AndHelpExits0() {
        CommandLine hmm = Hmm.commandLine();
        hmm.setOut(new java.io.PrintWriter(java.io.Writer.nullWriter()));
        hmm.setErr(new java.io.PrintWriter(java.io.Writer.nullWriter()));
        assertEquals(0, hmm.execute("run", "--help"));
        assertEquals(Hmm.CANNOT_RUN, hmm.execute("run", "--no-such-option"));
        assertEquals(Hmm.CANNOT_RUN, hmm.execute("no-such-command"));
        assertEquals(Hmm.CANNOT_RUN, hmm.execute("run"), "run without a command");
    }

    @Test
    void everythingAfterTheCommandsFirstWordIsTheCommands() {
        CommandLine hmm = Hmm.commandLine();
        CommandLine.ParseResult r = hmm.parseArgs("run", "--kernel", "debian-trixie", "ls", "-la", "--kernel", "x");
        Run run = (Run) r.subcommand().commandSpec().userObject();
        assertEquals(List.of("ls", "-la", "--kernel", "x"), run.words);
        assertEquals(List.of("debian-trixie"), run.guest.kernels);
    }

    @Test
    void theShellLineQuotesEveryWord() {
        assertEquals("'sh' '-c' 'echo '\\''a b'\\'''", InGuest.quote(List.of("sh", "-c", "echo 'a b'")));
    }

    @Test
    void completionCoversTheSubcommands() {
        String script = picocli.AutoComplete.bash("hmm", Hmm.commandLine());
        assertTrue(script.contains("run") && script.contains("--kernel") && script.contains("shell"), "bash completion");
    }
}
