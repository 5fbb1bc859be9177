package dev.hmmmirror.explorer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a JVM that a guest process starts (an explorer campaign, its jobs, a test's
 * victim): this JVM's java and class path, the caller's flags and, when the guest agent says where its
 * AOT cache is ({@value #AOT_CACHE_PROPERTY}), that cache. The class path is the agent's, so the
 * cache applies: a child then finds the JDK's, the bindings' and JUnit's classes there, linked, instead of
 * loading them from the jars over 9p (an explorer campaign of 2 programs in a guest: 8.9-9.3 s against
 * 9.8-11.9 s; docs/performance.md, run O). Picocli's classes stay out of any cache: they are class files of
 * Java 5, which the JDK verifies the old way and then does not archive ("Old class has been linked").
 */
public final class ChildJvm {
    /** Where the guest agent's AOT cache is, set by the host on the agent's command line when there is one. */
    public static final String AOT_CACHE_PROPERTY = "hmm.guest.aotCache";

    private ChildJvm() {}

    /** {@code java FLAGS [-XX:AOTCache=...] -cp CLASSPATH MAINCLASS}; the caller adds the arguments. */
    public static List<String> command(String mainClass, String... flags) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(flags));
        cmd.addAll(aotCache());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        return cmd;
    }

    /** The flags that give a child the agent's AOT cache, or none (no cache, or not in a guest agent). */
    static List<String> aotCache() {
        String cache = System.getProperty(AOT_CACHE_PROPERTY, "");
        return !cache.isEmpty() && Files.isRegularFile(Path.of(cache)) ? List.of("-XX:AOTCache=" + cache) : List.of();
    }
}
