package dev.hmmmirror.vm.session;

import dev.hmmmirror.agent.GuestAgent;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;

/**
 * What of a host JVM's classpath goes into a guest: the guest agent with its dependencies, the
 * test classes and whatever the tests depend on, but nothing that only the host needs (the
 * harness, the JUnit extension, the suite runner, Testcontainers, docker-java, Commons IO, Jackson ...).
 *
 * <p>Host-only means: a module of ours that carries {@code META-INF/hmm-mirror/host-side}, or an
 * artifact on a host-side module's runtime classpath (the {@code META-INF/hmm-mirror/host-classpath.txt}
 * lists the build writes: the harness's, the suite runner's) that is not on the agent's
 * ({@code guest-classpath.txt}). Entries are
 * named by the {@code pom.properties} a Maven-built jar carries, or by their place in a Maven
 * repository; anything unnamed (a test-classes folder, a user's own jar) goes in.
 */
public final class GuestClasspath {
    static final String HOST_MARKER = "META-INF/hmm-mirror/host-side";
    static final String HOST_LIST = "META-INF/hmm-mirror/host-classpath.txt";
    static final String GUEST_LIST = "META-INF/hmm-mirror/guest-classpath.txt";

    private GuestClasspath() {}

    /** The classpath of this JVM, as files (manifest-only jars expanded, build-tool jars left out). */
    public static List<Path> current() {
        Set<Path> out = new LinkedHashSet<>();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (!e.isBlank()) {
                addEntry(Path.of(e).toAbsolutePath().normalize(), out);
            }
        }
        return new ArrayList<>(out);
    }

    private static void addEntry(Path p, Set<Path> out) {
        String s = p.toString();
        if (s.contains("/org/apache/maven/surefire/") || s.contains("/surefire/") || s.contains("surefirebooter")) {
            if (Files.isRegularFile(p) && s.endsWith(".jar")) {
                try (JarFile jar = new JarFile(p.toFile())) {
                    Manifest m = jar.getManifest();
                    String cp = m == null ? null : m.getMainAttributes().getValue("Class-Path");
                    if (cp != null) {
                        for (String u : cp.trim().split("\\s+")) {
                            URI uri = URI.create(u);
                            addEntry(Path.of(uri.isAbsolute() ? uri : p.getParent().toUri().resolve(u)), out);
                        }
                    }
                } catch (IOException e) {
                    // not a readable jar: skip it
                }
            }
            return;
        }
        if (Files.exists(p)) {
            out.add(p);
        }
    }

    /** The entries of {@code classpath} that go into a guest, in order. */
    public static List<Path> forGuest(List<Path> classpath) {
        Set<String> hostOnly = new HashSet<>(artifacts(HOST_LIST));
        hostOnly.removeAll(artifacts(GUEST_LIST));
        hostOnly.remove(agentArtifact());
        Set<String> hostOnlyFiles = new HashSet<>();
        for (String gav : versioned(HOST_LIST)) {
            String[] c = gav.split(":");
            if (hostOnly.contains(c[0] + ":" + c[1])) {
                hostOnlyFiles.add(c[1] + "-" + c[2]);
            }
        }
        List<Path> out = new ArrayList<>();
        for (Path p : classpath) {
            if (!hasEntry(p, HOST_MARKER) && !isHostOnly(p, hostOnly) && !isHostOnlyFile(p, hostOnlyFiles)) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * Whether {@code p} is a jar that names no artifact, in a flat folder (the assembled {@code hmm}
     * command's lib/, as Maven's copy-dependencies writes it), called {@code <artifact>-<version>.jar}
     * or {@code <artifact>-<version>-<classifier>.jar} after one of {@code hostOnlyFiles}
     * ({@code <artifact>-<version>}). Testcontainers (12,566 entries, no pom.properties) was staged
     * from there first on the class path, and every class lookup of the guest JVM's start opened it.
     */
    static boolean isHostOnlyFile(Path p, Set<String> hostOnlyFiles) {
        String name = p.getFileName() == null ? "" : p.getFileName().toString();
        if (!name.endsWith(".jar") || !artifactOf(p).isEmpty()) {
            return false;
        }
        String base = name.substring(0, name.length() - 4);
        for (String f : hostOnlyFiles) {
            if (base.equals(f) || base.startsWith(f + "-")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code p} is one of the {@code hostOnly} artifacts: by the name it carries, or, for a
     * jar that does not say (several pom.properties) in a local repository whose root is not called
     * {@code repository} ({@code -Dmaven.repo.local=DIR}), by its place {@code <group path>/<artifact>/<version>/}.
     */
    static boolean isHostOnly(Path p, Set<String> hostOnly) {
        String named = artifactOf(p);
        if (!named.isEmpty()) {
            return hostOnly.contains(named);
        }
        Path version = p.getParent();
        Path artifact = version == null ? null : version.getParent();
        if (artifact == null || version.getFileName() == null || !p.toString().endsWith(".jar")) {
            return false;
        }
        for (String ga : hostOnly) {
            String[] c = ga.split(":");
            if (artifact.endsWith(Path.of(c[0].replace('.', '/'), c[1]))
                    && p.getFileName().toString().startsWith(c[1] + "-" + version.getFileName())) {
                return true;
            }
        }
        return false;
    }

    /** group:artifact of the guest agent's own jar (its list names only what it depends on). */
    static String agentArtifact() {
        try {
            var src = GuestAgent.class.getProtectionDomain().getCodeSource();
            return src == null ? "" : artifactOf(Path.of(src.getLocation().toURI()));
        } catch (java.net.URISyntaxException | RuntimeException e) {
            return "";
        }
    }

    /**
     * group:artifact lines of every classpath list resource named {@code resource} (Maven's
     * dependency:list output): a host-side module other than this one (the suite runner) adds the
     * libraries only it uses with a list of its own.
     */
    /**
     * The coordinates of one line of {@code dependency:list}'s file, split at the colons. Maven writes the
     * file with the console's colours when it thinks the terminal has them ({@code TERM=xterm}:
     * {@code jar:2.0.5ESC[36m -- module ...}); the escape sequences are dropped first, or no version would
     * match and host-only jars such as Testcontainers would be staged into guests.
     */
    static String[] coordinates(String line) {
        return line.replaceAll("\u001B\\[[;\\d]*m", "").strip().split(" ")[0].split(":");
    }

    static Set<String> artifacts(String resource) {
        Set<String> out = new HashSet<>();
        try {
            List<URL> lists = Collections.list(GuestClasspath.class.getClassLoader().getResources(resource));
            if (lists.isEmpty()) {
                throw new IllegalStateException("missing resource " + resource + ": build the project with Maven");
            }
            for (URL list : lists) {
                try (InputStream in = list.openStream()) {
                    // "   group:artifact:type:version[:scope] [-- module ...]"; other lines are headers
                    for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                        String[] c = coordinates(line);
                        if (c.length >= 4) {
                            out.add(c[0] + ":" + c[1]);
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("unreadable resource " + resource, e);
        }
        return out;
    }

    /** group:artifact:version lines of every classpath list resource named {@code resource}. */
    static Set<String> versioned(String resource) {
        Set<String> out = new HashSet<>();
        try {
            for (URL list : Collections.list(GuestClasspath.class.getClassLoader().getResources(resource))) {
                try (InputStream in = list.openStream()) {
                    for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                        String[] c = coordinates(line);
                        if (c.length >= 4) {
                            out.add(c[0] + ":" + c[1] + ":" + c[c.length - 1]);
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("unreadable resource " + resource, e);
        }
        return out;
    }

    /** group:artifact of a classpath entry, or "" when it does not say. */
    static String artifactOf(Path p) {
        if (Files.isRegularFile(p) && p.toString().endsWith(".jar")) {
            try (JarFile jar = new JarFile(p.toFile())) {
                var props = jar.stream().filter(e -> e.getName().startsWith("META-INF/maven/")
                        && e.getName().endsWith("/pom.properties")).toList();
                if (props.size() == 1) {
                    Properties pp = new Properties();
                    try (InputStream in = jar.getInputStream(props.getFirst())) {
                        pp.load(in);
                    }
                    return pp.getProperty("groupId") + ":" + pp.getProperty("artifactId");
                }
            } catch (IOException e) {
                return "";
            }
            // .../<group path>/<artifact>/<version>/<artifact>-<version>[-classifier].jar
            Path version = p.getParent();
            Path artifact = version == null ? null : version.getParent();
            if (artifact != null && p.getFileName().toString().startsWith(artifact.getFileName() + "-"
                    + version.getFileName())) {
                for (Path root = artifact.getParent(); root != null; root = root.getParent()) {
                    if (root.getFileName() != null && root.getFileName().toString().equals("repository")) {
                        return root.relativize(artifact.getParent()).toString().replace('/', '.') + ":"
                                + artifact.getFileName();
                    }
                }
            }
        }
        return "";
    }

    /** Whether a jar or class folder holds {@code name}. */
    static boolean hasEntry(Path p, String name) {
        if (Files.isDirectory(p)) {
            return Files.exists(p.resolve(name));
        }
        try (JarFile jar = new JarFile(p.toFile())) {
            return jar.getEntry(name) != null;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Copies {@code classpath} into {@code lib} (class folders as jars: AOT caches and 9p both
     * prefer them) and returns the guest paths ({@code /hmm/host/lib/...}).
     */
    static List<String> stage(List<Path> classpath, Path lib) throws IOException {
        List<String> jars = new ArrayList<>();
        int i = 0;
        for (Path p : classpath) {
            String name = String.format("%02d-%s", i++, p.getFileName().toString());
            if (Files.isDirectory(p)) {
                name = name + ".jar";
                jarDirectory(p, lib.resolve(name));
            } else {
                // keep the timestamp: an AOT cache stays valid while its jars are unchanged
                Files.copy(p, lib.resolve(name), StandardCopyOption.COPY_ATTRIBUTES);
            }
            jars.add("/hmm/host/lib/" + name);
        }
        return jars;
    }

    /** Zips a class tree deterministically: same content, same bytes and timestamp. */
    private static void jarDirectory(Path dir, Path jar) throws IOException {
        long newest = 0;
        try (OutputStream o = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(o);
                Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                ZipEntry e = new ZipEntry(dir.relativize(f).toString().replace('\\', '/'));
                e.setTime(0);
                j.putNextEntry(e);
                try (InputStream in = Files.newInputStream(f)) {
                    in.transferTo(j);
                }
                j.closeEntry();
                newest = Math.max(newest, Files.getLastModifiedTime(f).toMillis());
            }
        }
        Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(newest));
    }
}
