package dev.hmmmirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.raw.Command;
import dev.hmmmirror.internal.gen.HmmMirrorH;
import java.io.IOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compiles a C probe against native-headers/hmm_mirror.h and checks that every struct size,
 * field offset, ioctl number and constant the C compiler sees is what the Java side uses: the
 * jextract layouts, the generated constants and the hand-written {@link Command} table.
 */
class LayoutProbeTest {
    static final Path ROOT = Path.of(System.getProperty("hmm.root", "..")).toAbsolutePath().normalize();

    @Test
    void everyLayoutAndConstantMatchesTheCompiler(@TempDir Path tmp) throws Exception {
        Map<String, Long> c = probe(tmp);
        Map<String, Long> java = javaSide();
        assertEquals(new TreeSet<>(java.keySet()), new TreeSet<>(c.keySet()),
                "the C probe and the Java side check different items; regenerate the probe's list");
        for (var e : c.entrySet()) {
            assertEquals(e.getValue(), java.get(e.getKey()), "C and Java disagree on " + e.getKey());
        }
    }

    @Test
    void theProbeCoversEveryStructAndConstantOfTheHeader() throws Exception {
        String header = Files.readString(ROOT.resolve("native-headers/hmm_mirror.h"));
        String probe = Files.readString(ROOT.resolve("java-bindings/src/test/c/layout_probe.c"));
        Matcher s = Pattern.compile("(?m)^struct (\\w+) \\{\\n(.*?)^\\};", Pattern.DOTALL).matcher(header);
        while (s.find()) {
            assertTrue(probe.contains("SIZE(" + s.group(1) + ")"), "probe misses sizeof " + s.group(1));
            Matcher f = Pattern.compile("\\b(\\w+)(?:\\[\\d+])?;").matcher(s.group(2));
            while (f.find()) {
                assertTrue(probe.contains("OFF(" + s.group(1) + ", " + f.group(1) + ")"),
                        "probe misses " + s.group(1) + "." + f.group(1));
            }
        }
        Matcher d = Pattern.compile("(?m)^#define (HMM_MIRROR_\\w+)[ \\t]").matcher(header);
        while (d.find()) {
            if (!d.group(1).equals("HMM_MIRROR_DEVICE_PREFIX")) {
                assertTrue(probe.contains("CONST(" + d.group(1) + ")"), "probe misses " + d.group(1));
            }
        }
    }

    @Test
    void commandsUseTheGeneratedRequestNumbers() throws Exception {
        for (Command c : Command.values()) {
            Method m = HmmMirrorH.class.getMethod(c.ioctlName());
            assertEquals(((Number) m.invoke(null)).longValue(), c.request(), c.name());
        }
    }

    private static Map<String, Long> javaSide() throws Exception {
        Map<String, Long> m = new LinkedHashMap<>();
        Path gen = ROOT.resolve("java-bindings/src/generated/java/dev/hmmmirror/internal/gen");
        try (var files = Files.list(gen)) {
            for (Path f : files.sorted().toList()) {
                String name = f.getFileName().toString().replace(".java", "");
                if (!name.startsWith("hmm_mirror_")) {
                    continue;
                }
                GroupLayout layout = (GroupLayout) Class.forName("dev.hmmmirror.internal.gen." + name)
                        .getMethod("layout").invoke(null);
                m.put("sizeof." + name, layout.byteSize());
                for (MemoryLayout member : layout.memberLayouts()) {
                    member.name().ifPresent(field -> m.put("offsetof." + name + "." + field,
                            layout.byteOffset(MemoryLayout.PathElement.groupElement(field))));
                }
            }
        }
        for (Method method : HmmMirrorH.class.getMethods()) {
            if (Modifier.isStatic(method.getModifiers()) && method.getName().startsWith("HMM_MIRROR_")
                    && method.getParameterCount() == 0 && Number.class.isAssignableFrom(box(method.getReturnType()))) {
                m.put("const." + method.getName(), ((Number) method.invoke(null)).longValue());
            }
        }
        for (Command c : Command.values()) {
            m.put("const." + c.ioctlName(), c.request());
        }
        return m;
    }

    private static Class<?> box(Class<?> c) {
        return c == int.class ? Integer.class : c == long.class ? Long.class : c;
    }

    private static Map<String, Long> probe(Path tmp) throws IOException, InterruptedException {
        Path src = ROOT.resolve("java-bindings/src/test/c/layout_probe.c");
        Path exe = tmp.resolve("layout_probe");
        run(tmp, "cc", "-Wall", "-Werror", "-I", ROOT.resolve("native-headers").toString(), "-o",
                exe.toString(), src.toString());
        String out = run(tmp, exe.toString());
        Map<String, Long> m = new TreeMap<>();
        for (String line : out.split("\n")) {
            String[] kv = line.trim().split(" ");
            m.put(kv[0], Long.parseUnsignedLong(kv[1]));
        }
        assertTrue(m.size() > 50, "probe printed too little: " + out);
        return m;
    }

    private static String run(Path dir, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timeout: " + String.join(" ", cmd));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + out);
        return out;
    }
}
