package dev.hmmmirror.vm.image;

import dev.hmmmirror.vm.host.Exec;
import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.Progress;
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

/**
 * A kernel tree its owner already configured and built ({@code --kernel-tree DIR}): its bzImage
 * (or vmlinux, when it has PVH), its own modules (9p/virtio/overlay where they are not built in,
 * test_hmm), our module built against it with this host's gcc, and the kernel's hmm selftest
 * from the same source. The tree is only read; what is made from it goes into the cache, keyed by
 * the tree's path and its build outputs' sizes and times.
 */
final class KernelTrees {
    /** Options the guest cannot run without: option -> accepted values. */
    static final Map<String, List<String>> REQUIRED = required();

    /** Options whose absence only skips tests: option -> what is lost. */
    static final Map<String, String> OPTIONAL = Map.of(
            "CONFIG_DEVICE_PRIVATE", "device memory and exclusive-access tests skip",
            "CONFIG_TRANSPARENT_HUGEPAGE", "THP tests skip",
            "CONFIG_TEST_HMM", "the kernel's own hmm selftests do not run (needs CONFIG_TEST_HMM=m)");

    private final ImageCache cache;
    private final BootFiles boot;

    KernelTrees(ImageCache cache, BootFiles boot) {
        this.cache = cache;
        this.boot = boot;
    }

