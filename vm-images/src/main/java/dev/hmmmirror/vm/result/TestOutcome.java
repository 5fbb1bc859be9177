package dev.hmmmirror.vm.result;

/**
 * One test's result on one kernel.
 *
 * @param testClass    the test class (simple name)
 * @param test         the test's display name
 * @param status       what happened
 * @param message      failure message or skip reason (first line)
 * @param consoleLines the console lines of the test, e.g. {@code 120-180} (empty if unknown)
 * @param seconds      how long it took, host seconds (negative: unknown)
 */
public record TestOutcome(String testClass, String test, Status status, String message, String consoleLines,
        double seconds) {
    /** An outcome whose duration is not known. */
    public TestOutcome(String testClass, String test, Status status, String message, String consoleLines) {
        this(testClass, test, status, message, consoleLines, -1);
    }

    /** The same outcome with {@code status} and {@code message}. */
    public TestOutcome with(Status newStatus, String newMessage) {
        return new TestOutcome(testClass, test, newStatus, newMessage, consoleLines, seconds);
    }

    /** The outcome of a test. */
    public enum Status {
        PASSED, FAILED, SKIPPED, KERNEL_SPLAT, BOOT_FAILED;

        /** Short form for tables. */
        public String symbol() {
            return switch (this) {
                case PASSED -> "pass";
                case FAILED -> "FAIL";
                case SKIPPED -> "skip";
                case KERNEL_SPLAT -> "SPLAT";
                case BOOT_FAILED -> "NOBOOT";
            };
        }
    }

    /** {@code Class.test} */
    public String name() {
        return testClass + "." + test;
    }
}
