package dev.hmmmirror.explorer.engine;

/**
 * Makes the fresh state every run of a program starts from, and tears it down: each run, and each
 * replay while shrinking, gets new memory and new mirrors.
 *
 * @param <S> the state
 */
public interface StateFactory<S extends AutoCloseable> {
    S create() throws Exception;
}
