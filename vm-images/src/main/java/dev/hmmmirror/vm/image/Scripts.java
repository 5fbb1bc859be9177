package dev.hmmmirror.vm.image;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The shell recipes and guest scripts shipped as resources of this module ({@code scripts/}).
 * Their content is part of every cache key that depends on them.
 */
public final class Scripts {
    /** Where the resources are (they keep the harness's original folder: cache keys hash their names). */
    private static final String BASE = "/dev/hmmmirror/vm/";

    private Scripts() {}

    /** The bytes of script {@code name}. */
    public static byte[] bytes(String name) {
        try (InputStream in = Scripts.class.getResourceAsStream(BASE + "scripts/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource scripts/" + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The bytes of any resource of this package, e.g. {@code bench/mirror_bench.c}. */
    public static byte[] resource(String path) {
        try (InputStream in = Scripts.class.getResourceAsStream(BASE + path)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + path);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes script {@code name} into {@code dir} as an executable file and returns its path. */
    public static Path install(String name, Path dir) {
        try {
            Files.createDirectories(dir);
            Path p = dir.resolve(name);
            Files.write(p, bytes(name));
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A short hex SHA-256 over the given scripts and extra strings. */
    public static String hash(List<String> scripts, String... extra) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String s : scripts) {
                md.update(s.getBytes());
                md.update(bytes(s));
            }
            for (String e : extra) {
                md.update((byte) 0);
                md.update(e.getBytes());
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
