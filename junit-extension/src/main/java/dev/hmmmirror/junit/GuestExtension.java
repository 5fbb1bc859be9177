package dev.hmmmirror.junit;

import dev.hmmmirror.agent.protocol.GuestResult;
import dev.hmmmirror.agent.protocol.Protocol;
import dev.hmmmirror.vm.boot.GuestFailure;
import dev.hmmmirror.vm.boot.KernelSplat;
import dev.hmmmirror.vm.boot.KernelSplatError;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.image.KernelProfile;
import dev.hmmmirror.vm.selftest.SuiteHooks;
import dev.hmmmirror.vm.session.GuestSession;
import dev.hmmmirror.vm.session.GuestSessions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectStreamClass;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;
import org.opentest4j.TestAbortedException;

/**
 * The extension behind {@link GuestTest}. On the host it runs no test code: it boots (once per
 * run and profile) a guest session and asks the guest agent to run the same test, by its JUnit
 * unique id, then reproduces the outcome. In the guest ({@code -Dhmm.guest=true}) it lets JUnit
 * run the test normally.
 */
public final class GuestExtension implements InvocationInterceptor {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(GuestExtension.class);
    /** Report entry: the console lines of a test ({@code from-to}), for reports that link to them. */
    public static final String CONSOLE_LINES = "hmm.console.lines";
    /** Report entry: the guest kernel's release. */
    public static final String KERNEL_RELEASE = "hmm.kernel.release";

    /** Whether this JVM is the guest agent. */
    public static boolean inGuest() {
        return Boolean.getBoolean(Protocol.IN_GUEST_PROPERTY);
    }

