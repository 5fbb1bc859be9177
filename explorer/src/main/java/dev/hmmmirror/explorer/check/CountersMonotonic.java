package dev.hmmmirror.explorer.check;

import dev.hmmmirror.Counters;
import dev.hmmmirror.HmmException;
import dev.hmmmirror.explorer.engine.Invariant;
import dev.hmmmirror.explorer.engine.Violation;
import dev.hmmmirror.explorer.model.Model;

/** No counter of a mirror ever goes backwards (until the mirror is opened again). */
public final class CountersMonotonic implements Invariant<Subject> {
    private static final String[] NAMES = {"faults", "pagesFaulted", "faultRetries", "invalidations",
        "pagesInvalidated", "eventsDropped", "deviceReads", "deviceWrites", "migratedToDevice", "migratedToSystem",
        "cpuFaultMigrations", "exclusiveGrants", "exclusiveRevocations", "deviceAtomics", "devicePrivateReads"};

    @Override
    public String name() {
        return "counters-monotonic";
    }

    @Override
    public void check(Subject s) throws HmmException {
        Observed o = s.observed();
        for (int i = 0; i < Model.MIRRORS; i++) {
            Counters c = s.driver().counters(i);
            if (o.last(i) != null) {
                long[] x = values(o.last(i));
                long[] y = values(c);
                for (int k = 0; k < x.length; k++) {
                    if (y[k] < x[k]) {
                        throw new Violation("counters-monotonic", "mirror " + i + ": counter " + NAMES[k]
                                + " went from " + x[k] + " to " + y[k]);
                    }
                }
            }
            o.last(i, c);
        }
    }

    private static long[] values(Counters c) {
        return new long[] {c.faults(), c.pagesFaulted(), c.faultRetries(), c.invalidations(), c.pagesInvalidated(),
            c.eventsDropped(), c.deviceReads(), c.deviceWrites(), c.migratedToDevice(), c.migratedToSystem(),
            c.cpuFaultMigrations(), c.exclusiveGrants(), c.exclusiveRevocations(), c.deviceAtomics(),
            c.devicePrivateReads()};
    }
}
