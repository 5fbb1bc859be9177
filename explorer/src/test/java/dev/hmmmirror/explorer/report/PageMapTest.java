package dev.hmmmirror.explorer.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a reader of a reproducer's page-state map sees, in a real browser: headless Chromium
 * (Debian's {@code chromium}) takes a screenshot of the page, and every cell has its state's colour,
 * the pages an invalidation covered carry the red mark, and the failing step is framed.
 */
class PageMapTest {
    static PageMap.Trace trace() {
        PageMap.Builder b = new PageMap.Builder();
        PageMap.State c = PageMap.State.CPU_ONLY;
        PageMap.State n = PageMap.State.NOT_MAPPED;
        b.step("w.map(0, Kind.ANONYMOUS, 3);", List.of(n, n, n), Set.of());
        b.step("w.fault(0, 0, 0, 3, Access.WRITE);",
                List.of(PageMap.State.DEVICE_WRITE, PageMap.State.DEVICE_WRITE, PageMap.State.DEVICE_READ), Set.of());
        b.step("w.migrateToDevice(0, 0, 1, 1);",
                List.of(PageMap.State.DEVICE_WRITE, PageMap.State.DEVICE_PRIVATE, PageMap.State.DEVICE_READ), Set.of(1));
        b.step("w.makeExclusive(1, 0, 2, 1);",
                List.of(PageMap.State.DEVICE_WRITE, PageMap.State.DEVICE_PRIVATE, PageMap.State.EXCLUSIVE), Set.of(2));
        b.step("w.protect(0, 0, 1, Memory.Protection.READ);", List.of(c, PageMap.State.DEVICE_PRIVATE, c),
                Set.of(0));
        return b.build("Violation: device-write-permission: <page 0>", List.of("region 0 page 0", "region 0 page 1",
                "region 0 page 2"));
    }

    @Test
    void thePageNeedsNothingButItselfAndNamesEveryStep(@TempDir Path dir) {
        String html = PageMap.html(trace());
        for (String external : List.of("<script", "<link", "src=", "@import", "url(")) {
            assertFalse(html.contains(external), "the page refers to another file: " + external);
        }
        assertTrue(html.contains("w.protect(0, 0, 1, Memory.Protection.READ);</code> <b>(fails)</b>"), html);
        assertTrue(html.contains("&lt;page 0&gt;"), "the title is escaped");
    }

    @Test
    void aReaderSeesEachStateAsItsColourInABrowser(@TempDir Path dir) throws Exception {
        Path chromium = Path.of("/usr/bin/chromium");
        Assumptions.assumeTrue(Files.isExecutable(chromium),
                "skipped: needs Debian's chromium (ci/install-deps.sh installs it)");
        PageMap.Trace t = trace();
        Path page = dir.resolve("map.html");
        Files.writeString(page, PageMap.html(t));
        Path png = dir.resolve("map.png");
        Process p = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--hide-scrollbars", "--force-device-scale-factor=1", "--window-size=600,400",
                "--user-data-dir=" + dir.resolve("profile"), "--screenshot=" + png, page.toUri().toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("chromium.log").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium hung");
        assertTrue(Files.isRegularFile(png), "no screenshot: " + Files.readString(dir.resolve("chromium.log")));
        BufferedImage img = ImageIO.read(png.toFile());
        for (int s = 0; s < t.steps().size(); s++) {
            for (int r = 0; r < t.pages().size(); r++) {
                // the centre-left of the cell: clear of the event mark in its top-right corner
                int x = PageMap.cellX(s) + 5;
                int y = PageMap.cellY(r) + PageMap.CELL / 2 + 3;
                assertEquals(hex(t.states()[s][r].rgb()), hex(img.getRGB(x, y) & 0xffffff),
                        "step " + (s + 1) + ", row " + r + " (" + t.states()[s][r] + ") at " + x + "," + y);
                int mark = img.getRGB(PageMap.cellX(s) + PageMap.CELL - 3, PageMap.cellY(r) + 3) & 0xffffff;
                assertEquals(t.invalidated().get(s).contains(r), mark == PageMap.INVALIDATED_RGB,
                        "event mark of step " + (s + 1) + ", row " + r + ": " + hex(mark));
            }
        }
        int last = t.steps().size() - 1;
        int frame = img.getRGB(PageMap.cellX(last) - 1, PageMap.TOP - 10) & 0xffffff;
        assertEquals(hex(PageMap.INVALIDATED_RGB), hex(frame), "the failing step is framed in red");
    }

    private static String hex(int rgb) {
        return String.format("#%06x", rgb);
    }
}