    private static Map<String, List<String>> required() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        List<String> y = List.of("y");
        List<String> ym = List.of("y", "m");
        // HMM itself
        m.put("CONFIG_MMU_NOTIFIER", y);
        m.put("CONFIG_HMM_MIRROR", y);
        // our module is loaded and unloaded
        m.put("CONFIG_MODULES", y);
        m.put("CONFIG_MODULE_UNLOAD", y);
        // boot: initramfs, console, devtmpfs, the 9p root under overlayfs
        m.put("CONFIG_BLK_DEV_INITRD", y);
        m.put("CONFIG_SERIAL_8250", y);
        m.put("CONFIG_SERIAL_8250_CONSOLE", y);
        m.put("CONFIG_DEVTMPFS", y);
        m.put("CONFIG_TMPFS", y);
        m.put("CONFIG_PROC_FS", y);
        m.put("CONFIG_SYSFS", y);
        m.put("CONFIG_BINFMT_ELF", y);
        m.put("CONFIG_BINFMT_SCRIPT", y);
        m.put("CONFIG_PCI", y);
        m.put("CONFIG_VIRTIO_PCI", ym);
        m.put("CONFIG_NET_9P", ym);
        m.put("CONFIG_NET_9P_VIRTIO", ym);
        m.put("CONFIG_9P_FS", ym);
        m.put("CONFIG_OVERLAY_FS", ym);
        // the guest's Java agent
        m.put("CONFIG_FUTEX", y);
        m.put("CONFIG_EPOLL", y);
        m.put("CONFIG_POSIX_TIMERS", y);
        m.put("CONFIG_ADVISE_SYSCALLS", y);
        return Map.copyOf(m);
    }

    /**
     * Fails unless {@code tree} is configured and its .config has every {@link #REQUIRED} option;
     * the message names each missing option and how to turn it on. Returns the .config.
     */
    static Map<String, String> check(Path tree) {
        Map<String, String> config = readConfig(tree);
        List<String> missing = missingOptions(config);
        if (!missing.isEmpty()) {
            throw new SetupException("the kernel tree " + tree + " cannot boot the guest suite; its .config lacks:\n  "
                    + String.join("\n  ", missing) + "\nturn them on (for example: scripts/kconfig/merge_config.sh -m "
                    + ".config <hmm-mirror>/vm-images/src/main/resources/dev/hmmmirror/vm/kconfig/hmm.config && "
                    + "make olddefconfig), rebuild (make -j$(nproc) bzImage modules) and run again");
        }
        return config;
    }

    GuestImage ensure(KernelProfile p, Userland userland) {
        Path tree = p.tree();
        Map<String, String> config = check(tree);
        OPTIONAL.forEach((k, lost) -> {
            if (!config.containsKey(k)) {
                Progress.say("kernel tree %s: %s is not set: %s", tree, k, lost);
            }
        });
        String krel = read(tree.resolve("include/config/kernel.release"), "run make in the tree first");
        boolean pvh = "y".equals(config.get("CONFIG_PVH")) && Files.isRegularFile(tree.resolve("vmlinux"));
        Path kernel = pvh ? tree.resolve("vmlinux") : tree.resolve("arch/x86/boot/bzImage");
        if (!Files.isRegularFile(kernel)) {
            throw new SetupException("no " + kernel + ": build the kernel first (make -j$(nproc) bzImage modules)");
        }
        if (!Files.isRegularFile(tree.resolve("modules.order"))) {
            throw new SetupException("no modules.order in " + tree + ": build the modules too (make -j$(nproc) modules)");
        }
        boolean testHmm = "m".equals(config.get("CONFIG_TEST_HMM"));
        String stamp = stamp(tree, kernel, config);
        Path built = cache.ensure("tree-" + Scripts.hash(List.of(), tree.toString()), stamp, "kernel tree " + tree,
                dir -> install(tree, testHmm, dir));
        Path modroot = built.resolve("modroot");
        Path modules = BootFiles.modulesDir(modroot, krel);
        Path bootDir = boot.ensure("tboot-" + Scripts.hash(List.of(), tree.toString()), p, krel, stamp, userland,
                kernel, modroot, pvh);
        Optional<Path> selftests = testHmm ? Optional.of(built.resolve("hmm-tests")) : Optional.empty();
        return new GuestImage(p, krel, userland.root(), null, Map.of(), tree.toString(), bootDir.resolve("vmlinux"),
                bootDir.resolve("initramfs.gz"), modules, tree.resolve(".config"), selftests, "", "tree-" + stamp,
                List.of(userland.root().getParent(), built, bootDir));
    }

    /** Installs the tree's modules (and, with test_hmm, builds the kernel's hmm selftest) into {@code dir}. */
    private static void install(Path tree, boolean testHmm, Path dir) throws IOException {
        Prerequisites.require("make", "make");
        Prerequisites.require("gcc", "gcc");
        Prerequisites.require("depmod", "kmod"); // without it modules_install only warns, leaving no modules.dep
        Path log = dir.resolve("build.log");
        long t = System.nanoTime();
        Progress.say("kernel tree %s: installing its modules into the cache; log %s", tree, log);
        Exec.run(log, 1800, List.of("make", "-C", tree.toString(), "INSTALL_MOD_PATH=" + dir.resolve("modroot"),
                "INSTALL_MOD_STRIP=1", "modules_install"));
        try (var found = Files.find(dir.resolve("modroot"), 5, (f, a) -> f.getFileName().toString().equals("modules.dep"))) {
            if (found.findAny().isEmpty()) {
                throw new SetupException("make modules_install in " + tree + " left no modules.dep (depmod did not run); see "
                        + log);
            }
        }
        if (testHmm) {
            Path src = Files.isSymbolicLink(tree.resolve("source")) || Files.isDirectory(tree.resolve("source"))
                    ? tree.resolve("source") : tree;
            // the uapi headers for the selftest: `make headers` fills the tree's usr/include (headers_install
            // would copy them out, but needs rsync)
            Exec.run(log, 900, List.of("make", "-C", tree.toString(), "headers"));
            Exec.run(log, 900, List.of("sh", Scripts.install("build-kselftest-hmm.sh", dir.resolve("scripts")).toString(),
                    src.toString(), tree.resolve("usr/include").toString(), dir.resolve("hmm-tests").toString()));
        }
        Progress.say("kernel tree %s: modules%s ready in %s", tree, testHmm ? " and hmm-tests" : "", Progress.since(t));
    }

    /** The options of {@code tree}'s .config that are set ({@code CONFIG_X -> y|m|value}). */
    static Map<String, String> readConfig(Path tree) {
        Path f = tree.resolve(".config");
        if (!Files.isRegularFile(f)) {
            throw new SetupException("no .config in " + tree + ": --kernel-tree wants a configured and built kernel tree "
                    + "(make olddefconfig && make -j$(nproc) bzImage modules)");
        }
        Map<String, String> m = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(f, StandardCharsets.ISO_8859_1)) {
                int eq = line.indexOf('=');
                if (line.startsWith("CONFIG_") && eq > 0) {
                    m.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
        } catch (IOException e) {
            throw new SetupException("cannot read " + f + ": " + e.getMessage(), e);
        }
        return m;
    }

    /** The required options that {@code config} lacks, one line each ({@code CONFIG_X=y (now: not set)}). */
    static List<String> missingOptions(Map<String, String> config) {
        List<String> out = new ArrayList<>();
        REQUIRED.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            String have = config.get(e.getKey());
            if (have == null || !e.getValue().contains(have)) {
                out.add(e.getKey() + "=" + String.join(" or ", e.getValue()) + " (now: "
                        + (have == null ? "not set" : have) + ")");
            }
        });
        return out;
    }

    /** What identifies this build of the tree: its kernel image's and module list's size and time, the .config. */
    private static String stamp(Path tree, Path kernel, Map<String, String> config) {
        try {
            StringBuilder b = new StringBuilder(config.toString());
            for (Path f : List.of(kernel, tree.resolve("modules.order"), tree.resolve("Module.symvers"))) {
                if (Files.exists(f)) {
                    b.append(f).append(Files.size(f)).append(Files.getLastModifiedTime(f).toMillis());
                }
            }
            return Scripts.hash(List.of("build-kselftest-hmm.sh"), b.toString());
        } catch (IOException e) {
            throw new SetupException("cannot read the build outputs of " + tree + ": " + e.getMessage(), e);
        }
    }

    private static String read(Path f, String fix) {
        try {
            return Files.readString(f).strip();
        } catch (IOException e) {
            throw new SetupException("cannot read " + f + ": " + fix, e);
        }
    }
}
