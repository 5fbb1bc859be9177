package dev.hmmmirror.mutate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one detector found on one kernel.
 *
 * @param detector     which
 * @param status       {@code killed}, {@code survived}, {@code timeout}, {@code boot-failure} (as {@link Verdict} labels)
 * @param failing      the tests that failed (or the explorer's failure), beyond those failing on the real kernel
 * @param firstFailure the first failing assertion (or splat headline), for the report
 * @param splats       kernel reports seen (kind and headline, then the report's first lines)
 * @param bootSeconds  QEMU start to the guest agent (negative: unknown)
 * @param seconds      the detector's whole wall time, boot included
 * @param reportDir    where its console log and reports are
 * @param allFailing   every test that failed, on this kernel (the baseline's are subtracted into {@code failing})
 * @param skipped      the tests that skipped themselves ({@code Class.test: reason}): a survivor whose killing test
 *                     skipped was not judged by it
 */
public record DetectorResult(Detector detector, Verdict status, List<String> failing, String firstFailure,
        List<String> splats, double bootSeconds, double seconds, String reportDir, List<String> allFailing,
        List<String> skipped) {

    /** Whether it told the mutant from the real kernel. */
    public boolean killed() {
        return status == Verdict.KILLED;
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", status.label());
        m.put("failing", failing);
        m.put("firstFailure", firstFailure);
        m.put("splats", splats);
        m.put("bootSeconds", bootSeconds);
        m.put("seconds", seconds);
        m.put("reportDir", reportDir);
        m.put("allFailing", allFailing);
        if (!skipped.isEmpty()) {
            m.put("skipped", skipped);
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    static DetectorResult fromJson(Detector d, Map<String, Object> m) {
        return new DetectorResult(d, Verdict.of((String) m.get("status")), strings(m.get("failing")),
                (String) m.getOrDefault("firstFailure", ""), strings(m.get("splats")), number(m.get("bootSeconds")),
                number(m.get("seconds")), (String) m.getOrDefault("reportDir", ""), strings(m.get("allFailing")),
                strings(m.get("skipped")));
    }

    static List<String> strings(Object o) {
        List<String> out = new ArrayList<>();
        if (o instanceof List<?> l) {
            l.forEach(x -> out.add(String.valueOf(x)));
        }
        return out;
    }

    static double number(Object o) {
        return o instanceof Number n ? n.doubleValue() : -1;
    }
}
