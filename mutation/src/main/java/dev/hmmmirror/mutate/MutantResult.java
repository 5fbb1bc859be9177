package dev.hmmmirror.mutate;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One mutant's verdict in a campaign, as kept in {@code results.json}.
 *
 * @param name             the mutant's name
 * @param description      its header's one line
 * @param verdict          the class
 * @param reason           why (build error lines, boot failure, the equivalence argument, who killed it)
 * @param memoryCorrupting its header's Memory-corrupting
 * @param buildSeconds     applying the patch and the incremental rebuild (negative: not built)
 * @param compiled         how many files the rebuild compiled
 * @param imageSeconds     making the guest image of the rebuilt kernel (modules copied, the kernel's hmm-tests
 *                         built, boot files; negative: not made)
 * @param detectors        each detector's result, in the order they ran
 * @param seconds          the mutant's whole wall time
 * @param finished         when it got its verdict (ISO-8601)
 */
public record MutantResult(String name, String description, Verdict verdict, String reason, boolean memoryCorrupting,
        double buildSeconds, long compiled, double imageSeconds, Map<Detector, DetectorResult> detectors, double seconds, String finished) {
    /** The detectors that killed it. */
    public List<Detector> killers() {
        return detectors.values().stream().filter(DetectorResult::killed).map(DetectorResult::detector).toList();
    }

    /** The first failing assertion of the first detector that killed it, or empty. */
    public String firstFailure() {
        return detectors.values().stream().filter(DetectorResult::killed).map(DetectorResult::firstFailure).findFirst()
                .orElse("");
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("description", description);
        m.put("verdict", verdict.label());
        m.put("reason", reason);
        m.put("killedBy", killers().stream().map(Detector::label).toList());
        m.put("firstFailure", firstFailure());
        m.put("memoryCorrupting", memoryCorrupting);
        m.put("buildSeconds", buildSeconds);
        m.put("compiled", compiled);
        m.put("imageSeconds", imageSeconds);
        Map<String, Object> d = new LinkedHashMap<>();
        detectors.forEach((k, v) -> d.put(k.label(), v.toJson()));
        m.put("detectors", d);
        m.put("seconds", seconds);
        m.put("finished", finished);
        return m;
    }

    @SuppressWarnings("unchecked")
    static MutantResult fromJson(Map<String, Object> m) {
        Map<Detector, DetectorResult> d = new EnumMap<>(Detector.class);
        if (m.get("detectors") instanceof Map<?, ?> dm) {
            dm.forEach((k, v) -> d.put(Detector.of((String) k), DetectorResult.fromJson(Detector.of((String) k),
                    (Map<String, Object>) v)));
        }
        return new MutantResult((String) m.get("name"), (String) m.getOrDefault("description", ""),
                Verdict.of((String) m.get("verdict")), (String) m.getOrDefault("reason", ""),
                Boolean.TRUE.equals(m.get("memoryCorrupting")), DetectorResult.number(m.get("buildSeconds")),
                m.get("compiled") instanceof Number n ? n.longValue() : 0, DetectorResult.number(m.get("imageSeconds")), d, DetectorResult.number(m.get("seconds")),
                (String) m.getOrDefault("finished", ""));
    }
}
