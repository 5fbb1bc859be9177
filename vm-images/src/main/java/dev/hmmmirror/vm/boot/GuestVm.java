package dev.hmmmirror.vm.boot;

import dev.hmmmirror.agent.protocol.GuestResult;
import dev.hmmmirror.agent.protocol.Protocol;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.host.SetupException;
import dev.hmmmirror.vm.image.GuestImage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One QEMU guest: a profile's kernel and initramfs, the userland over 9p, the host share
 * ({@code /hmm/host}, read-only) and the results share ({@code /hmm/out}); console on the first
 * serial port (to a log file), the guest agent on the second. KVM is used when usable, else TCG.
 */
public final class GuestVm implements AutoCloseable {
    private static final AtomicLong SEQ = new AtomicLong();
    /** Queued after the agent channel's last line (not a protocol word: never sent). */
    private static final String CHANNEL_CLOSED = "";

    /**
     * How to boot.
     *
     * @param image       the guest image
     * @param hostShare   directory shared read-only at {@code /hmm/host} (module, scripts, jars)
     * @param outShare    directory shared writable at {@code /hmm/out}
     * @param consoleLog  where the console goes
     * @param bare        boot to the initramfs and power off at once (for the bare-boot benchmark)
     * @param memoryMiB   guest memory
     * @param cmdline     extra kernel command line
     * @param echo        copy the console to stderr as it arrives
     * @param accel       KVM or TCG ({@link Accelerator})
     * @param workShare   a host directory shared writable (tag {@code work}; the guest mounts it at the same path), or null
     * @param cpus        vCPUs (more than one: multi-threaded TCG)
     */
    public record Spec(GuestImage image, Path hostShare, Path outShare, Path consoleLog, boolean bare, int memoryMiB,
            String cmdline, boolean echo, Accelerator.Choice accel, Path workShare, int cpus) {
        /** One vCPU. */
        public Spec(GuestImage image, Path hostShare, Path outShare, Path consoleLog, boolean bare, int memoryMiB,
                String cmdline, boolean echo, Accelerator.Choice accel, Path workShare) {
            this(image, hostShare, outShare, consoleLog, bare, memoryMiB, cmdline, echo, accel, workShare, 1);
        }

        /** Without a work share. */
        public Spec(GuestImage image, Path hostShare, Path outShare, Path consoleLog, boolean bare, int memoryMiB,
                String cmdline, boolean echo, Accelerator.Choice accel) {
            this(image, hostShare, outShare, consoleLog, bare, memoryMiB, cmdline, echo, accel, null);
        }
    }

    /** Under KVM a kernel prints within a second; silence this long means this KVM cannot run it. */
    static final long KVM_SILENCE_SECONDS = 15;

    private final Spec spec;
    private final QemuHost runner;
    private final Process qemu;
    private final Console console;
    private final long startNanos;
    private final Path socket;
    private final BlockingQueue<String[]> replies = new LinkedBlockingQueue<>();
    private QemuHost.AgentChannel agent;
    private OutputStream toAgent;
    private String hello;
    private double helloSeconds = -1;
    private long nextId = 1;

    private GuestVm(Spec spec, QemuHost runner, Process qemu, Console console, long startNanos, Path socket) {
        this.spec = spec;
        this.runner = runner;
        this.qemu = qemu;
        this.console = console;
        this.startNanos = startNanos;
        this.socket = socket;
    }

    /**
     * The CPU model of arm64 guests under TCG: Neoverse N1 (ARMv8.2, the cores of many arm64 servers),
     * the fastest model measured to /init here; {@code max} spends twice as long in pointer
     * authentication (architected QARMA), {@code max,pauth-impdef=on} is close (docs/arm64.md).
     */
    static final String ARM64_CPU = "neoverse-n1";

    /** Tells guest-init.sh the agent's port in arm64 guests ({@code /dev/ttyS1} otherwise). */
    static final String ARM64_AGENT_ARG = "hmm.agent=ttyS0";

