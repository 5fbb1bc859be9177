package dev.hmmmirror.tool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;

/**
 * The reference part of {@code docs/cli.md}: every subcommand's {@code --help} as the tool prints it, between two
 * marker lines. {@code CliReferenceTest} fails when the page and the tool differ; {@code ci/regenerate-cli-doc.sh}
 * (this class's {@link #main}) rewrites that part of the page from the tool.
 */
public final class CliReference {
    /** The line before the generated part. */
    static final String START = "<!-- hmm help reference: start (ci/regenerate-cli-doc.sh writes what follows) -->";
    /** The line after the generated part. */
    static final String END = "<!-- hmm help reference: end -->";

    private CliReference() {
    }

    /** The help text of a command, without colours. */
    static String usage(CommandLine cl) {
        return cl.getUsageMessage(CommandLine.Help.Ansi.OFF);
    }

    /** The documented help texts: "" for {@code hmm} itself, then every subcommand but {@code help}, in the tool's order. */
    static Map<String, String> helpTexts() {
        CommandLine hmm = Hmm.commandLine();
        Map<String, String> texts = new LinkedHashMap<>();
        texts.put("", usage(hmm));
        for (var e : hmm.getSubcommands().entrySet()) {
            if (!e.getKey().equals("help")) {
                texts.put(e.getKey(), usage(e.getValue()));
            }
        }
        return texts;
    }

    /** The generated part: a heading, a marker and a text block per command. */
    static String generated() {
        StringBuilder out = new StringBuilder();
        for (var e : helpTexts().entrySet()) {
            String name = e.getKey().isEmpty() ? "hmm" : "hmm " + e.getKey();
            out.append("\n### ").append(name).append("\n\n<!-- hmm help: ").append(e.getKey()).append(" -->\n```text\n")
                    .append(e.getValue()).append("```\n");
        }
        return out.append('\n').toString();
    }

    /** The page with its generated part replaced by the tool's current help (appended when the markers are missing). */
    static String render(String page) {
        int start = page.indexOf(START);
        int end = page.indexOf(END);
        if (start < 0 || end < start) {
            return page + (page.endsWith("\n") ? "" : "\n") + START + "\n" + generated() + END + "\n";
        }
        return page.substring(0, start + START.length()) + "\n" + generated() + page.substring(end);
    }

    /**
     * Rewrites the reference part of the page named by the first argument (default {@code docs/cli.md}) from the tool's
     * own help.
     */
    public static void main(String[] args) throws IOException {
        Path page = Path.of(args.length > 0 ? args[0] : "docs/cli.md");
        String before = Files.readString(page);
        String after = render(before);
        Files.writeString(page, after);
        System.out.println(page + (before.equals(after) ? ": already the tool's help" : ": rewritten from the tool's help"));
    }
}
