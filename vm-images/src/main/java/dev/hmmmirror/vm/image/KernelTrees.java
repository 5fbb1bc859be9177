package dev.hmmmirror.vm.image;

import dev.hmmmirror.vm.host.Exec;
import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.host.Toolchain;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.commons.io.file.PathUtils;

/**
 * A kernel tree its owner already configured and built ({@code --kernel-tree DIR}): its bzImage
 * (or vmlinux, when it has PVH and no KASAN), its own modules (9p/virtio/overlay where they are not built in,
 * test_hmm), our module built against it with the tree's toolchain (the root file system it was built in,
 * named or found above the tree, else this host's gcc), and the kernel's hmm selftest from the same
 * source. The tree is only read (no make runs in it); what is made from it goes into the cache, in
 * entries named by the tree's path (trees never evict each other) and keyed by its build outputs' sizes
 * and times.
 */
final class KernelTrees {
    /** Options the guest cannot run without: option -> accepted values. */
    static final Map<String, List<String>> REQUIRED = required();

    /** Options whose absence only skips tests: option -> what is lost. */
    static final Map<String, String> OPTIONAL = Map.of(
            "CONFIG_DEVICE_PRIVATE", "device memory and exclusive-access tests skip",
            "CONFIG_TRANSPARENT_HUGEPAGE", "THP tests skip",
            "CONFIG_TEST_HMM", "the kernel's own hmm selftests do not run (needs CONFIG_TEST_HMM=m)",
            "CONFIG_RDMA_RXE", "the rxe tests (a second mirror) and rdma-core's ODP tests skip (kconfig/rdma.config "
                    + "has the options: RDMA_RXE=m, INFINIBAND_USER_ACCESS=m, INFINIBAND_ON_DEMAND_PAGING=y)");

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
        // QEMU enters a kernel's ELF through PVH (no decompression under TCG); a KASAN kernel entered that way
        // hangs before its first console line, so it boots its bzImage (as built-X-debug does)
        boolean kasan = "y".equals(config.get("CONFIG_KASAN"));
        boolean pvh = !kasan && "y".equals(config.get("CONFIG_PVH")) && Files.isRegularFile(tree.resolve("vmlinux"));
        Path kernel = pvh ? tree.resolve("vmlinux") : tree.resolve("arch/x86/boot/bzImage");
        if (!Files.isRegularFile(kernel)) {
            throw new SetupException("no " + kernel + ": build the kernel first (make -j$(nproc) bzImage modules)");
        }
        if (!Files.isRegularFile(tree.resolve("modules.order"))) {
            throw new SetupException("no modules.order in " + tree + ": build the modules too (make -j$(nproc) modules)");
        }
        boolean testHmm = "m".equals(config.get("CONFIG_TEST_HMM"));
        Path root = p.effectiveToolRoot();
        Toolchain tc = toolchain(tree, root);
        String stamp = stamp(tree, kernel, config, root);
        String id = treeId(tree);
        Path built = cache.ensure("tree-" + id, stamp, "kernel tree " + tree,
                dir -> install(tree, krel, testHmm, tc, root, dir));
        Path modroot = built.resolve("modroot");
        Path modules = BootFiles.modulesDir(modroot, krel);
        Path bootDir = boot.ensure("tboot-" + id, p, krel, stamp, userland, kernel, modroot, pvh);
        Optional<Path> selftests = testHmm ? Optional.of(built.resolve("hmm-tests")) : Optional.empty();
        return new GuestImage(p, krel, userland.root(), root, binds(tree, root), inside(tree, root),
                bootDir.resolve("vmlinux"), bootDir.resolve("initramfs.gz"), modules, tree.resolve(".config"), selftests,
                // under KASAN + TCG the pc machine's ACPI _PRT method runs into ACPICA's 30 s loop timeout per PCI device
                kasan ? "pci=noacpi" : "", "tree-" + id + "-" + stamp, List.of(userland.root().getParent(), built, bootDir));
    }

    /** What names a tree's cache entries (tree-, tboot-, kmod-...-t): its path, so that trees never evict each other. */
    static String treeId(Path tree) {
        return Scripts.hash(List.of(), tree.toString());
    }

    /** Where the toolchain sees {@code tree}: its path inside {@code root} when it lies there, else its own path. */
    static String inside(Path tree, Path root) {
        return root != null && tree.startsWith(root) ? "/" + root.relativize(tree) : tree.toString();
    }

    private static Map<String, Path> binds(Path tree, Path root) {
        return root == null || tree.startsWith(root) ? Map.of() : Map.of(tree.toString(), tree);
    }

    /** The tree's toolchain: a chroot of {@code root} (the tree bound in at its own path when outside), else this host's. */
    static Toolchain toolchain(Path tree, Path root) {
        return root == null ? Toolchain.host() : Toolchain.chroot(root, binds(tree, root));
    }

    /**
     * Copies the tree's modules (those of modules.order) into {@code dir}/modroot and runs depmod there, and
     * with test_hmm builds the kernel's hmm selftest with the tree's toolchain. Nothing is written into the
     * tree: no make runs in it (make would rebuild its host tools and headers when the compiler differs).
     */
    private static void install(Path tree, String krel, boolean testHmm, Toolchain tc, Path root, Path dir)
            throws IOException {
        Prerequisites.require("depmod", "kmod");
        Path log = dir.resolve("build.log");
        long t = System.nanoTime();
        Progress.say("kernel tree %s: copying its modules into the cache%s; log %s", tree,
                root == null ? "" : " (toolchain: the root " + root + ")", log);
        installModules(tree, krel, dir.resolve("modroot"), dir.resolve("scripts"), log);
        if (testHmm) {
            Path work = tc.scratch("hmm-tree-selftest-" + ProcessHandle.current().pid() + "-" + treeId(tree));
            try {
                Scripts.install("build-kselftest-hmm.sh", work);
                String in = inside(tree, root);
                String src = Files.isSymbolicLink(tree.resolve("source")) || Files.isDirectory(tree.resolve("source"))
                        ? in + "/source" : in;
                // the uapi headers of the tree when it has exported them (make headers), else the toolchain's own
                String uapi = Files.isDirectory(tree.resolve("usr/include/linux")) ? in + "/usr/include" : "/usr/include";
                tc.run(log, 900, "sh " + tc.path(work.resolve("build-kselftest-hmm.sh")) + " " + src + " " + uapi + " "
                        + tc.path(work.resolve("hmm-tests")));
                Files.copy(work.resolve("hmm-tests"), dir.resolve("hmm-tests"), StandardCopyOption.COPY_ATTRIBUTES);
            } finally {
                PathUtils.deleteDirectory(work);
            }
        }
        Progress.say("kernel tree %s: modules%s ready in %s", tree, testHmm ? " and hmm-tests" : "", Progress.since(t));
    }

    /** Copies the modules of {@code tree} into {@code modroot} ({@code lib/modules/KREL}) and runs depmod there. */
    static void installModules(Path tree, String krel, Path modroot, Path scripts, Path log) {
        Exec.run(log, 900, List.of("bash", Scripts.install("install-tree-modules.sh", scripts).toString(),
                tree.toString(), krel, modroot.toString()));
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
    private static String stamp(Path tree, Path kernel, Map<String, String> config, Path root) {
        try {
            StringBuilder b = new StringBuilder(config.toString()).append(root);
            for (Path f : List.of(kernel, tree.resolve("modules.order"), tree.resolve("Module.symvers"))) {
                if (Files.exists(f)) {
                    b.append(f).append(Files.size(f)).append(Files.getLastModifiedTime(f).toMillis());
                }
            }
            return Scripts.hash(List.of("build-kselftest-hmm.sh", "install-tree-modules.sh"), b.toString());
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
