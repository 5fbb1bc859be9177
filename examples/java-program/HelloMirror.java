import dev.hmmmirror.Access;
import dev.hmmmirror.Memory;
import dev.hmmmirror.Mirror;

/**
 * The smallest complete program: mirror 16 pages of this process into /dev/hmm_mirror0 and read them
 * back through the device's page table. Only java-bindings on the classpath; run it in a guest with
 * `hmm run --java hello.jar` or on a host with the module loaded:
 * `java --enable-native-access=ALL-UNNAMED -cp java-bindings.jar:hello.jar HelloMirror`.
 * An argument N makes it exit with N (CI checks that the exit code comes back).
 */
public class HelloMirror {
    public static void main(String[] args) throws Exception {
        try (Mirror mirror = Mirror.open(0); Memory mem = Memory.anonymous(16)) {
            mem.fill((byte) 7);
            mirror.fault(mem, Access.READ);
            byte[] seen = mirror.read(mem.address(), 16);
            System.out.println("HelloMirror: the device read " + seen.length + " bytes, first " + seen[0]
                    + ", ABI " + mirror.version().abiVersion() + ", kernel " + System.getProperty("os.version"));
        }
        System.exit(args.length > 0 ? Integer.parseInt(args[0]) : 0);
    }
}
