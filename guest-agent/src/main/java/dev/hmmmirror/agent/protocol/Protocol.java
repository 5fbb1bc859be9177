package dev.hmmmirror.agent.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The line protocol between the host and the guest agent on the guest's second serial port.
 * Every line starts with {@value #PREFIX}; anything else on the port (JVM warnings) is ignored.
 *
 * <pre>
 * host  -> guest   RUN  &lt;id&gt; &lt;b64 unique id of a JUnit test&gt;
 *                  EXEC &lt;id&gt; &lt;b64 shell command&gt;
 *                  MAIN &lt;id&gt; &lt;b64 class name&gt;
 *                  STREAM &lt;id&gt; &lt;b64 shell command&gt;   (output streamed back as OUT, stdin from IN/EOF)
 *                  IN   &lt;id&gt; &lt;b64 bytes&gt;          (standard input of a STREAM request)
 *                  EOF  &lt;id&gt;                      (end of that input)
 *                  QUIT
 * guest -> host    HELLO &lt;b64 text&gt;             (agent ready)
 *                  OUT &lt;id&gt; &lt;b64 bytes&gt;           (output of a running STREAM request)
 *                  RESULT &lt;id&gt; &lt;b64 GuestResult&gt;   (a STREAM's message: "exit N")
 * </pre>
 */
public final class Protocol {
    /** Prefix of every protocol line. */
    public static final String PREFIX = "@@A ";

    /** host -> guest: run the JUnit test with this unique id. */
    public static final String RUN = "RUN";
    /** host -> guest: run this shell command. */
    public static final String EXEC = "EXEC";
    /** host -> guest: run this class's {@code main}. */
    public static final String MAIN = "MAIN";
    /** host -> guest: run this shell command, streaming its output (OUT) and feeding its input (IN, EOF). */
    public static final String STREAM = "STREAM";
    /** host -> guest: bytes for the standard input of a running STREAM request. */
    public static final String IN = "IN";
    /** host -> guest: the end of a running STREAM request's standard input. */
    public static final String EOF = "EOF";
    /** guest -> host: output (stdout and stderr) of a running STREAM request. */
    public static final String OUT = "OUT";
    /** The message of a STREAM request's result: this prefix and the command's exit code. */
    public static final String EXIT = "exit ";

    /** host -> guest: stop (the guest then unloads the module and powers off). */
    public static final String QUIT = "QUIT";
    /** guest -> host: the agent is ready. */
    public static final String HELLO = "HELLO";
    /** guest -> host: the outcome of a request. */
    public static final String RESULT = "RESULT";

    /** System property the host sets on the guest JVM: this JVM is the guest agent. */
    public static final String IN_GUEST_PROPERTY = "hmm.guest";
    /** System property the host sets on the guest JVM: seconds before the agent dumps stacks of a stuck test. */
    public static final String WATCHDOG_PROPERTY = "hmm.guest.watchdog";

    private Protocol() {}

    /** Base64 of UTF-8 text. */
    public static String b64(String s) {
        return b64(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Base64 of bytes. */
    public static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    /** Decodes base64 into UTF-8 text. */
    public static String text(String b64) {
        return new String(bytes(b64), StandardCharsets.UTF_8);
    }

    /** Decodes base64. */
    public static byte[] bytes(String b64) {
        return Base64.getDecoder().decode(b64);
    }

    /** The exit code in a STREAM or EXEC result's message ({@value #EXIT}N), or -1. */
    public static int exitCode(String message) {
        if (message != null && message.startsWith(EXIT)) {
            try {
                return Integer.parseInt(message.substring(EXIT.length()).strip());
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        return -1;
    }

    /** A protocol line from its words. */
    public static String line(String... words) {
        return PREFIX + String.join(" ", words);
    }

    /** The words of a protocol line, or {@code null} if {@code line} is not one. */
    public static String[] parse(String line) {
        int at = line.indexOf(PREFIX);
        if (at < 0) {
            return null;
        }
        return line.substring(at + PREFIX.length()).strip().split(" ");
    }
}
