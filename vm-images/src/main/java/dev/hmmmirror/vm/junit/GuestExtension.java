package dev.hmmmirror.vm.junit;

import dev.hmmmirror.vm.GuestFailure;
import dev.hmmmirror.vm.GuestSession;
import dev.hmmmirror.vm.KernelProfile;
import dev.hmmmirror.vm.KernelSplat;
import dev.hmmmirror.vm.agent.GuestResult;
import dev.hmmmirror.vm.suite.KernelSelftests;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectStreamClass;
import java.lang.reflect.Method;
import java.util.List;
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

    /** Whether this JVM is the guest agent. */
    public static boolean inGuest() {
        return Boolean.getBoolean("hmm.guest");
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
        SessionHolder holder = context.getRoot().getStore(NS).getOrComputeIfAbsent(
                "session:" + KernelProfile.selected().name(), k -> new SessionHolder(KernelProfile.selected()),
                SessionHolder.class);
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
            context.publishReportEntry(java.util.Map.of("hmm.console", session.consoleLog().toString(),
                    "hmm.console.lines", firstLine + "-" + session.console().lineCount(),
                    "hmm.kernel", session.image().kernelRelease()));
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
        return new dev.hmmmirror.vm.KernelSplatError("kernel " + first.kind() + " in the guest (" + session.image().kernelRelease()
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

    /** One session per run and profile; closed (guest powered off) when the test run ends. */
    static final class SessionHolder implements AutoCloseable {
        private final KernelProfile profile;
        private GuestSession session;
        private RuntimeException startFailure;

        SessionHolder(KernelProfile profile) {
            this.profile = profile;
        }

        synchronized GuestSession session() {
            if (startFailure != null) {
                throw new GuestFailureRepeated(startFailure);
            }
            if (session == null) {
                try {
                    session = GuestSession.start(profile, GuestSession.currentClasspath(), Boolean.getBoolean("hmm.verbose"));
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
            if (session == null) {
                return;
            }
            List<KernelSplat> late = new java.util.ArrayList<>();
            if (startFailure == null && session.isAlive() && KernelSelftests.wanted(session)) {
                // the kernel's own hmm selftests, in the same guest, after ours (reported apart)
                try {
                    late.addAll(KernelSelftests.run(session));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (GuestFailure e) {
                    startFailure = e;
                    session.close();
                    throw new AssertionError("the guest failed while running the kernel's own hmm selftests: "
                            + e.getMessage(), e);
                }
            }
            session.close();
            late.addAll(session.newSplats());
            boolean unloaded = session.console().markers().stream().anyMatch(m -> m.text().startsWith("RMMOD rc=0"));
            if (!late.isEmpty()) {
                throw splatError(late, session);
            }
            if (startFailure == null && !unloaded) {
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
