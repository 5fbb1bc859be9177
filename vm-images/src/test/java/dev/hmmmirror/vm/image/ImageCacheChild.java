package dev.hmmmirror.vm.image;

import java.nio.file.Files;
import java.nio.file.Path;

/** Helper process for {@link ImageCacheTest}: builds an entry slowly while holding the lock. */
public final class ImageCacheChild {
    private ImageCacheChild() {}

    public static void main(String[] args) throws Exception {
        new ImageCache(Path.of(args[0])).ensure("thing", "k", "thing", dir -> {
            Files.writeString(Path.of(args[1]), "started");
            Thread.sleep(1500);
            Files.writeString(dir.resolve("f"), "from child");
        });
    }
}
