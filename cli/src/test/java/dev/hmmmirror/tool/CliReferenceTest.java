package dev.hmmmirror.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * docs/cli.md's reference is the tool's own help: every subcommand has a block there
 * ({@code <!-- hmm help: NAME -->} then a text block) equal to its generated {@code --help}; {@code
 * ci/regenerate-cli-doc.sh} rewrites them.
 */
class CliReferenceTest {
    private static final Pattern BLOCK = Pattern.compile("<!-- hmm help: ([a-z-]*) -->\\n```text\\n(.*?)```",
            Pattern.DOTALL);
    private static final Path PAGE = Path.of("..", "docs", "cli.md");
    private static final String FIX = " (run ci/regenerate-cli-doc.sh to rewrite docs/cli.md's reference from the tool)";

    @Test
    void theCliPageShowsEverySubcommandsHelpAsTheToolPrintsIt() throws IOException {
        String page = Files.readString(PAGE);
        Map<String, String> blocks = new HashMap<>();
        Matcher m = BLOCK.matcher(page);
        while (m.find()) {
            blocks.put(m.group(1), m.group(2));
        }
        List<String> missing = new ArrayList<>();
        for (var e : CliReference.helpTexts().entrySet()) {
            String name = e.getKey().isEmpty() ? "hmm" : "hmm " + e.getKey();
            String block = blocks.get(e.getKey());
            if (block == null) {
                missing.add(name);
            } else {
                assertEquals(e.getValue(), block, "docs/cli.md's block for " + name + " --help differs from the tool" + FIX);
            }
        }
        assertTrue(missing.isEmpty(), "docs/cli.md lacks the help of: " + missing + FIX);
        List<String> stale = new ArrayList<>(blocks.keySet());
        stale.removeAll(CliReference.helpTexts().keySet());
        assertTrue(stale.isEmpty(), "docs/cli.md shows the help of commands the tool no longer has: " + stale + FIX);
        assertEquals(CliReference.render(page), page, "docs/cli.md's reference is not what the tool generates" + FIX);
    }

    @Test
    void regeneratingRewritesAChangedBlockAndKeepsTheRestOfThePage() {
        String page = "# intro\n\n" + CliReference.START + "\n<!-- hmm help: run -->\n```text\nold\n```\n"
                + CliReference.END + "\n\nafter\n";
        String rendered = CliReference.render(page);
        assertTrue(rendered.startsWith("# intro\n\n" + CliReference.START + "\n"), rendered);
        assertTrue(rendered.endsWith(CliReference.END + "\n\nafter\n"), rendered);
        assertTrue(rendered.contains("<!-- hmm help: run -->\n```text\n" + CliReference.helpTexts().get("run") + "```"));
        assertTrue(!rendered.contains("\nold\n"), "the old block is gone");
        assertEquals(rendered, CliReference.render(rendered), "a rendered page renders to itself");
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
