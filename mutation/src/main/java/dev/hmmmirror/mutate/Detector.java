package dev.hmmmirror.mutate;

import java.util.Locale;

/** What judges a mutant; each runs in its own boot of the mutated kernel. */
public enum Detector {
    /** Our guest suite ({@code hmm suite}) through hmm_mirror.ko. */
    SUITE,
    /** The explorer: a fixed-seed campaign of random programs, then its race mode on 2 vCPUs. */
    EXPLORER,
    /** The kernel's own hmm selftests (test_hmm.ko + hmm-tests): the baseline we compare with. */
    SELFTESTS;

    /** The JSON and command-line name: {@code suite}, {@code explorer}, {@code selftests}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The detector named {@code label}; fails naming the known ones. */
    public static Detector of(String label) {
        for (Detector d : values()) {
            if (d.label().equals(label.strip().toLowerCase(Locale.ROOT))) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown detector '" + label + "': use suite, explorer, selftests");
    }
}