    /** Starts QEMU with {@code runner}; returns once it runs (the guest is still booting). */
    public static GuestVm start(Spec spec, QemuHost runner) {
        boolean arm64 = spec.image().profile().foreign();
        String qemuBin = runner.qemu(spec.image().profile().arch());
        boolean kvm = spec.accel().kvm();
        Path sock = runner.socketDir().resolve(
                "hmm-agent-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet() + ".sock");
        if (sock.toString().length() > QemuHost.MAX_SOCKET_PATH) {
            throw new SetupException("the agent socket path " + sock + " is longer than "
                    + QemuHost.MAX_SOCKET_PATH + " bytes (the unix socket limit): set java.io.tmpdir to a short "
                    + "directory");
        }
        try {
            Files.deleteIfExists(sock);
            Files.createDirectories(spec.consoleLog().getParent());
            Files.createDirectories(spec.outShare());
        } catch (IOException e) {
            throw new SetupException("cannot prepare " + spec.consoleLog().getParent() + ": " + e.getMessage(), e);
        }
        List<String> cmd = new ArrayList<>(List.of(qemuBin,
                "-machine", arm64 ? "virt" : "pc", "-accel", kvm ? "kvm" : spec.cpus() > 1 ? "tcg,thread=multi" : "tcg",
                "-cpu", kvm ? "host" : arm64 ? ARM64_CPU : "max", "-m", spec.memoryMiB() + "M",
                "-smp", Integer.toString(spec.cpus()),
                // two NUMA nodes (the CPU and half the memory on node 0, the rest on node 1): the guest
                // migrates mirrored pages between them with move_pages(2), mbind(2), migrate_pages(2)
                "-object", "memory-backend-ram,id=node0,size=" + (spec.memoryMiB() / 2) + "M",
                "-object", "memory-backend-ram,id=node1,size=" + (spec.memoryMiB() - spec.memoryMiB() / 2) + "M",
                "-numa", "node,nodeid=0,cpus=0" + (spec.cpus() > 1 ? "-" + (spec.cpus() - 1) : "") + ",memdev=node0",
                "-numa", "node,nodeid=1,memdev=node1",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-kernel", spec.image().kernel().toString(), "-initrd", spec.image().initramfs().toString(),
                // no automatic NUMA balancing: with two nodes its scanner makes PTEs PROT_NONE at
                // random times (hinting faults), so a snapshot saw a test's pages as absent (CI,
                // bookworm); the NUMA tests migrate pages themselves
                "-append", "console=" + (arm64 ? "ttyAMA0" : "ttyS0")
                        + " panic=-1 loglevel=5 transparent_hugepage=madvise numa_balancing=disable"
                        + " sysctl.kernel.hung_task_timeout_secs=60"
                        + (spec.image().kernelArgs().isBlank() ? "" : " " + spec.image().kernelArgs())
                        + (arm64 ? " " + ARM64_AGENT_ARG : "")
                        // x86-64: no IO-APIC timer check. On a loaded host TCG delivers the timer
                        // interrupts late and the check panics ("IO-APIC + timer doesn't work!",
                        // CI, hmm run on sid); virtual machines' kernels are booted without it
                        + (arm64 ? "" : " no_timer_check")
                        + (spec.bare() ? " hmm.mode=bare" : "") + (spec.cmdline().isBlank() ? "" : " " + spec.cmdline()),
                "-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con",
                "-chardev", runner.agentChardev(sock)));
        if (arm64) {
            // -M virt has one UART (the console): the agent's port is a 16550 on PCI, the guest's ttyS0
            cmd.addAll(List.of("-device", "pci-serial,chardev=agent"));
        } else {
            cmd.addAll(List.of("-serial", "chardev:agent", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"));
        }
        share(cmd, "userland", spec.image().userland(), true);
        share(cmd, "modules", spec.image().modulesDir(), true);
        share(cmd, "host", spec.hostShare(), true);
        share(cmd, "out", spec.outShare(), false);
        if (spec.workShare() != null) {
            share(cmd, "work", spec.workShare(), false);
        }
        long t0 = System.nanoTime();
        try {
            Files.writeString(spec.consoleLog().resolveSibling("qemu-command.txt"), String.join(" ", cmd) + "\n");
            Process p = runner.launch(cmd);
            Console console = new Console(spec.consoleLog(), t0, spec.echo());
            Thread.ofPlatform().daemon().name("hmm-console").start(() -> console.pump(p.getInputStream()));
            return new GuestVm(spec, runner, p, console, t0, sock);
        } catch (IOException | RuntimeException e) {
            throw new SetupException("cannot start " + qemuBin + " (" + runner.describe() + "): " + e.getMessage(), e);
        }
    }

    private static void share(List<String> cmd, String tag, Path dir, boolean readonly) {
        cmd.addAll(List.of("-fsdev", "local,id=fs" + tag + ",path=" + dir + ",security_model=none"
                + (readonly ? ",readonly=on" : "") + ",multidevs=remap",
                "-device", "virtio-9p-pci,fsdev=fs" + tag + ",mount_tag=" + tag));
    }

    /** The console. */
    public Console console() {
        return console;
    }

    /** Host seconds since QEMU started. */
    public double seconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** Waits for a marker ({@code @@HMM <prefix>...}); empty if QEMU ended or the timeout passed first. */
    public Optional<Console.Marker> awaitMarker(String prefix, Duration timeout) throws InterruptedException {
        return console.await(t -> t.startsWith(prefix), System.nanoTime() + timeout.toNanos());
    }

    /**
     * Connects to the guest agent and waits for its HELLO.
     *
     * @throws GuestFailure if the guest dies, hangs or fails to load the module first
     */
    public String awaitAgent(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (agent == null) {
            checkKvmBoot();
            if (!qemu.isAlive()) {
                throw failure("QEMU exited (rc " + qemu.exitValue() + ") before the guest agent started");
            }
            if (System.nanoTime() > deadline) {
                kill();
                throw failure("the guest agent did not start within " + timeout.toSeconds() + " s");
            }
            try {
                agent = runner.connectAgent(socket);
                toAgent = agent.out();
                Thread.ofPlatform().daemon().name("hmm-agent").start(this::readAgent);
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        String[] w = poll(deadline, Protocol.HELLO);
        hello = Protocol.text(w[1]);
        helloSeconds = seconds();
        return hello;
    }

    /**
     * Under KVM, fails at once when QEMU reported a KVM error or the kernel printed nothing for
     * {@link #KVM_SILENCE_SECONDS}, instead of waiting for the whole boot timeout.
     */
    private void checkKvmBoot() {
        if (!spec.accel().kvm()) {
            return;
        }
        String error = console.kvmError();
        boolean silent = console.lineCount() == 0 && seconds() > KVM_SILENCE_SECONDS;
        if (error != null || silent) {
            kill();
            throw failure((error != null ? "QEMU under KVM: " + error : "the kernel printed nothing in "
                    + KVM_SILENCE_SECONDS + " s under KVM") + "; this host's KVM cannot run the guest kernel"
                    + Accelerator.pvmHint(Path.of("/sys/module")) + ". Run with -Dhmm.accel=tcg (HMM_ACCEL=tcg)");
        }
    }

    /** Host seconds from QEMU start to the agent's HELLO (or -1). */
    public double helloSeconds() {
        return helloSeconds;
    }

    private void readAgent() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(agent.in(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                String[] w = Protocol.parse(line.replace("\r", ""));
                if (w != null && w.length > 0) {
                    replies.add(w);
                }
            }
        } catch (IOException e) {
            // channel closed
        } finally {
            replies.add(new String[] {CHANNEL_CLOSED});
        }
    }

    private String[] poll(long deadline, String... want) throws InterruptedException {
        while (true) {
            long left = deadline - System.nanoTime();
            String[] w = left > 0 ? replies.poll(Math.min(left, 200_000_000L), TimeUnit.NANOSECONDS) : null;
            if (w == null) {
                if (System.nanoTime() >= deadline) {
                    kill();
                    throw failure("no answer from the guest within the timeout (guest hung?); it was killed");
                }
                if (!qemu.isAlive() && replies.isEmpty()) {
                    throw failure("QEMU exited (rc " + qemu.exitValue() + ") while waiting for the guest agent");
                }
                continue;
            }
            if (w[0].equals(CHANNEL_CLOSED)) {
                qemu.waitFor(5, TimeUnit.SECONDS);
                throw failure("the guest agent went away (guest crashed or powered off)");
            }
            for (String v : want) {
                if (w[0].equals(v)) {
                    return w;
                }
            }
        }
    }

    /** Sends a request ({@code RUN}, {@code EXEC}, {@code MAIN}) and waits for its result. */
    public synchronized GuestResult request(String verb, String argument, Duration timeout) throws InterruptedException {
        if (agent == null) {
            throw new IllegalStateException("the guest agent is not connected");
        }
        String id = String.valueOf(nextId++);
        send(Protocol.line(verb, id, Protocol.b64(argument)));
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String[] w = poll(deadline, Protocol.RESULT);
            if (w.length >= 3 && w[1].equals(id)) {
                return GuestResult.decode(Protocol.bytes(w[2]));
            }
        }
    }

    /**
     * Runs a shell command in the guest ({@code STREAM}): its output (stdout and stderr) goes to
     * {@code output} as it arrives, {@code input} (when not null) is read on a daemon thread and
     * becomes its standard input; returns its result (message {@code exit N}).
     */
    public synchronized GuestResult stream(String command, Consumer<byte[]> output, InputStream input, Duration timeout)
            throws InterruptedException {
        if (agent == null) {
            throw new IllegalStateException("the guest agent is not connected");
        }
        String id = String.valueOf(nextId++);
        send(Protocol.line(Protocol.STREAM, id, Protocol.b64(command)));
        if (input == null) {
            send(Protocol.line(Protocol.EOF, id));
        } else {
            Thread.ofPlatform().daemon().name("hmm-stdin-" + id).start(() -> {
                byte[] buf = new byte[4096];
                try {
                    for (int n; (n = input.read(buf)) > 0; ) {
                        send(Protocol.line(Protocol.IN, id, Protocol.b64(java.util.Arrays.copyOf(buf, n))));
                    }
                    send(Protocol.line(Protocol.EOF, id));
                } catch (IOException | GuestFailure e) {
                    // the host's input or the channel went away: the command keeps what it got
                }
            });
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String[] w = poll(deadline, Protocol.OUT, Protocol.RESULT);
            if (w.length >= 3 && w[1].equals(id)) {
                if (w[0].equals(Protocol.OUT)) {
                    output.accept(Protocol.bytes(w[2]));
                } else {
                    return GuestResult.decode(Protocol.bytes(w[2]));
                }
            }
        }
    }

    private void send(String line) {
        synchronized (replies) { // one writer at a time: a request and a stream's input pump
            try {
                toAgent.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                toAgent.flush();
            } catch (IOException e) {
                throw failure("cannot send to the guest agent: " + e.getMessage());
            }
        }
    }

    private GuestFailure failure(String what) {
        return new GuestFailure(what + jvmCrashReport() + runner.diagnostics(), console.log(), console.tail(40),
                hello == null);
    }

    /** The head of a guest JVM crash report (hs_err file in the results share), if there is one. */
    private String jvmCrashReport() {
        try (var files = Files.list(spec.outShare())) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("hs_err")).toList()) {
                List<String> lines = Files.readAllLines(f, StandardCharsets.ISO_8859_1);
                return "\n--- the guest JVM crashed: " + f + " ---\n"
                        + String.join("\n", lines.subList(0, Math.min(40, lines.size())));
            }
        } catch (IOException e) {
            // no results share (yet)
        }
        return "";
    }

    /** Whether QEMU still runs. */
    public boolean isAlive() {
        return qemu.isAlive();
    }

    /** Waits for QEMU to exit. */
    public boolean awaitExit(Duration timeout) throws InterruptedException {
        return qemu.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Kills QEMU at once. */
    public void kill() {
        qemu.destroyForcibly();
        try {
            qemu.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Asks the agent to quit (the guest then unloads the module and powers off); kills QEMU if it hangs. */
    @Override
    public void close() {
        try {
            if (agent != null && qemu.isAlive()) {
                try {
                    toAgent.write((Protocol.line(Protocol.QUIT) + "\n").getBytes(StandardCharsets.UTF_8));
                    toAgent.flush();
                } catch (IOException e) {
                    // the guest is gone already
                }
            }
            if (!qemu.waitFor(spec.bare() ? 60 : 120, TimeUnit.SECONDS)) {
                Progress.say("guest did not power off; killing QEMU (console: %s)", console.log());
                kill();
            }
            long end = System.nanoTime() + 5_000_000_000L;
            while (!console.isClosed() && System.nanoTime() < end) {
                Thread.sleep(20);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill();
        } finally {
            try {
                if (agent != null) {
                    agent.close();
                }
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                // best effort
            }
        }
    }
}
