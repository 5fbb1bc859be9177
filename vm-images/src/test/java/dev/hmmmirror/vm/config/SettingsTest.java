package dev.hmmmirror.vm.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** One configuration: read in one place, documented in one table that stays in step with the code. */
class SettingsTest {
    private static Path root() {
        return Settings.fromEnvironment().projectRoot().orElseThrow();
    }

    @Test
    void propertyWinsOverEnvironmentWhichWinsOverDefault() {
        Map<String, String> props = Map.of("hmm.kernel", "debian-trixie");
        Map<String, String> env = Map.of("HMM_KERNEL", "debian-bookworm", "HMM_RUNNER", "local", "HMM_ACCEL", " ");
        Settings s = Settings.from(props::get, env::get);
        assertEquals("debian-trixie", s.kernel());
        assertEquals("local", s.runner());
        assertEquals("container", Settings.from(Map.of("hmm.runner", "container")::get,
                Map.of("HMM_RUNNER", "local")::get).runner(), "the property wins over the environment");
        assertEquals("local", Settings.from(Map.of("hmm.runner", "")::get, Map.of("HMM_RUNNER", "local")::get).runner(),
                "a blank property (the poms pass hmm.runner empty) leaves the environment's");
        assertEquals("auto", s.accel(), "blank is unset");
        assertEquals("tcg", s.with(Setting.ACCEL, "tcg").accel());
        assertEquals("auto", s.accel(), "with() leaves the original alone");
        assertTrue(s.kselftest());
        assertFalse(s.with(Setting.KSELFTEST, "false").kselftest());
        assertThrows(IllegalArgumentException.class,
                () -> s.with(Setting.TEST_TIMEOUT, "soon").testTimeoutSeconds());
    }

    /** The guest's memory: the profile's (more for 64 KiB pages' 512 MiB THPs) unless hmm.guest.memory says. */
    @Test
    void guestMemoryIsTheProfilesUnlessSet() {
        Settings none = Settings.from(Map.<String, String>of()::get, Map.<String, String>of()::get);
        var sid = dev.hmmmirror.vm.image.KernelProfile.named("debian-sid");
        var arm64 = dev.hmmmirror.vm.image.KernelProfile.named("built-7.2-arm64");
        var arm64k64 = dev.hmmmirror.vm.image.KernelProfile.named("built-7.2-arm64-64k");
        assertEquals(2048, none.guestMemoryMiB(sid));
        assertEquals(2048, none.guestMemoryMiB(arm64));
        assertEquals(6144, none.guestMemoryMiB(arm64k64));
        Settings set = Settings.from(Map.of("hmm.guest.memory", "4096")::get, Map.of("HMM_GUEST_MEMORY", "3072")::get);
        assertEquals(4096, set.guestMemoryMiB(sid), "the property wins");
        assertEquals(4096, set.guestMemoryMiB(arm64k64), "a setting overrides the profile's");
        assertEquals(3072, Settings.from(Map.<String, String>of()::get, Map.of("HMM_GUEST_MEMORY", "3072")::get)
                .guestMemoryMiB(sid));
        for (String bad : new String[] {"512", "100000", "2G"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> none.with(Setting.GUEST_MEMORY, bad).guestMemoryMiB(sid));
            assertTrue(e.getMessage().contains("hmm.guest.memory"), e.getMessage());
        }
    }

    /** docs/settings.md's table: one row per setting, with its property, variable and flag. */
    @Test
    void settingsPageListsEverySettingAsTheCodeHasIt() throws IOException {
        List<String> lines = Files.readAllLines(root().resolve("docs/settings.md"));
        int at = lines.indexOf("## The settings");
        assertTrue(at >= 0, "docs/settings.md has no '## The settings' section");
        Map<String, String[]> rows = new LinkedHashMap<>();
        for (String line : lines.subList(at + 1, lines.size())) {
            if (line.startsWith("## ")) {
                break;
            }
            if (line.startsWith("| `hmm.")) {
                String[] cells = line.split("\\|");
                rows.put(strip(cells[1]), new String[] {strip(cells[2]), strip(cells[3])});
            }
        }
        List<String> expected = new ArrayList<>();
        for (Setting s : Setting.values()) {
            expected.add(s.property());
            String[] row = rows.get(s.property());
            assertTrue(row != null, "docs/settings.md's table lacks " + s.property());
            assertEquals(s.env(), row[0], "environment variable of " + s.property());
            assertEquals(s.flag() == null ? "" : s.flag(), row[1], "flag of " + s.property());
        }
        assertEquals(expected, List.copyOf(rows.keySet()), "docs/settings.md's rows, in the order of Setting");
    }

