package dev.hmmmirror.mutate;

import dev.hmmmirror.vm.host.SetupException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One mutant of the catalogue: a small patch against the kernel source, with a header saying what it
 * breaks. The file is {@code Key: value} header lines, a line {@code ---}, then a unified diff that
 * applies with {@code patch -p1} at the source root. Known keys: {@code Mutant}, {@code File},
 * {@code Function}, {@code Kind}, {@code Breaks}, {@code User-visible}, {@code Upstream-fix} (optional),
 * {@code Memory-corrupting} (yes|no), {@code Rebuild} (narrow|wide), {@code Equivalent} (optional: the
 * written argument why no test can tell it from the real kernel). A plain patch without a header (a
 * kernel developer's own series) is a mutant too, named after its file.
 *
 * @param name    the file name without {@code .patch}, e.g. {@code 01-hmm-write-fault-dropped}
 * @param file    where it was read from
 * @param headers the header lines, in order
 * @param diff    the unified diff (everything after the {@code ---} line, or the whole file without a header)
 */
public record Mutant(String name, Path file, Map<String, String> headers, String diff) {
    /** The header keys every catalogue entry has. */
    public static final List<String> REQUIRED = List.of("Mutant", "File", "Function", "Kind", "Breaks", "User-visible",
            "Memory-corrupting", "Rebuild");

    /** Reads one mutant file. */
    public static Mutant read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new SetupException("cannot read the mutant " + file + ": " + e.getMessage(), e);
        }
        String n = file.getFileName().toString();
        String name = n.endsWith(".patch") ? n.substring(0, n.length() - 6) : n.endsWith(".diff") ? n.substring(0, n.length() - 5) : n;
        return parse(name, file, text);
    }

    /** Parses a mutant's text (see the class comment). */
    static Mutant parse(String name, Path file, String text) {
        List<String> lines = text.lines().toList();
        Map<String, String> headers = new LinkedHashMap<>();
        int sep = lines.indexOf("---");
        boolean headed = sep > 0 && lines.subList(0, sep).stream().allMatch(l -> l.isBlank() || l.matches("[A-Z][A-Za-z-]*:.*"));
        if (!headed) {
            return new Mutant(name, file, Map.of(), text); // a plain patch
        }
        String last = null;
        for (String l : lines.subList(0, sep)) {
            if (l.isBlank()) {
                continue;
            }
            int colon = l.indexOf(':');
            last = l.substring(0, colon).strip();
            headers.put(last, l.substring(colon + 1).strip());
        }
        String diff = String.join("\n", lines.subList(sep + 1, lines.size())) + "\n";
        if (!diff.contains("\n+++ ") && !diff.startsWith("+++ ") && !diff.contains("diff --git")) {
            throw new SetupException("the mutant " + file + " has no unified diff after its '---' line");
        }
        return new Mutant(name, file, java.util.Collections.unmodifiableMap(headers), diff);
    }

    /**
     * A patch series applied in order as one mutant (a kernel developer's own patches: plain diffs or
     * {@code git format-patch} files, whose mail text {@code patch} skips).
     */
    public static Mutant series(String name, List<Path> patches) {
        StringBuilder diff = new StringBuilder();
        for (Path p : patches) {
            try {
                diff.append(Files.readString(p, StandardCharsets.UTF_8)).append('\n');
            } catch (IOException e) {
                throw new SetupException("cannot read the patch " + p + ": " + e.getMessage(), e);
            }
        }
        return new Mutant(name, patches.getFirst(), Map.of("Mutant", "the series " + String.join(" ",
                patches.stream().map(p -> p.getFileName().toString()).toList())), diff.toString());
    }

    /** Every {@code *.patch} of {@code dir}, by name. */
    public static List<Mutant> catalogue(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new SetupException("no mutant catalogue at " + dir + " (give --mutants DIR, or --mutant-file FILE)");
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<Mutant> out = new ArrayList<>();
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".patch")).sorted().toList()) {
                out.add(read(p));
            }
            return out;
        } catch (IOException e) {
            throw new SetupException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** What the header says of {@code key}, if anything. */
    public Optional<String> header(String key) {
        return Optional.ofNullable(headers.get(key)).filter(v -> !v.isBlank());
    }

    /** The written argument that it is equivalent to the real kernel, when the catalogue gives one. */
    public Optional<String> equivalence() {
        return header("Equivalent");
    }

    /** Whether it corrupts memory (a KASAN kernel should catch it even when no assertion does). */
    public boolean memoryCorrupting() {
        return header("Memory-corrupting").map(v -> v.equalsIgnoreCase("yes")).orElse(false);
    }

    /** The header keys of {@link #REQUIRED} it lacks (empty for a plain patch: it has no header to check). */
    public List<String> missingHeaders() {
        return headers.isEmpty() ? List.of() : REQUIRED.stream().filter(k -> header(k).isEmpty()).toList();
    }

    /** The source files the diff changes (its {@code +++ b/...} lines, without the {@code b/}). */
    public List<String> files() {
        List<String> out = new ArrayList<>();
        for (String l : diff.split("\n")) {
            if (l.startsWith("+++ ")) {
                String f = l.substring(4).split("\t")[0].strip();
                out.add(f.startsWith("b/") ? f.substring(2) : f);
            }
        }
        return out;
    }

    /** One line for progress and reports: the header's description, else the changed files. */
    public String describe() {
        return header("Mutant").orElse(String.join(", ", files()));
    }
}
