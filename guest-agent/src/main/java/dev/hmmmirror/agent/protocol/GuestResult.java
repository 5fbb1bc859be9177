package dev.hmmmirror.agent.protocol;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The outcome of one request the guest agent ran: a test method, a command or a main method.
 *
 * @param status    what happened
 * @param millis    how long it ran in the guest
 * @param message   the failure message or skip reason (may be empty)
 * @param trace     the guest stack trace as text (empty unless failed)
 * @param throwable the failure, Java-serialized, so the host can rethrow the same exception (may be empty)
 * @param output    what the request printed (stdout and stderr)
 * @param dmesgTail the end of the guest kernel log, taken on failure
 */
public record GuestResult(Status status, long millis, String message, String trace, byte[] throwable, String output,
        String dmesgTail) {

    /** Outcome of a request. */
    public enum Status {
        PASSED, FAILED, ABORTED, SKIPPED, NOT_FOUND
    }

    /** Encodes this result for the agent channel. */
    public byte[] encode() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeUTF(status.name());
            out.writeLong(millis);
            writeString(out, message);
            writeString(out, trace);
            out.writeInt(throwable.length);
            out.write(throwable);
            writeString(out, output);
            writeString(out, dmesgTail);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Decodes what {@link #encode()} wrote. */
    public static GuestResult decode(byte[] data) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            Status status = Status.valueOf(in.readUTF());
            long millis = in.readLong();
            String message = readString(in);
            String trace = readString(in);
            byte[] t = new byte[in.readInt()];
            in.readFully(t);
            return new GuestResult(status, millis, message, trace, t, readString(in), readString(in));
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt result from the guest agent", e);
        }
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readString(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
