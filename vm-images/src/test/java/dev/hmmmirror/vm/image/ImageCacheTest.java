package dev.hmmmirror.vm.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.hmmmirror.vm.host.SetupException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageCacheTest {
    @Test
    void buildsOnceAndReusesTheCompleteEntry(@TempDir Path root) {
        ImageCache cache = new ImageCache(root);
        AtomicInteger builds = new AtomicInteger();
        ImageCache.Builder b = dir -> {
            builds.incrementAndGet();
            Files.writeString(dir.resolve("file"), "x");
        };
        Path first = cache.ensure("thing", "k1", "thing", b);
        Path again = cache.ensure("thing", "k1", "thing", b);
        assertEquals(first, again);
        assertEquals(1, builds.get());
        assertTrue(Files.isRegularFile(first.resolve("file")));
        assertTrue(cache.lookup("thing", "k1").isPresent());
    }

    @Test
    void aNewKeyIsANewEntry(@TempDir Path root) {
        ImageCache cache = new ImageCache(root);
        Path a = cache.ensure("thing", "k1", "thing", dir -> { });
        Path b = cache.ensure("thing", "k2", "thing", dir -> { });
        assertFalse(a.equals(b));
    }

    @Test
    void aFailedBuildLeavesNothingBehind(@TempDir Path root) throws Exception {
        ImageCache cache = new ImageCache(root);
        assertThrows(SetupException.class, () -> cache.ensure("thing", "k", "thing", dir -> {
            Files.writeString(dir.resolve("half"), "x");
            throw new java.io.IOException("network went away");
        }));
        assertTrue(cache.lookup("thing", "k").isEmpty());
        try (Stream<Path> s = Files.list(root)) {
            assertEquals(List.of(), s.filter(p -> !p.toString().endsWith(".lock")).toList());
        }
    }

    @Test
    void aFailedBuildKeepsItsLogNextToTheEntry(@TempDir Path root) throws Exception {
        ImageCache cache = new ImageCache(root);
        SetupException e = assertThrows(SetupException.class, () -> cache.ensure("kmod-7.2", "k", "module", dir -> {
            Files.writeString(dir.resolve("build.log"), "mirror.c:12: error: unknown type\n");
            throw new SetupException("make failed (exit 2); last lines of " + dir.resolve("build.log") + ":");
        }));
        assertEquals("make failed (exit 2); last lines of " + root.resolve("kmod-7.2-k.failed.log") + ":", e.getMessage());
        assertTrue(cache.lookup("kmod-7.2", "k").isEmpty());
        assertEquals("mirror.c:12: error: unknown type\n", Files.readString(root.resolve("kmod-7.2-k.failed.log")));
    }

    @Test
    void entriesOfManyTreesDoNotEvictTheStockKernelsEntry(@TempDir Path root) throws Exception {
        ImageCache cache = new ImageCache(root);
        // ModuleBuild names a tree's module builds kmod-<release>-t<tree>: trees derived from built-7.2 share its release
        Path stock = cache.ensure("kmod-7.2.13+deb14-amd64", "s1", "k", dir -> { });
        for (int i = 0; i < 4; i++) {
            Thread.sleep(5);
            cache.ensure("kmod-7.2.13+deb14-amd64-t" + i + "abc", "m" + i, "k", dir -> { });
        }
        assertTrue(Files.exists(stock), "the stock kernel's module build stays");
    }

    @Test
    void aHalfBuiltDirectoryIsNeverUsed(@TempDir Path root) throws Exception {
        // a build killed after writing files but before the marker: the entry exists without .complete
        Files.createDirectories(root.resolve("thing-k"));
        Files.writeString(root.resolve("thing-k/half"), "x");
        Files.createDirectories(root.resolve("thing-k.partial-999999"));
        ImageCache cache = new ImageCache(root);
        assertTrue(cache.lookup("thing", "k").isEmpty());
        AtomicInteger builds = new AtomicInteger();
        Path p = cache.ensure("thing", "k", "thing", dir -> {
            builds.incrementAndGet();
            Files.writeString(dir.resolve("whole"), "y");
        });
        assertEquals(1, builds.get());
        assertFalse(Files.exists(p.resolve("half")));
        assertFalse(Files.exists(root.resolve("thing-k.partial-999999")), "leftover of a killed build removed");
    }

    @Test
    void racingBuildsInOneJvmBuildOnce(@TempDir Path root) throws Exception {
        ImageCache cache = new ImageCache(root);
        AtomicInteger builds = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Path>> results = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return cache.ensure("thing", "k", "thing", dir -> {
                        builds.incrementAndGet();
                        Thread.sleep(200);
                        Files.writeString(dir.resolve("f"), "z");
                    });
                }));
            }
            start.countDown();
            for (Future<Path> f : results) {
                assertTrue(Files.isRegularFile(f.get().resolve("f")));
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, builds.get());
    }

    @Test
    void racingBuildsInTwoProcessesBuildOnce(@TempDir Path root) throws Exception {
        // a second JVM holds the file lock while it builds; this JVM must wait and reuse its entry
        Path marker = root.resolve("child-built");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                ImageCacheChild.class.getName(), root.toString(), marker.toString()).inheritIO().start();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!Files.exists(root.resolve("thing-k.lock")) || !Files.exists(marker)) {
            assertTrue(System.nanoTime() < deadline, "child did not start building");
            Thread.sleep(20);
        }
        AtomicInteger builds = new AtomicInteger();
        Path p = new ImageCache(root).ensure("thing", "k", "thing", dir -> builds.incrementAndGet());
        assertEquals(0, child.waitFor());
        assertEquals(0, builds.get(), "this process must reuse the entry the other one built");
        assertEquals("from child", Files.readString(p.resolve("f")));
    }

    @Test
    void staleEntriesOfTheSameNameArePrunedKeepingTheNewest(@TempDir Path root) throws Exception {
        ImageCache cache = new ImageCache(root);
        Path k1 = cache.ensure("kernel-sid", "k1", "k", dir -> { });
        Thread.sleep(20);
        Path k2 = cache.ensure("kernel-sid", "k2", "k", dir -> { });
        Path other = cache.ensure("kernel-sid-other", "k0", "k", dir -> { });
        Thread.sleep(20);
        Path k3 = cache.ensure("kernel-sid", "k3", "k", dir -> { });
        assertFalse(Files.exists(k1), "the oldest of three is removed");
        assertTrue(Files.exists(k2) && Files.exists(k3), "the newest two stay");
        assertTrue(Files.exists(other), "other names are not touched");
    }

    @Test
    void anEntryInUseIsNotPruned(@TempDir Path root) throws Exception {
        ImageCache cache = new ImageCache(root);
        Path k1 = cache.ensure("boot-sid", "k1", "b", dir -> { });
        try (AutoCloseable inUse = cache.use(k1)) {
            Thread.sleep(20);
            cache.ensure("boot-sid", "k2", "b", dir -> { });
            Thread.sleep(20);
            cache.ensure("boot-sid", "k3", "b", dir -> { });
            assertTrue(Files.exists(k1), "a guest still reads it");
        }
        Thread.sleep(20);
        cache.ensure("boot-sid", "k4", "b", dir -> { });
        assertFalse(Files.exists(k1), "pruned once released");
    }
}
