package dev.hmmmirror.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.hmmmirror.vm.config.Settings;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** hmm bench's variants and cells. */
class BootBenchTest {
    private static final Settings BASE = Settings.from(Map.<String, String>of()::get, Map.<String, String>of()::get);

    @Test
    void aVariantSetsTheSettingsItNames() {
        BootBench.Variant v = BootBench.Variant.parse("x:hmm.aot=false,hmm.guest.jvm.options=-Xmx1g -Xss1m", BASE);
        assertEquals("x", v.name());
        assertEquals(false, v.settings().aot());
        assertEquals(java.util.List.of("-Xmx1g", "-Xss1m"), v.settings().guestJvmOptions());
        assertEquals(true, BootBench.Variant.parse("plain", BASE).settings().aot(), "the AOT cache is the default");
        assertThrows(IllegalArgumentException.class, () -> BootBench.Variant.parse("x:hmm.nothing=1", BASE));
        assertThrows(IllegalArgumentException.class, () -> BootBench.Variant.parse("x:hmm.aot", BASE));
    }

    @Test
    void theDefaultVariantsAreTheSettingsAndTheAotCacheTheOtherWayRound() {
        var d = BootBench.defaults(BASE);
        assertEquals("AOT cache", d.get(0).name());
        assertEquals("plain JVM", d.get(1).name());
        assertEquals(false, d.get(1).settings().aot());
    }

    @Test
    void aCellIsTheMedianWithMinAndMax() {
        assertEquals("2.0 [1.0-5.0]", BootBench.cell(new double[] {5, 1, 2}, "%.1f"));
        assertEquals("1.5 [1.0-2.0]", BootBench.cell(new double[] {2, 1}, "%.1f"));
        assertEquals("3.0", BootBench.cell(new double[] {3}, "%.1f"));
        assertEquals("-", BootBench.cell(new double[] {3, -1}, "%.1f"), "an unknown stage");
    }
}