    @Override
    public void interceptTestMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> invocationContext,
            ExtensionContext context) throws Throwable {
        runInGuest(invocation, context);
    }

    @Override
    public void interceptTestTemplateMethod(Invocation<Void> invocation,
            ReflectiveInvocationContext<Method> invocationContext, ExtensionContext context) throws Throwable {
        runInGuest(invocation, context);
    }

    @Override
    public void interceptBeforeAllMethod(Invocation<Void> invocation,
            ReflectiveInvocationContext<Method> invocationContext, ExtensionContext context) throws Throwable {
        guestOnly(invocation);
    }

    @Override
    public void interceptBeforeEachMethod(Invocation<Void> invocation,
            ReflectiveInvocationContext<Method> invocationContext, ExtensionContext context) throws Throwable {
        guestOnly(invocation);
    }

    @Override
    public void interceptAfterEachMethod(Invocation<Void> invocation,
            ReflectiveInvocationContext<Method> invocationContext, ExtensionContext context) throws Throwable {
        guestOnly(invocation);
    }

    @Override
    public void interceptAfterAllMethod(Invocation<Void> invocation,
            ReflectiveInvocationContext<Method> invocationContext, ExtensionContext context) throws Throwable {
        guestOnly(invocation);
    }

    private static void guestOnly(Invocation<Void> invocation) throws Throwable {
        if (inGuest()) {
            invocation.proceed();
        } else {
            invocation.skip();
        }
    }

    private static void runInGuest(Invocation<Void> invocation, ExtensionContext context) throws Throwable {
        if (inGuest()) {
            invocation.proceed();
            return;
        }
        invocation.skip();
        Settings settings = Settings.from(k -> context.getConfigurationParameter(k).orElse(null), System::getenv);
        String key = GuestSessions.key(settings.kernel(), settings.runDir());
        SessionHolder holder = context.getRoot().getStore(NS).getOrComputeIfAbsent("session:" + key,
                k -> new SessionHolder(settings, key), SessionHolder.class);
        GuestSession session = holder.session();
        GuestResult r;
        int firstLine = session.console().lineCount() + 1;
        try {
            r = session.runTest(context.getUniqueId());
        } catch (GuestFailure e) {
            holder.broken(e);
            throw e;
        } finally {
            // where this test's console output is, for reports that link to it
            context.publishReportEntry(Map.of(CONSOLE_LINES, firstLine + "-" + session.console().lineCount(),
                    KERNEL_RELEASE, session.image().kernelRelease()));
        }
        if (r.status() != GuestResult.Status.FAILED && !r.output().isBlank()) {
            // the test's own output, into the host's test report (Surefire/Failsafe keep a test's stdout);
            // a failure carries it in its context instead
            System.out.print(r.output().endsWith("\n") ? r.output() : r.output() + "\n");
            System.out.flush();
        }
        List<KernelSplat> splats = session.newSplats();
        Throwable failure = switch (r.status()) {
            case PASSED -> null;
            case SKIPPED, ABORTED -> new TestAbortedException("skipped in the guest ("
                    + session.profile().name() + "): " + r.message());
            case NOT_FOUND -> new AssertionError("the guest agent could not run this test: " + r.message());
            case FAILED -> guestThrowable(r, context);
        };
        if (!splats.isEmpty()) {
            AssertionError splat = splatError(splats, session);
            if (failure == null || failure instanceof TestAbortedException) {
                failure = splat;
            } else {
                failure.addSuppressed(splat);
            }
        }
        if (failure != null) {
            if (r.status() == GuestResult.Status.FAILED) {
                failure.addSuppressed(new GuestContext("guest " + session.profile().name() + ", kernel "
                        + session.image().kernelRelease() + "; console log: " + session.consoleLog()
                        + "\n" + session.runnerDiagnostics()
                        + (r.output().isBlank() ? "" : "\n--- test output ---\n" + r.output())
                        + "\n--- dmesg tail ---\n" + r.dmesgTail()));
            }
            throw failure;
        }
    }

    static AssertionError splatError(List<KernelSplat> splats, GuestSession session) {
        KernelSplat first = splats.getFirst();
        return new KernelSplatError("kernel " + first.kind() + " in the guest (" + session.image().kernelRelease()
                + "): " + first.headline() + "\n" + first.report() + (splats.size() > 1 ? "\n(+" + (splats.size() - 1)
                        + " more reports)" : "") + "\nconsole log: " + session.consoleLog() + " line " + first.lineNumber(),
                splats);
    }

    private static Throwable guestThrowable(GuestResult r, ExtensionContext context) {
        if (r.throwable().length > 0) {
            ClassLoader loader = context.getRequiredTestClass().getClassLoader();
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(r.throwable())) {
                @Override
                protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
                    try {
                        return Class.forName(desc.getName(), false, loader);
                    } catch (ClassNotFoundException e) {
                        return super.resolveClass(desc);
                    }
                }
            }) {
                return (Throwable) in.readObject();
            } catch (IOException | ClassNotFoundException | ClassCastException e) {
                // fall through to the text form
            }
        }
        return new AssertionError("failed in the guest: " + r.message() + "\n" + r.trace());
    }

    /** Extra context attached to a failure: where it ran, the console log, output and dmesg tail. */
    static final class GuestContext extends Exception {
        private static final long serialVersionUID = 1L;

        GuestContext(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * The session of a run and kernel: one lent by its owner (the suite runner, which closes it), or
     * one started here and finished when the test run ends, running the suite's hooks ({@link SuiteHooks}).
     */
    static final class SessionHolder implements AutoCloseable {
        private final Settings settings;
        private final String key;
        private GuestSession session;
        private boolean owned;
        private RuntimeException startFailure;

        SessionHolder(Settings settings, String key) {
            this.settings = settings;
            this.key = key;
        }

        synchronized GuestSession session() {
            if (startFailure != null) {
                throw new GuestFailureRepeated(startFailure);
            }
            if (session == null) {
                var lent = GuestSessions.borrow(key);
                if (lent.isPresent()) {
                    session = lent.get();
                    return session;
                }
                try {
                    owned = true;
                    session = GuestSession.start(GuestSession.Spec.of(settings, KernelProfile.named(settings.kernel()),
                            SuiteHooks.of(settings)));
                    List<KernelSplat> boot = session.newSplats();
                    if (!boot.isEmpty()) {
                        throw splatError(boot, session);
                    }
                } catch (RuntimeException | AssertionError e) {
                    startFailure = e instanceof RuntimeException re ? re : new IllegalStateException(e.getMessage(), e);
                    if (session != null) {
                        session.close();
                    }
                    throw e;
                }
            }
            return session;
        }

        synchronized void broken(GuestFailure e) {
            startFailure = e;
        }

        @Override
        public synchronized void close() {
            if (session == null || !owned) {
                return;
            }
            GuestSession.End end = session.finish(startFailure == null);
            if (end.hookFailure() != null) {
                throw new AssertionError("the guest failed while running the suite's hooks (the kernel's own hmm selftests, "
                        + "rdma-core's ODP tests): "
                        + end.hookFailure().getMessage(), end.hookFailure());
            }
            if (!end.lateSplats().isEmpty()) {
                throw splatError(end.lateSplats(), session);
            }
            if (startFailure == null && !end.unloaded()) {
                throw new AssertionError("rmmod hmm_mirror did not succeed at the end of the run; console log: "
                        + session.consoleLog());
            }
        }
    }

    /** A test after the guest failed to boot or died: the original failure, once more. */
    static final class GuestFailureRepeated extends RuntimeException {
        private static final long serialVersionUID = 1L;

        GuestFailureRepeated(RuntimeException cause) {
            super("the guest is not usable (failed earlier in this run): " + cause.getMessage(), cause, false, false);
        }
    }
}
