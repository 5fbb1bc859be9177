package dev.hmmmirror.vm.image;

import dev.hmmmirror.vm.host.SetupException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A kernel the guest tests can boot.
 * <ul>
 * <li>{@link Kind#STOCK}: a Debian release's own kernel package, unchanged (no compile);</li>
 * <li>{@link Kind#BUILT}: built here from that release's {@code linux-source-X} package with the
 * {@code kconfig/hmm.config} fragment (plus {@code kconfig/debug.config} for the debug variant),
 * with the kernel's own {@code test_hmm} and hmm selftests;</li>
 * <li>{@link Kind#TREE}: a kernel tree the user already built ({@code --kernel-tree DIR}).</li>
 * </ul>
 *
 * @param name        what users pass as {@code -Dhmm.kernel=} (a tree: {@code tree:/path/to/linux})
 * @param kind        where the kernel comes from
 * @param suite       the Debian suite the kernel (stock) or its source and gcc (built) come from
 * @param source      the linux-source version of a built kernel, e.g. {@code 7.2} (empty otherwise)
 * @param debug       a built kernel with the debug fragment (KASAN, lockdep, DEBUG_VM, kmemleak)
 * @param tree        the kernel tree of a {@link Kind#TREE} profile (null otherwise)
 * @param description one line for listings
 * @param toolRoot    a tree's toolchain: the root file system (a chroot, an unpacked container image) whose
 *                    compiler built it, where our module, the kernel's hmm-tests and gcov run; null: found by
 *                    {@link #toolRootOf(Path)} (a root the tree lies in), else this host's own tools
 * @param arch        the guest's Debian architecture: {@link #AMD64} (QEMU {@code qemu-system-x86_64}) or
 *                    {@link #ARM64} ({@code qemu-system-aarch64 -M virt}, always TCG on an x86-64 host)
 * @param flavour     the Debian kernel flavour of a stock kernel: its metapackage is {@code linux-image-FLAVOUR}
 *                    ({@code amd64}, {@code arm64}, {@code arm64-16k}: 16 KiB pages); the architecture for others
 * @param memoryMiB   the guest's memory in MiB, split over its two NUMA nodes: {@link #DEFAULT_MEMORY_MIB} but where a
 *                    kernel's huge pages need more ({@code built-7.2-arm64-64k}: 512 MiB THPs); {@code hmm.guest.memory}
 *                    overrides it
 */
public record KernelProfile(String name, Kind kind, String suite, String source, boolean debug, Path tree,
        String description, Path toolRoot, String arch, String flavour, int memoryMiB) {
    /** The guest memory of every profile but those that say otherwise: 2 GiB, two nodes of 1 GiB. */
    public static final int DEFAULT_MEMORY_MIB = 2048;

    /**
     * The guest memory of {@code built-7.2-arm64-64k}: 6 GiB, two nodes of 3 GiB. With 64 KiB pages a THP is
     * 512 MiB, one free order-13 block of a node, and a pageblock is as large: in 1 GiB nodes
     * {@code MADV_COLLAPSE} failed with ENOMEM (docs/arm64.md).
     */
    public static final int ARM64_64K_MEMORY_MIB = 6144;

    /** A profile with the default guest memory ({@link #DEFAULT_MEMORY_MIB}). */
    public KernelProfile(String name, Kind kind, String suite, String source, boolean debug, Path tree,
            String description, Path toolRoot, String arch, String flavour) {
        this(name, kind, suite, source, debug, tree, description, toolRoot, arch, flavour, DEFAULT_MEMORY_MIB);
    }

    /** The Debian architecture of x86-64 guests (every profile but the arm64 ones). */
    public static final String AMD64 = "amd64";

    /** The Debian architecture of arm64 guests. */
    public static final String ARM64 = "arm64";

    /** A profile of an x86-64 guest. */
    public KernelProfile(String name, Kind kind, String suite, String source, boolean debug, Path tree,
            String description, Path toolRoot) {
        this(name, kind, suite, source, debug, tree, description, toolRoot, AMD64);
    }

    /** A profile of a guest of Debian architecture {@code arch}, its kernel of the flavour named like it. */
    public KernelProfile(String name, Kind kind, String suite, String source, boolean debug, Path tree,
            String description, Path toolRoot, String arch) {
        this(name, kind, suite, source, debug, tree, description, toolRoot, arch, arch);
    }

    /** Whether the guest is not x86-64: its userland, kernel root and QEMU are those of {@link #arch}. */
    public boolean foreign() {
        return !AMD64.equals(arch);
    }

    /**
     * The guest kernel's base page size in KiB as the profile builds it: 16 for the {@code -16k} flavour, 64 for
     * {@code -64k}, else 4 (x86-64, and arm64's 4 KiB kernels; a tree is taken to be 4 KiB until its guest says
     * otherwise: the suite runner asks the guest, {@code getconf PAGESIZE}).
     */
    public int pageSizeKiB() {
        return flavour.endsWith("-16k") ? 16 : flavour.endsWith("-64k") ? 64 : 4;
    }

    /**
     * The name of the same kernel built for any architecture and page size: what a matrix compares across
     * architectures. A stock kernel's is {@code debian-SUITE} ({@code debian-sid}, {@code debian-sid-arm64} and
     * {@code debian-sid-arm64-16k} are the same sid kernel), a built one's {@code built-SOURCE[-debug]}
     * ({@code built-7.2}, {@code built-7.2-arm64}, {@code built-7.2-arm64-64k}); a tree's is its own name.
     */
    public String kernelFamily() {
        return switch (kind) {
            case STOCK -> "debian-" + suite;
            case BUILT -> "built-" + source + (debug ? "-debug" : "");
            case TREE -> name;
        };
    }

    /** A known profile (stock, built or arm64; not a tree) called {@code name}, if there is one. */
    public static java.util.Optional<KernelProfile> known(String name) {
        return all().stream().filter(p -> p.name.equals(name)).findFirst();
    }

    /**
     * The CPU of the guest's GNU triplet ({@code x86_64}, {@code aarch64}): guest programs are compiled with
     * {@code /usr/bin/CPU-linux-gnu-gcc-N} of the kernel root, native or cross.
     */
    public String gnuCpu() {
        return ARM64.equals(arch) ? "aarch64" : "x86_64";
    }

    /** Where a profile's kernel comes from. */
    public enum Kind {
        STOCK, BUILT, TREE
    }

    /** The profile used when none is given. */
    public static final String DEFAULT = "debian-sid";

    /** The Debian suite the shared guest userland (with its Java 25 runtime) comes from. */
    public static final String USERLAND_SUITE = "sid";

    /** Prefix of a tree profile's name: {@code tree:/path/to/linux}. */
    public static final String TREE_PREFIX = "tree:";

    /** Separates a tree from its toolchain root in a profile name: {@code tree:/path/to/linux?root=/srv/sid}. */
    public static final String ROOT_SEPARATOR = "?root=";

    private static final List<KernelProfile> STOCK = List.of(
            stock("debian-sid", "sid", "Debian sid stock kernel (7.x): HMM_MIRROR + DEVICE_PRIVATE, the full feature set"),
            stock("debian-trixie", "trixie", "Debian 13 stock kernel (6.12): HMM_MIRROR only, no device-private memory"),
            stock("debian-bookworm", "bookworm", "Debian 12 stock kernel (6.1): HMM_MIRROR only, no device-private memory"));

    /**
     * The arm64 profiles (stock and built): named with {@code --kernel}, never part of the default matrices (an arm64 guest
     * runs under TCG at a fraction of an x86-64 guest's speed on an x86-64 host; docs/arm64.md).
     */
    private static final List<KernelProfile> ARM64_PROFILES = List.of(
            new KernelProfile("debian-sid-arm64", Kind.STOCK, "sid", "", false, null,
                    "Debian sid stock arm64 kernel (7.x, 4 KiB pages) under qemu-system-aarch64 (TCG, slow): "
                            + "HMM_MIRROR + DEVICE_PRIVATE", null, ARM64),
            new KernelProfile("debian-sid-arm64-16k", Kind.STOCK, "sid", "", false, null,
                    "Debian sid stock arm64 kernel with 16 KiB pages (linux-image-arm64-16k: 32 MiB PMD THPs) "
                            + "under qemu-system-aarch64 (TCG, slow)", null, ARM64, "arm64-16k"),
            new KernelProfile("built-7.2-arm64", Kind.BUILT, "sid", "7.2", false, null,
                    "Linux 7.2 from Debian sid's linux-source-7.2 for arm64 (4 KiB pages), cross-compiled here "
                            + "(~20 min, cached) with full HMM and test_hmm; qemu-system-aarch64 (TCG, slow)",
                    null, ARM64, "arm64"),
            new KernelProfile("built-7.2-arm64-64k", Kind.BUILT, "sid", "7.2", false, null,
                    "built-7.2-arm64 with 64 KiB pages (CONFIG_ARM64_64K_PAGES: 512 MiB PMD THPs), "
                            + "cross-compiled here (~20 min, cached); qemu-system-aarch64 (TCG, slow); 6 GiB guests",
                    null, ARM64, "arm64-64k", ARM64_64K_MEMORY_MIB));

    /** linux-source version -> the Debian suite that ships it (and whose gcc builds it). */
    private static final List<String[]> SOURCES = List.of(
            new String[] {"7.2", "sid"}, new String[] {"6.12", "trixie"}, new String[] {"6.1", "bookworm"});

    private static final List<KernelProfile> BUILT = built();

    private static KernelProfile stock(String name, String suite, String description) {
        return new KernelProfile(name, Kind.STOCK, suite, "", false, null, description, null);
    }

    private static List<KernelProfile> built() {
        List<KernelProfile> out = new ArrayList<>();
        for (String[] s : SOURCES) {
            out.add(new KernelProfile("built-" + s[0], Kind.BUILT, s[1], s[0], false, null,
                    "Linux " + s[0] + " from Debian " + s[1] + "'s linux-source-" + s[0]
                            + ", small config with full HMM and test_hmm (compiled here, ~12 min, cached)", null));
            out.add(new KernelProfile("built-" + s[0] + "-debug", Kind.BUILT, s[1], s[0], true, null,
                    "built-" + s[0] + " + KASAN, lockdep, DEBUG_VM, kmemleak, DEBUG_ATOMIC_SLEEP", null));
        }
        return List.copyOf(out);
    }

    /** The stock profiles. */
    public static List<KernelProfile> stock() {
        return STOCK;
    }

    /** The arm64 profiles (not in {@link #stock()}: no default matrix boots them). */
    public static List<KernelProfile> arm64() {
        return ARM64_PROFILES;
    }

    /** The built profiles (plain and debug per source version). */
    public static List<KernelProfile> builtProfiles() {
        return BUILT;
    }

    /** A profile for the kernel tree {@code dir} that its owner already built (its toolchain: {@link #toolRootOf}). */
    public static KernelProfile tree(Path dir) {
        return tree(dir, null);
    }

    /**
     * A profile for the kernel tree {@code dir}, built with the compiler of the root file system
     * {@code root} (a chroot or unpacked container image; null: {@link #toolRootOf} finds it, or this host's).
     * Inside that root the tree is seen at its path relative to the root when it lies in it, else at its
     * host path.
     */
    public static KernelProfile tree(Path dir, Path root) {
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(abs)) {
            throw new SetupException("--kernel-tree " + dir + ": no such directory");
        }
        Path r = root == null ? null : root.toAbsolutePath().normalize();
        if (r != null && !Files.isExecutable(r.resolve("usr/bin/make"))) {
            throw new SetupException("--kernel-tree-root " + root + ": no usr/bin/make there; name the root file "
                    + "system (chroot, unpacked container image) whose gcc and make built " + abs);
        }
        return new KernelProfile(TREE_PREFIX + abs + (r == null ? "" : ROOT_SEPARATOR + r), Kind.TREE, "", "", false, abs,
                "the kernel tree " + abs + (r == null ? "" : ", built in " + r), r);
    }

    /**
     * The toolchain root of a tree: the one named, else the nearest directory above the tree that is a
     * root file system with its own make and gcc (a tree built inside a chroot), else null (this host).
     */
    public Path effectiveToolRoot() {
        return toolRoot != null ? toolRoot : tree == null ? null : toolRootOf(tree);
    }

    /** The nearest proper ancestor of {@code tree} holding {@code etc/os-release}, {@code usr/bin/make} and a gcc; or null. */
    public static Path toolRootOf(Path tree) {
        for (Path p = tree.toAbsolutePath().normalize().getParent(); p != null && p.getParent() != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("etc/os-release")) && Files.isExecutable(p.resolve("usr/bin/make"))
                    && Files.exists(p.resolve("usr/bin/gcc"), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                return p;
            }
        }
        return null;
    }

    /** The profile called {@code name} ({@code tree:DIR} for a tree); fails with the list of known names. */
    public static KernelProfile named(String name) {
        String n = name == null || name.isBlank() ? DEFAULT : name.strip();
        if (n.startsWith(TREE_PREFIX)) {
            String rest = n.substring(TREE_PREFIX.length());
            int at = rest.indexOf(ROOT_SEPARATOR);
            return at < 0 ? tree(Path.of(rest))
                    : tree(Path.of(rest.substring(0, at)), Path.of(rest.substring(at + ROOT_SEPARATOR.length())));
        }
        return all().stream().filter(p -> p.name.equals(n)).findFirst()
                .orElseThrow(() -> new SetupException("unknown kernel profile '" + n + "': use one of "
                        + all().stream().map(KernelProfile::name).collect(Collectors.joining(", "))
                        + ", or tree:/path/to/a/built/linux"));
    }

    private static List<KernelProfile> all() {
        List<KernelProfile> all = new ArrayList<>(STOCK);
        all.addAll(BUILT);
        all.addAll(ARM64_PROFILES);
        return all;
    }

    /** A name usable as a directory name (report and run folders). */
    public String dirName() {
        return kind == Kind.TREE ? "tree-" + tree.getFileName() : name;
    }
}
