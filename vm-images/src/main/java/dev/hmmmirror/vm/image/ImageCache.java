package dev.hmmmirror.vm.image;

import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.Progress;
import dev.hmmmirror.vm.host.SetupException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.apache.commons.io.file.PathUtils;

/**
 * The per-user cache of built guest artifacts (roots, kernels, initramfs, module builds). Each
 * entry is a directory named {@code <name>-<key>}, where the key is derived from everything the
 * entry was built from, so that a stale entry is simply never looked up again.
 *
 * <p>Entries are built in a private {@code .partial} directory and renamed into place only when
 * complete, under an exclusive lock (in this JVM and across processes): two builds that race
 * build once, and a half-built entry is never used.
 */
public final class ImageCache {
    /** Marker written last into a complete entry. */
    static final String COMPLETE = ".complete";

    private static final ConcurrentHashMap<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();

    private final Path root;

    public ImageCache(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    /** The user's cache of {@code settings}: {@code $HMM_MIRROR_CACHE}, else {@code $XDG_CACHE_HOME/hmm-mirror}, else {@code ~/.cache/hmm-mirror}. */
    public static ImageCache of(Settings settings) {
        return new ImageCache(settings.cacheDir());
    }

    /** The cache's directory. */
    public Path root() {
        return root;
    }

    /** Builds the content of an entry into an empty directory. */
    @FunctionalInterface
    public interface Builder {
        void build(Path dir) throws Exception;
    }

    /** The directory of entry {@code name}/{@code key} if it is complete. */
    public java.util.Optional<Path> lookup(String name, String key) {
        Path dir = root.resolve(name + "-" + key);
        return Files.isRegularFile(dir.resolve(COMPLETE)) ? java.util.Optional.of(dir) : java.util.Optional.empty();
    }

    /**
     * Returns the complete entry {@code name}/{@code key}, building it first when absent.
     *
     * @param what a human name for progress lines, e.g. {@code "userland (sid)"}
     */
    public Path ensure(String name, String key, String what, Builder builder) {
        Path dir = root.resolve(name + "-" + key);
        if (Files.isRegularFile(dir.resolve(COMPLETE))) {
            return dir;
        }
        ReentrantLock local = LOCKS.computeIfAbsent(dir, d -> new ReentrantLock());
        local.lock();
        try {
            Files.createDirectories(root);
            try (FileChannel ch = FileChannel.open(root.resolve(name + "-" + key + ".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                FileLock lock = ch.tryLock();
                if (lock == null) {
                    Progress.say("%s: waiting for another process that builds it", what);
                    lock = ch.lock();
                }
                try {
                    if (Files.isRegularFile(dir.resolve(COMPLETE))) {
                        return dir; // the other process finished it
                    }
                    removeLeftovers(name + "-" + key);
                    Path partial = root.resolve(name + "-" + key + ".partial-" + ProcessHandle.current().pid());
                    Files.createDirectories(partial);
                    long t0 = System.nanoTime();
                    try {
                        builder.build(partial);
                        Properties p = new Properties();
                        p.setProperty("what", what);
                        p.setProperty("key", key);
                        p.setProperty("seconds", String.valueOf((System.nanoTime() - t0) / 1_000_000_000L));
                        try (var out = Files.newOutputStream(partial.resolve(COMPLETE))) {
                            p.store(out, "hmm-mirror cache entry");
                        }
                        if (Files.exists(dir)) {
                            PathUtils.deleteDirectory(dir); // incomplete remains of an older layout
                        }
                        Files.move(partial, dir, StandardCopyOption.ATOMIC_MOVE);
                        prune(name, dir);
                        return dir;
                    } catch (Exception e) {
                        Path kept = keepLog(partial, name + "-" + key);
                        deleteQuietly(partial);
                        if (kept != null) {
                            Progress.say("%s: build failed; its log is kept: %s", what, kept);
                        }
                        if (kept != null && e instanceof SetupException se && se.getMessage() != null
                                && se.getMessage().contains(partial.resolve("build.log").toString())) {
                            // the message names the log where it was; say where it is now
                            throw new SetupException(se.getMessage().replace(partial.resolve("build.log").toString(),
                                    kept.toString()), se);
                        }
                        if (e instanceof RuntimeException re) {
                            throw re;
                        }
                        throw new SetupException(what + ": build failed: " + e, e);
                    }
                } finally {
                    lock.release();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cache " + root + ": " + e.getMessage(), e);
        } finally {
            local.unlock();
        }
    }

    /** Entries this JVM uses, with how many guests use each: one shared lock per entry and JVM. */
    private static final java.util.Map<Path, Held> HELD = new java.util.HashMap<>();

    /** The shared lock this JVM holds on an entry, and how many users it has. */
    private static final class Held {
        final FileChannel channel;
        final FileLock lock;
        int users;

        Held(FileChannel channel, FileLock lock) {
            this.channel = channel;
            this.lock = lock;
        }
    }

    /**
     * Marks a complete entry as in use until the returned handle is closed: a shared lock on its
     * lock file, so that no other process (or this one) prunes it while a guest reads it over 9p.
     * Guests of one JVM that run at once share one lock, counted: POSIX locks belong to the
     * process, and closing any channel of the file would drop it for all of them.
     */
    public AutoCloseable use(Path entry) {
        Path lockFile = Path.of(entry + ".lock").toAbsolutePath().normalize();
        synchronized (HELD) {
            Held h = HELD.get(lockFile);
            if (h == null) {
                try {
                    FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                            StandardOpenOption.READ);
                    FileLock lock;
                    try {
                        lock = ch.lock(0, Long.MAX_VALUE, true);
                    } catch (java.nio.channels.OverlappingFileLockException buildingHere) {
                        lock = null; // this JVM holds it exclusively (a build or prune in progress)
                    }
                    h = new Held(ch, lock);
                    HELD.put(lockFile, h);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot lock cache entry " + entry, e);
                }
            }
            h.users++;
            Held held = h;
            boolean[] released = {false};
            return () -> {
                synchronized (HELD) {
                    if (released[0]) {
                        return;
                    }
                    released[0] = true;
                    if (--held.users == 0) {
                        HELD.remove(lockFile);
                        if (held.lock != null) {
                            held.lock.release();
                        }
                        held.channel.close();
                    }
                }
            };
        }
    }

    /** How many complete entries of one name are kept (the newest); older ones are deleted. */
    static final int KEEP = 2;

    /**
     * Deletes complete entries of {@code name} beyond the newest {@link #KEEP}, and leftovers of
     * builds whose process is gone, so that stale images do not pile up. Entries whose lock is
     * held (being built) are left alone.
     */
    void prune(String name, Path keep) {
        try (Stream<Path> s = Files.list(root)) {
            List<Path> entries = new java.util.ArrayList<>();
            for (Path p : s.toList()) {
                String f = p.getFileName().toString();
                int partial = f.indexOf(".partial-");
                String key = f.startsWith(name + "-") ? f.substring(name.length() + 1, partial >= 0 ? partial : f.length()) : "";
                if (key.isEmpty() || key.contains("-") || f.endsWith(".lock")) {
                    continue; // another name (e.g. kernel-sid vs kernel-sid-x) or a lock file
                }
                if (partial >= 0) {
                    long pid = Long.parseLong(f.substring(partial + 9));
                    if (ProcessHandle.of(pid).isEmpty()) {
                        deleteQuietly(p);
                    }
                } else if (Files.isRegularFile(p.resolve(COMPLETE)) && !p.equals(keep)) {
                    entries.add(p);
                }
            }
            entries.sort(java.util.Comparator.comparing((Path p) -> {
                try {
                    return Files.getLastModifiedTime(p.resolve(COMPLETE));
                } catch (IOException e) {
                    return java.nio.file.attribute.FileTime.fromMillis(0);
                }
            }).reversed());
            for (Path old : entries.subList(Math.min(entries.size(), KEEP - 1), entries.size())) {
                try (FileChannel ch = FileChannel.open(Path.of(old + ".lock"), StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE); FileLock l = ch.tryLock()) {
                    if (l != null) {
                        Progress.say("cache: removing the stale %s", old.getFileName());
                        deleteQuietly(old);
                        Files.deleteIfExists(Path.of(old + ".lock"));
                    }
                } catch (java.nio.channels.OverlappingFileLockException inUseHere) {
                    // a guest of this JVM uses it
                }
            }
        } catch (IOException | RuntimeException e) {
            Progress.say("cache: could not prune %s entries: %s", name, e.getMessage());
        }
    }

    /** Moves a failed build's {@code build.log} out of its partial entry to {@code <entry>.failed.log}; null when none. */
    private Path keepLog(Path partial, String entry) {
        Path log = partial.resolve("build.log");
        if (!Files.isRegularFile(log)) {
            return null;
        }
        try {
            return Files.move(log, root.resolve(entry + ".failed.log"), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            return null;
        }
    }

    private void removeLeftovers(String entry) throws IOException {
        try (Stream<Path> s = Files.list(root)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(entry + ".partial-")).toList()) {
                deleteQuietly(p); // a killed build; we hold the lock, so nobody is writing it
            }
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            if (Files.exists(p)) {
                PathUtils.deleteDirectory(p);
            }
        } catch (IOException e) {
            Progress.say("could not remove %s: %s", p, e.getMessage());
        }
    }
}