    private static String strip(String cell) {
        String c = cell.strip();
        return c.equals("-") ? "" : c.replace("`", "");
    }

    /** Every HMM_* variable a ci/ script reads is a setting or a row of the scripts' table, and no row is stale. */
    @Test
    void everyScriptVariableIsDocumented() throws IOException {
        List<String> readme = Files.readAllLines(root().resolve("docs/settings.md"));
        java.util.Set<String> scriptRows = new java.util.TreeSet<>();
        for (String line : readme) {
            var m = java.util.regex.Pattern.compile("^\\| `(HMM_[A-Z_]+)` \\| `(ci/|\\.ci/)").matcher(line);
            if (m.find()) {
                scriptRows.add(m.group(1));
            }
        }
        java.util.Set<String> settingsEnv = new java.util.TreeSet<>();
        for (Setting s : Setting.values()) {
            settingsEnv.add(s.env());
        }
        java.util.Set<String> used = new java.util.TreeSet<>();
        List<Path> scripts = new ArrayList<>();
        try (Stream<Path> ci = Files.list(root().resolve("ci"))) {
            scripts.addAll(ci.toList());
        }
        scripts.add(root().resolve(".ci/run"));
        var var = java.util.regex.Pattern.compile("\\$\\{?(HMM_[A-Z_]*[A-Z])\\b");
        for (Path script : scripts) {
            var m = var.matcher(Files.readString(script));
            while (m.find()) {
                used.add(m.group(1));
            }
        }
        for (String v : used) {
            assertTrue(settingsEnv.contains(v) || scriptRows.contains(v), v + " is read by a ci/ script but is "
                    + "neither a Setting nor in docs/settings.md's table of script variables");
        }
        for (String v : scriptRows) {
            assertTrue(used.contains(v), "docs/settings.md lists " + v + " but no ci/ script reads it");
        }
    }

    /** No host code reads an hmm property or HMM variable itself: it takes a Settings. */
    @Test
    void onlyTheConfigPackageReadsSettings() throws IOException {
        List<String> offenders = new ArrayList<>();
        for (String module : List.of("vm-images", "junit-extension", "suite-runner")) {
            Path src = root().resolve(module).resolve("src/main/java");
            try (Stream<Path> files = Files.walk(src)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    if (f.toString().contains("/vm/config/")) {
                        continue;
                    }
                    String text = Files.readString(f);
                    if (text.matches("(?s).*(getProperty|getBoolean|getLong|getInteger)\\(\"hmm\\..*")
                            || text.matches("(?s).*getenv\\(\"HMM_.*") || text.contains("System.setProperty(")) {
                        offenders.add(root().relativize(f).toString());
                    }
                }
            }
        }
        assertEquals(List.of(), offenders, "read settings through dev.hmmmirror.vm.config.Settings");
    }

    @Test
    void dockerHostsAreAddressesWithTheirSlots() {
        Settings s = Settings.from(java.util.Map.of("hmm.docker.hosts", "tcp://kvm1:2375, tcp://kvm2:2375*2 local")::get,
                k -> null);
        assertEquals(java.util.List.of(java.util.Map.entry("tcp://kvm1:2375", 1), java.util.Map.entry("tcp://kvm2:2375", 2),
                java.util.Map.entry("local", 1)), s.dockerHosts());
        assertEquals(java.util.List.of(), Settings.from(k -> null, k -> null).dockerHosts());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Settings.from(
                java.util.Map.of("hmm.docker.hosts", "tcp://a:1*0")::get, k -> null).dockerHosts());
    }
}
