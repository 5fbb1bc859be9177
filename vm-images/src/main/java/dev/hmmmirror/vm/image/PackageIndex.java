package dev.hmmmirror.vm.image;

import dev.hmmmirror.vm.host.Exec;
import dev.hmmmirror.vm.host.Prerequisites;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.host.SetupException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a Debian suite currently offers: the kernel release behind {@code linux-image-amd64} (or
 * {@code linux-image-arm64}) and the
 * versions of the packages a guest image is made of. Read with apt from a private state directory
 * in the cache (the host's apt state is never touched), and remembered for a day so that warm runs
 * need no network.
 */
public final class PackageIndex {
    private static final Duration FRESH = Duration.ofHours(24);

    private final ImageCache cache;
    private final String mirror;

    public PackageIndex(ImageCache cache, String mirror) {
        this.cache = cache;
        this.mirror = mirror;
    }

    /**
     * The resolved versions for {@code suite}: key {@code kernel.release} plus one entry per package
     * of {@code packages} (a {@code %k} in a name stands for the kernel release).
     */
    public Map<String, String> resolve(String suite, List<String> packages) {
        return resolve(suite, KernelProfile.AMD64, packages);
    }

    /**
     * The resolved versions for {@code suite} of Debian architecture {@code arch} ({@code amd64}: the
     * kernel behind {@code linux-image-amd64}; {@code arm64}: behind {@code linux-image-arm64}), as
     * {@link #resolve(String, List)}.
     */
    public Map<String, String> resolve(String suite, String arch, List<String> packages) {
        return resolve(suite, arch, arch, packages);
    }

    /**
     * As {@link #resolve(String, String, List)}, the kernel release the one behind {@code linux-image-FLAVOUR}
     * ({@code arm64-16k}: the 16 KiB-page arm64 kernel).
     */
    public Map<String, String> resolve(String suite, String arch, String flavour, List<String> packages) {
        Path dir = cache.root().resolve("apt").resolve(KernelProfile.AMD64.equals(arch) ? suite : suite + "-" + arch);
        // the flavour of the architecture keeps the memo's old name
        Path memo = dir.resolve("resolved-" + Integer.toHexString(String.join(",", packages).hashCode())
                + (flavour.equals(arch) ? "" : "-" + flavour) + ".properties");
        Optional<Properties> old = read(memo);
        if (old.isPresent() && Instant.ofEpochSecond(Long.parseLong(old.get().getProperty("time", "0")))
                .plus(FRESH).isAfter(Instant.now()) && mirror.equals(old.get().getProperty("mirror"))) {
            return toMap(old.get());
        }
        try {
            Map<String, String> fresh = query(dir, suite, arch, flavour, packages);
            Properties p = new Properties();
            p.putAll(fresh);
            p.setProperty("time", String.valueOf(Instant.now().getEpochSecond()));
            p.setProperty("mirror", mirror);
            try (OutputStream out = Files.newOutputStream(memo)) {
                p.store(out, "apt resolution of " + suite);
            }
            return fresh;
        } catch (SetupException | IOException e) {
            if (old.isPresent()) {
                Progress.say("%s: cannot refresh the package index (%s); using the versions seen on an earlier run",
                        suite, e.getMessage().lines().findFirst().orElse(""));
                return toMap(old.get());
            }
            throw new SetupException("cannot read the Debian package index of '" + suite + "' from " + mirror
                    + ": is the mirror reachable? (set HMM_DEBIAN_MIRROR to another one) - " + e.getMessage(), e);
        }
    }

    private Map<String, String> query(Path dir, String suite, String arch, String flavour, List<String> packages)
            throws IOException {
        Prerequisites.require("apt-get", "apt");
        Files.createDirectories(dir.resolve("lists/partial"));
        Files.createDirectories(dir.resolve("cache/archives/partial"));
        Path sources = dir.resolve("sources.list");
        Files.writeString(sources, "deb " + mirror + " " + suite + " main\n");
        List<String> opts = new ArrayList<>(List.of(
                "-o", "Dir::Etc::SourceList=" + sources,
                "-o", "Dir::Etc::SourceParts=/dev/null",
                "-o", "Dir::State::Lists=" + dir.resolve("lists"),
                "-o", "Dir::State::Status=/dev/null",
                "-o", "Dir::Cache=" + dir.resolve("cache"),
                "-o", "Acquire::Check-Valid-Until=false",
                "-o", "APT::Sandbox::User=" + (Prerequisites.isRoot() ? "root" : System.getProperty("user.name")),
                "-o", "Debug::NoLocking=true"));
        if (!KernelProfile.AMD64.equals(arch)) {
            opts.addAll(List.of("-o", "APT::Architecture=" + arch, "-o", "APT::Architectures=" + arch));
        }
        List<String> update = new ArrayList<>(List.of("apt-get", "-qq"));
        update.addAll(opts);
        update.add("update");
        Exec.run(dir.resolve("update.log"), 300, update);

        Map<String, String> result = new LinkedHashMap<>();
        String image = show(opts, "linux-image-" + flavour);
        String krel = kernelRelease(field(image, "Depends"), flavour).orElseThrow(() -> new SetupException(
                "linux-image-" + flavour + " in " + suite + " depends on no kernel image: " + field(image, "Depends")));
        result.put("kernel.release", krel);
        for (String pkg : packages) {
            String name = pkg.replace("%k", krel);
            result.put(name, field(show(opts, name), "Version"));
        }
        return result;
    }

    private static String show(List<String> opts, String pkg) {
        List<String> cmd = new ArrayList<>(List.of("apt-cache"));
        cmd.addAll(opts);
        cmd.addAll(List.of("show", "--no-all-versions", pkg));
        return Exec.output(60, cmd);
    }

    /**
     * The kernel release that the metapackage {@code linux-image-FLAVOUR} depends on, from its Depends
     * field: {@code 7.2.13+deb14-arm64-16k} for {@code arm64-16k}, never the {@code arm64} kernel for
     * {@code arm64}'s own metapackage when a longer flavour is named too.
     */
    static Optional<String> kernelRelease(String depends, String flavour) {
        Matcher m = Pattern.compile("linux-image-(\\d[^\\s,()]*-" + Pattern.quote(flavour) + ")(?![\\w-])")
                .matcher(depends);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    static String field(String stanza, String name) {
        for (String line : stanza.split("\n")) {
            if (line.startsWith(name + ":")) {
                return line.substring(name.length() + 1).strip();
            }
        }
        return "";
    }

    private static Optional<Properties> read(Path file) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
            return Optional.of(p);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Map<String, String> toMap(Properties p) {
        Map<String, String> m = new LinkedHashMap<>();
        p.stringPropertyNames().stream().sorted().filter(k -> !k.equals("time") && !k.equals("mirror"))
                .forEach(k -> m.put(k, p.getProperty(k)));
        return m;
    }
}
