package dev.hmmmirror.vm.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * The one configuration of a run: every {@link Setting}, read once from (first wins) explicit
 * values (command-line flags, JUnit configuration parameters), system properties, environment
 * variables, then defaults. Immutable: code below the entry points takes a {@code Settings} and
 * never reads a property or variable itself.
 */
public final class Settings {
    private final Map<Setting, String> values;
    private final Function<String, String> env;

    private Settings(Map<Setting, String> values, Function<String, String> env) {
        this.values = values;
        this.env = env;
    }

    /** From this JVM's system properties and environment. */
    public static Settings fromEnvironment() {
        return from(System::getProperty, System::getenv);
    }

    /**
     * From {@code properties} (system properties or JUnit configuration parameters, which fall back
     * to system properties) and {@code env}; blank values count as unset.
     */
    public static Settings from(Function<String, String> properties, Function<String, String> env) {
        Map<Setting, String> v = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            String p = blankToNull(properties.apply(s.property()));
            String e = blankToNull(env.apply(s.env()));
            if (p != null) {
                v.put(s, p.strip());
            } else if (e != null) {
                v.put(s, e.strip());
            }
        }
        return new Settings(v, env);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    /** A copy with {@code setting} set to {@code value} (a command-line flag, say). */
    public Settings with(Setting setting, String value) {
        Map<Setting, String> v = new EnumMap<>(Setting.class);
        v.putAll(values);
        v.put(setting, value);
        return new Settings(v, env);
    }

    /** The raw value, when one was given. */
    public Optional<String> raw(Setting s) {
        return Optional.ofNullable(values.get(s));
    }

    private String or(Setting s, String dflt) {
        return values.getOrDefault(s, dflt);
    }

    private boolean flag(Setting s, boolean dflt) {
        String v = values.get(s);
        return v == null ? dflt : !v.equalsIgnoreCase("false") && !v.equals("0") && !v.equalsIgnoreCase("no");
    }

