package dev.hmmmirror.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * README.md and docs/*.md point only at what exists: every relative link (file and, into a Markdown page, its
 * #anchor), every {@code ci/...} script named, and every {@code hmm SUBCOMMAND --option} shown in code. A dead link,
 * a removed script or a removed command or option fails, naming file:line.
 */
class DocsLinksTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    /** [text](target): the target up to whitespace or ')'; images too. */
    private static final Pattern LINK = Pattern.compile("\\[[^\\]]*\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
    /** A path of the ci/ or .ci/ folder, wherever it appears (prose, code, links). */
    private static final Pattern CI_PATH = Pattern.compile("(?<![A-Za-z0-9_-])(\\.?ci/[A-Za-z0-9_.-]*[A-Za-z0-9_-])");
    /** The hmm command with a subcommand, in code: {@code hmm run}, {@code ci/hmm suite}, {@code bin/hmm run}. */
    private static final Pattern HMM = Pattern.compile("(?<![A-Za-z0-9_.\\[-])hmm ([a-z][a-z-]*)((?: +[^ ]+)*)");
    private static final Pattern CODE_SPAN = Pattern.compile("`([^`]+)`");

    /** One line of a page, and whether it is inside a fenced code block (and which kind). */
    record Line(Path file, int number, String text, String fence) {
        String where() {
            return ROOT.relativize(file) + ":" + number;
        }
    }

    static List<Path> pages() throws IOException {
        List<Path> pages = new ArrayList<>();
        pages.add(ROOT.resolve("README.md"));
        try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        return pages;
    }

    static List<Line> lines(Path page) throws IOException {
        List<Line> out = new ArrayList<>();
        String fence = null;
        int n = 0;
        for (String text : Files.readAllLines(page)) {
            n++;
            if (text.startsWith("```")) {
                fence = fence == null ? text.substring(3).strip() : null;
                continue;
            }
            out.add(new Line(page, n, text, fence));
        }
        return out;
    }

    /** GitHub's anchors of a Markdown page: each heading lower-cased, punctuation dropped, spaces as '-', repeats -1, -2. */
    static Set<String> anchors(Path page) throws IOException {
        Set<String> anchors = new HashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        for (Line l : lines(page)) {
            if (l.fence() != null || !l.text().matches("#{1,6} .*")) {
                continue;
            }
            String slug = slug(l.text().replaceFirst("^#+ ", ""));
            int count = seen.merge(slug, 1, Integer::sum);
            anchors.add(count == 1 ? slug : slug + "-" + (count - 1));
        }
        return anchors;
    }

    static String slug(String heading) {
        String text = heading.strip().replaceAll("`|\\*\\*|\\[|\\]\\([^)]*\\)", "").toLowerCase(Locale.ROOT);
        return text.replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
    }

    /** Problems with the relative links of the given lines (one per dead link). */
    static List<String> deadLinks(List<Line> lines) throws IOException {
        List<String> dead = new ArrayList<>();
        for (Line l : lines) {
            if (l.fence() != null) {
                continue;
            }
            Matcher m = LINK.matcher(l.text());
            while (m.find()) {
                String target = m.group(1);
                if (target.matches("[a-z]+:.*")) {
                    continue; // http:, https:, mailto: are not this repository's
                }
                int hash = target.indexOf('#');
                String file = hash < 0 ? target : target.substring(0, hash);
                String anchor = hash < 0 ? null : target.substring(hash + 1);
                Path to = file.isEmpty() ? l.file() : l.file().getParent().resolve(file).normalize();
                if (!to.startsWith(ROOT) || !Files.exists(to)) {
                    dead.add(l.where() + ": link to " + target + ": no such file " + ROOT.relativize(to));
                } else if (anchor != null && to.toString().endsWith(".md") && !anchors(to).contains(anchor)) {
                    dead.add(l.where() + ": link to " + target + ": " + ROOT.relativize(to) + " has no heading #" + anchor);
                }
            }
        }
        return dead;
    }

    /** Problems with the ci/ paths named in the given lines. */
    static List<String> missingScripts(List<Line> lines) {
        List<String> missing = new ArrayList<>();
        for (Line l : lines) {
            Matcher m = CI_PATH.matcher(l.text());
            while (m.find()) {
                if (!Files.exists(ROOT.resolve(m.group(1)))) {
                    missing.add(l.where() + ": " + m.group(1) + " does not exist");
                }
            }
        }
        return missing;
    }

    /** The code of a line: all of it inside a shell/plain code block, else its `code spans`; nothing in help blocks. */
    static List<String> code(Line l) {
        if (l.fence() != null) {
            return l.fence().equals("text") || l.fence().equals("java") || l.fence().equals("xml") ? List.of()
                    : List.of(l.text().replaceFirst("(^|\\s)#.*", "")); // a shell comment is prose
        }
        List<String> spans = new ArrayList<>();
        Matcher m = CODE_SPAN.matcher(l.text());
        while (m.find()) {
            spans.add(m.group(1));
        }
        return spans;
    }

    /** Problems with the hmm subcommands and their --options shown in code on the given lines. */
    static List<String> unknownCommands(List<Line> lines) {
        CommandLine hmm = Hmm.commandLine();
        List<String> unknown = new ArrayList<>();
        for (Line l : lines) {
            for (String code : code(l)) {
                Matcher m = HMM.matcher(code);
                while (m.find()) {
                    CommandLine sub = hmm.getSubcommands().get(m.group(1));
                    if (sub == null) {
                        unknown.add(l.where() + ": hmm " + m.group(1) + ": the hmm command has no such subcommand");
                        continue;
                    }
                    for (String word : m.group(2).strip().split(" +")) {
                        if (word.equals("--") || word.matches("[|;&#)<>\\\\].*")) {
                            break; // the command's own words, or the shell's
                        }
                        if (word.startsWith("--")) {
                            String option = word.replaceFirst("=.*", "").replaceAll("[.,:]+$", "");
                            if (sub.getCommandSpec().findOption(option) == null) {
                                unknown.add(l.where() + ": hmm " + m.group(1) + " " + option + ": no such option");
                            }
                        }
                    }
                }
            }
        }
        return unknown;
    }

    @Test
    void everyLinkScriptAndCommandInTheReadmeAndDocsExists() throws IOException {
        List<String> problems = new ArrayList<>();
        for (Path page : pages()) {
            List<Line> lines = lines(page);
            problems.addAll(deadLinks(lines));
            problems.addAll(missingScripts(lines));
            problems.addAll(unknownCommands(lines));
        }
        assertTrue(problems.isEmpty(), problems.size() + " dead references:\n  " + String.join("\n  ", problems));
    }

    @Test
    void theReadmeLinksEveryDocsPage() throws IOException {
        String readme = Files.readString(ROOT.resolve("README.md"));
        List<String> unlinked = new ArrayList<>();
        for (Path page : pages().subList(1, pages().size())) {
            if (!readme.contains("](docs/" + page.getFileName() + ")") && !readme.contains("](docs/" + page.getFileName() + "#")) {
                unlinked.add(ROOT.relativize(page).toString());
            }
        }
        assertTrue(unlinked.isEmpty(), "README.md does not link " + unlinked);
    }

    /** The checks themselves catch what they are for (each on a made-up page). */
    @Test
    void deadLinksRemovedScriptsAndUnknownCommandsAreCaught() throws IOException {
        Path page = ROOT.resolve("docs").resolve("cli.md");
        List<Line> lines = List.of(
                new Line(page, 1, "see [settings](settings.md) and [runners](runners-and-scale.md#no-such-heading)", null),
                new Line(page, 2, "see [gone](no-such-page.md) and [ok](../README.md#hmm-mirror)", null),
                new Line(page, 3, "run `ci/no-such-script.sh` or ci/test.sh.", null),
                new Line(page, 4, "ci/hmm suite --kernel-tree ~/linux --no-such-option   # comment --ignored", "sh"),
                new Line(page, 5, "hmm frobnicate --all   # hmm selftests in a comment are prose", "sh"),
                new Line(page, 6, "hmm run -- uname --not-an-hmm-option | grep x", "sh"),
                new Line(page, 7, "Usage: hmm nothing-checked-in-help-blocks", "text"));
        assertEquals(List.of("docs/cli.md:1: link to runners-and-scale.md#no-such-heading: docs/runners-and-scale.md has no"
                + " heading #no-such-heading", "docs/cli.md:2: link to no-such-page.md: no such file docs/no-such-page.md"),
                deadLinks(lines));
        assertEquals(List.of("docs/cli.md:3: ci/no-such-script.sh does not exist"), missingScripts(lines));
        assertEquals(List.of("docs/cli.md:4: hmm suite --no-such-option: no such option",
                "docs/cli.md:5: hmm frobnicate: the hmm command has no such subcommand"), unknownCommands(lines));
    }

    @Test
    void anchorsAreGithubs() {
        assertEquals("the-hmm-command", slug("The `hmm` command"));
        assertEquals("local-or-in-a-container-the-two-runners", slug("Local or in a container: the two runners"));
        assertEquals("campaigns-on-a-debug-kernel-and-what-the-explorer-covers-of-the-module",
                slug("Campaigns on a debug kernel, and what the explorer covers of the module"));
    }
}
