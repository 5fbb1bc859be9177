package dev.hmmmirror.tool;

import dev.hmmmirror.vm.boot.GuestFailure;
import dev.hmmmirror.vm.config.Settings;
import dev.hmmmirror.vm.host.SetupException;

/** A subcommand's body with the harness's failures turned into exit code 125 and one line on stderr. */
final class Guarded {
    private Guarded() {}

    /** What a subcommand does with the settings; may be interrupted. */
    interface Body {
        int run(Settings settings) throws InterruptedException;
    }

    static int call(Settings settings, Body body) {
        try {
            return body.run(settings);
        } catch (SetupException | GuestFailure | IllegalArgumentException e) {
            System.err.println("hmm: " + e.getMessage());
            return Hmm.CANNOT_RUN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Hmm.CANNOT_RUN;
        }
    }
}
