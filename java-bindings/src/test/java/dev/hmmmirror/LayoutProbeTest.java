package dev.hmmmirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.internal.Command;
import dev.hmmmirror.internal.gen.HmmMirrorH;
import dev.hmmmirror.internal.gen.hmm_mirror_version;
import java.io.IOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compiles a C probe against native-headers/hmm_mirror.h and checks that every struct size,
 * field offset, ioctl number and constant the C compiler sees is what the Java side uses.
 */
class LayoutProbeTest {
    static final Path ROOT = Path.of(System.getProperty("hmm.root", "..")).toAbsolutePath().normalize();

    @Test
    void everyLayoutAndConstantMatchesTheCompiler(@TempDir Path tmp) throws Exception {
        Map<String, Long> c = probe(tmp);
        Map<String, Long> java = javaSide();
        // every line the C probe prints must be covered on the Java side, and agree
        assertEquals(new TreeMap<>(c).keySet(), new TreeMap<>(java).keySet(),
                "the C probe and the Java side check different items; update both");
        for (var e : c.entrySet()) {
            assertEquals(e.getValue(), java.get(e.getKey()), "mismatch for " + e.getKey());
        }
    }

    @Test
    void commandsUseTheGeneratedRequestNumbers() {
        assertEquals(HmmMirrorH.HMM_MIRROR_IOC_VERSION(), Command.VERSION.request());
    }

    private static Map<String, Long> javaSide() {
        Map<String, Long> m = new LinkedHashMap<>();
        GroupLayout v = hmm_mirror_version.layout();
        m.put("sizeof.hmm_mirror_version", v.byteSize());
        for (MemoryLayout f : v.memberLayouts()) {
            String name = f.name().orElseThrow();
            m.put("offsetof.hmm_mirror_version." + name,
                    v.byteOffset(MemoryLayout.PathElement.groupElement(name)));
        }
        m.put("const.HMM_MIRROR_ABI_VERSION", (long) HmmMirrorH.HMM_MIRROR_ABI_VERSION());
        m.put("const.HMM_MIRROR_IOC_MAGIC", (long) HmmMirrorH.HMM_MIRROR_IOC_MAGIC());
        m.put("const.HMM_MIRROR_IOC_VERSION", Command.VERSION.request());
        m.put("const.HMM_MIRROR_CAP_MIRROR", Capability.MIRROR.bit());
        m.put("const.HMM_MIRROR_CAP_DEVICE_PRIVATE", Capability.DEVICE_PRIVATE.bit());
        m.put("const.HMM_MIRROR_CAP_THP", Capability.THP.bit());
        return m;
    }

    private static Map<String, Long> probe(Path tmp) throws IOException, InterruptedException {
        Path src = ROOT.resolve("java-bindings/src/test/c/layout_probe.c");
        Path exe = tmp.resolve("layout_probe");
        run(tmp, "cc", "-Wall", "-Werror", "-I", ROOT.resolve("native-headers").toString(), "-o",
                exe.toString(), src.toString());
        String out = run(tmp, exe.toString());
        Map<String, Long> m = new LinkedHashMap<>();
        for (String line : out.split("\n")) {
            String[] kv = line.trim().split(" ");
            m.put(kv[0], Long.parseUnsignedLong(kv[1]));
        }
        assertTrue(m.size() > 5, "probe printed too little: " + out);
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
