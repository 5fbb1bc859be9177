package dev.hmmmirror.explorer.engine;

/**
 * One action of a program, with its parameters fixed: what it does to a state {@code S}, and how it
 * reads as a statement of a reproducer.
 *
 * @param <S> the state the program drives (the system under test and its model)
 */
public interface Step<S> {
    /**
     * Does the action and checks what it returned.
     *
     * @return whether it did anything: {@code false} when its target does not exist in this state (a
     *         step kept from a longer program while shrinking), so that the reproducer leaves it out
     * @throws Exception an {@link AssertionError} when the system did not behave as the model says
     */
    boolean apply(S state) throws Exception;

    /** The step as one Java statement against a state named {@code w}, for a reproducer. */
    String java();

    /** Simpler versions of this step (smaller counts, earlier pages ...), simplest first. */
    default java.util.List<Step<S>> simpler() {
        return java.util.List.of();
    }
}