    private OptionalLong number(Setting s) {
        String v = values.get(s);
        if (v == null) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(v));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(s.property() + " (" + s.env() + ") must be a whole number, not '"
                    + v + "'");
        }
    }

    /** Kernel profile name, e.g. {@code debian-sid} or {@code tree:/src/linux}. */
    public String kernel() {
        return or(Setting.KERNEL, "debian-sid");
    }

    /** {@code auto}, {@code local} or {@code container} (lower case, unchecked). */
    public String runner() {
        String v = or(Setting.RUNNER, "auto");
        return v.regionMatches(true, 0, "docker:", 0, 7) ? "docker:" + v.substring(7) : v.toLowerCase(Locale.ROOT);
    }

    /** {@code auto}, {@code kvm} or {@code tcg} (unchecked). */
    public String accel() {
        return or(Setting.ACCEL, "auto");
    }

    /**
     * The checkout named by {@code hmm.root} ({@code HMM_ROOT}) when it holds {@code kmod/}; empty
     * otherwise (the harness then builds the module from the sources its artifact ships).
     */
    public Optional<Path> projectRoot() {
        String p = values.get(Setting.ROOT);
        if (p != null && Files.isDirectory(Path.of(p, "kmod")) && Files.isDirectory(Path.of(p, "native-headers"))) {
            return Optional.of(Path.of(p).toAbsolutePath().normalize());
        }
        return Optional.empty();
    }

    /** Parent of the run folders. */
    public Path runDir() {
        return Path.of(or(Setting.RUN_DIR, "target/hmm-guest")).toAbsolutePath();
    }

    /** Where the suite runner writes its reports. */
    public Path reportDir() {
        return Path.of(or(Setting.REPORT_DIR, "target/hmm-report")).toAbsolutePath();
    }

    /** The package of the guest suite. */
    public String suitePackage() {
        return or(Setting.SUITE_PACKAGE, "dev.hmmmirror.guest");
    }

    /** The per-user cache directory. */
    public Path cacheDir() {
        String v = values.get(Setting.CACHE);
        if (v != null) {
            return Path.of(v);
        }
        String xdg = blankToNull(env.apply("XDG_CACHE_HOME"));
        return (xdg != null ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache")).resolve("hmm-mirror");
    }

    /** The Debian mirror, when set (else the one apt uses). */
    public Optional<String> debianMirror() {
        return raw(Setting.DEBIAN_MIRROR);
    }

    /** Seconds one guest request may take, when set (else by accelerator). */
    public OptionalLong testTimeoutSeconds() {
        return number(Setting.TEST_TIMEOUT);
    }

    /** Seconds a boot may take up to the agent, when set (else by accelerator). */
    public OptionalLong bootTimeoutSeconds() {
        return number(Setting.BOOT_TIMEOUT);
    }

    /** insmod parameters. */
    public String moduleParams() {
        return or(Setting.MODULE_PARAMS, "ndevices=2");
    }

    /** Extra guest kernel command line. */
    public String cmdline() {
        return or(Setting.CMDLINE, "");
    }

    /** Whether the console is echoed to stderr. */
    public boolean verbose() {
        return flag(Setting.VERBOSE, false);
    }

    /** Whether the guest JVM uses a host-recorded AOT cache. */
    public boolean aot() {
        return flag(Setting.AOT, true);
    }

    /** How the guest's JVMs run Java: C1 (the default), tiered C1 + C2, or interpreted. */
    public GuestJit guestJit() {
        return values.containsKey(Setting.GUEST_JIT) ? GuestJit.parse(values.get(Setting.GUEST_JIT)) : GuestJit.C1;
    }

    /** Extra flags of the guest agent's JVM ({@code hmm.guest.jvm.options}), after the project's own. */
    public java.util.List<String> guestJvmOptions() {
        String v = values.getOrDefault(Setting.GUEST_JVM_OPTIONS, "").strip();
        return v.isEmpty() ? java.util.List.of() : java.util.List.of(v.split("\\s+"));
    }

    /** The guest's vCPUs, 1-8. */
    public int guestCpus() {
        long n = number(Setting.GUEST_CPUS).orElse(1);
        if (n < 1 || n > 8) {
            throw new IllegalArgumentException(Setting.GUEST_CPUS.property() + " must be 1-8, not " + n);
        }
        return (int) n;
    }

    /**
     * The guest's memory in MiB: {@code hmm.guest.memory} when set, else the profile's own
     * ({@link dev.hmmmirror.vm.image.KernelProfile#memoryMiB()}).
     *
     * @throws IllegalArgumentException when the setting is not a number of MiB from 1024 to 65536
     */
    public int guestMemoryMiB(dev.hmmmirror.vm.image.KernelProfile profile) {
        long n = number(Setting.GUEST_MEMORY).orElse(profile.memoryMiB());
        if (n < 1024 || n > 65536) {
            throw new IllegalArgumentException(Setting.GUEST_MEMORY.property() + " (" + Setting.GUEST_MEMORY.env()
                    + ") must be the guest's memory in MiB, 1024-65536, not " + n);
        }
        return (int) n;
    }

    /** Seconds before the guest agent's watchdog dumps stacks. */
    public long guestWatchdogSeconds() {
        return number(Setting.GUEST_WATCHDOG).orElse(90);
    }

    /** Whether the kernel's own selftests run where the kernel has them. */
    public boolean kselftest() {
        return flag(Setting.KSELFTEST, true);
    }

    /** Whether rdma-core's ODP tests (the peer suite) run where the kernel has rxe. */
    public boolean peerSuite() {
        return flag(Setting.PEER_SUITE, true);
    }

    /** Seconds the kernel's selftests may run, when set (else by kernel kind). */
    public OptionalLong kselftestTimeoutSeconds() {
        return number(Setting.KSELFTEST_TIMEOUT);
    }

    /**
     * How many guests a matrix may run at once on this host, when set to a number (empty: auto,
     * decided from the host's cores and memory by the matrix).
     */
    public java.util.OptionalInt parallel() {
        String v = values.get(Setting.PARALLEL);
        if (v == null || v.equalsIgnoreCase("auto")) {
            return java.util.OptionalInt.empty();
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= 1) {
                return java.util.OptionalInt.of(n);
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(Setting.PARALLEL.property() + " (" + Setting.PARALLEL.env() + ", "
                + Setting.PARALLEL.flag() + ") must be auto or a number of guests >= 1, not '" + v + "'");
    }

    /**
     * The Docker engines of {@code hmm.docker.hosts}, each with its number of guest slots
     * ({@code ADDRESS*N}; {@code local} is this host); empty when unset.
     */
    public java.util.List<java.util.Map.Entry<String, Integer>> dockerHosts() {
        java.util.List<java.util.Map.Entry<String, Integer>> hosts = new java.util.ArrayList<>();
        for (String w : or(Setting.DOCKER_HOSTS, "").split("[\\s,]+")) {
            if (w.isBlank()) {
                continue;
            }
            int star = w.lastIndexOf('*');
            int n = 1;
            if (star > 0) {
                try {
                    n = Integer.parseInt(w.substring(star + 1));
                } catch (NumberFormatException e) {
                    n = 0;
                }
                if (n < 1) {
                    throw new IllegalArgumentException(Setting.DOCKER_HOSTS.env() + ": '" + w
                            + "' is not ADDRESS or ADDRESS*N with N >= 1");
                }
                w = w.substring(0, star);
            }
            hosts.add(java.util.Map.entry(w, n));
        }
        return hosts;
    }

    /** An environment variable that is not a setting of ours (Docker's, Testcontainers'). */
    public Optional<String> foreignEnv(String name) {
        return Optional.ofNullable(blankToNull(env.apply(name)));
    }
}
