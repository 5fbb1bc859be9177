package dev.hmmmirror.explorer.check;

import dev.hmmmirror.explorer.driver.Driver;
import dev.hmmmirror.explorer.model.Model;

/** What the checks compare: the system (through its driver) and the model, and what the checks remember. */
public interface Subject {
    Driver driver();

    Model model();

    Observed observed();
}
