package dev.hmmmirror.vm.config;

/**
 * Every setting of the host harness: its system property (also a JUnit configuration parameter),
 * environment variable and command-line flag, its default and what it does. {@link Settings}
 * reads them all, in one place; docs/settings.md's table is checked against this list.
 */
public enum Setting {
    KERNEL("hmm.kernel", "HMM_KERNEL", "--kernel", "debian-sid",
            "kernel profile to boot: debian-sid, -trixie, -bookworm, built-7.2, -6.12, -6.1 (+ -debug), tree:DIR"),
    RUNNER("hmm.runner", "HMM_RUNNER", "--runner", "auto",
            "where QEMU runs: auto (a container when a Docker engine answers), local, container, docker:tcp://HOST:PORT (an engine that shares no files with this host)"),
    ACCEL("hmm.accel", "HMM_ACCEL", "--accel", "auto",
            "auto (KVM when a probe boot under /dev/kvm reaches /init, else TCG), kvm (required), tcg"),
    ROOT("hmm.root", "HMM_ROOT", null, "(the copy in the vm-images jar)",
            "a checkout whose kmod/ and native-headers/ the module is built from"),
    RUN_DIR("hmm.run.dir", "HMM_RUN_DIR", null, "target/hmm-guest",
            "parent of each run's folder (console log, staged files, guest output)"),
    REPORT_DIR("hmm.report.dir", "HMM_REPORT_DIR", null, "target/hmm-report",
            "where hmm suite and hmm matrix write index.html, summary.json, junit-*.xml"),
    SUITE_PACKAGE("hmm.suite.package", "HMM_SUITE_PACKAGE", null, "dev.hmmmirror.guest",
            "package whose @GuestTest classes hmm suite runs"),
    CACHE("hmm.cache", "HMM_MIRROR_CACHE", null, "$XDG_CACHE_HOME/hmm-mirror or ~/.cache/hmm-mirror",
            "cache of guest images, kernel builds, module builds, KVM probe verdicts"),
    DEBIAN_MIRROR("hmm.debian.mirror", "HMM_DEBIAN_MIRROR", null, "(the mirror in /etc/apt)",
            "Debian mirror the images are built from"),
    TEST_TIMEOUT("hmm.test.timeout", "HMM_TEST_TIMEOUT", null, "600 (TCG) / 120 (KVM)",
            "seconds one guest request (a test) may take before the guest is killed"),
    BOOT_TIMEOUT("hmm.boot.timeout", "HMM_BOOT_TIMEOUT", null, "300 (TCG) / 90 (KVM)",
            "seconds from QEMU start to the guest agent's HELLO"),
    MODULE_PARAMS("hmm.module.params", "HMM_MODULE_PARAMS", null, "ndevices=2",
            "insmod parameters of hmm_mirror.ko in the guest"),
    CMDLINE("hmm.cmdline", "HMM_CMDLINE", null, "",
            "extra guest kernel command line"),
    VERBOSE("hmm.verbose", "HMM_VERBOSE", "--verbose", "false",
            "copy the guest console to stderr as it arrives"),
    AOT("hmm.aot", "HMM_AOT", null, "true",
            "record and use a JDK AOT cache for the guest agent's JVM (needs root and unshare; without them the JVM starts without one); docs/performance.md, 'Boot'"),
    GUEST_JIT("hmm.guest.jit", "HMM_GUEST_JIT", null, "c1",
            "how the guest agent (test bodies) and hmm run --java programs run Java: c1 (-XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=10), tiered (C1 + C2) or off (-Xint, interpreted: long bodies ~100x slower); the agent's compiler threads wait at nice 19 until its first answer (4 s at most); docs/performance.md, 'Guest JVM mode'"),
    GUEST_JVM_OPTIONS("hmm.guest.jvm.options", "HMM_GUEST_JVM_OPTIONS", null, "",
            "extra flags of the guest agent's JVM, space-separated, after the project's own (experiments; hmm bench --variant)"),
    GUEST_CPUS("hmm.guest.cpus", "HMM_GUEST_CPUS", null, "1",
            "guest vCPUs (1-8); more than one runs TCG multi-threaded (one host thread per vCPU), for concurrency tests"),
    GUEST_MEMORY("hmm.guest.memory", "HMM_GUEST_MEMORY", null, "(the profile's: 2048; 6144 for built-7.2-arm64-64k)",
            "guest memory in MiB (1024-65536), split over the guest's two NUMA nodes; the guest JVM's default heap is a quarter of it"),
    GUEST_WATCHDOG("hmm.guest.watchdog", "HMM_GUEST_WATCHDOG", null, "90",
            "seconds after which the guest agent dumps every thread's Java and kernel stack"),
    KSELFTEST("hmm.kselftest", "HMM_KSELFTEST", "--no-kselftest", "true",
            "run the kernel's own hmm selftests after our suite where the kernel has test_hmm"),
    KSELFTEST_TIMEOUT("hmm.kselftest.timeout", "HMM_KSELFTEST_TIMEOUT", null, "600 / 1800 (debug)",
            "seconds the kernel's hmm-tests may run"),
    PEER_SUITE("hmm.peer", "HMM_PEER", "--no-peer-suite", "true",
            "run rdma-core's own ODP tests (pyverbs, tests/test_odp.py) against rxe after our suite, where the kernel has rxe (docs/rxe.md, 'The peer suite')"),
    DOCKER_HOSTS("hmm.docker.hosts", "HMM_DOCKER_HOSTS", "--docker-hosts", "",
            "Docker engines a matrix spreads its kernels over, e.g. tcp://kvm1:2375 tcp://kvm2:2375*2 (*N: N guests at once there; local: this host); nothing of this host is mounted there"),
    PARALLEL("hmm.parallel", "HMM_PARALLEL", "--parallel", "auto",
            "guests a matrix runs at once on this host: auto (one per core plus one, as many as their memory fits in free memory: each profile's guest memory + 0.5 GiB, 2.5 GiB for most), or a number (1: one after another); a kernel starts only when its guest fits beside those running");

    private final String property;
    private final String env;
    private final String flag;
    private final String defaultText;
    private final String description;

    Setting(String property, String env, String flag, String defaultText, String description) {
        this.property = property;
        this.env = env;
        this.flag = flag;
        this.defaultText = defaultText;
        this.description = description;
    }

    /** The system property and JUnit configuration parameter, e.g. {@code hmm.kernel}. */
    public String property() {
        return property;
    }

    /** The environment variable, e.g. {@code HMM_KERNEL}. */
    public String env() {
        return env;
    }

    /** The command-line flag of the hmm command, or null. */
    public String flag() {
        return flag;
    }

    /** The default, as docs/settings.md shows it. */
    public String defaultText() {
        return defaultText;
    }

    /** One line on what it does. */
    public String description() {
        return description;
    }
}
