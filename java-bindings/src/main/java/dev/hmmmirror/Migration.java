package dev.hmmmirror;

/**
 * What a migration command did.
 *
 * @param migrated pages moved
 * @param skipped  pages left where they were (holes, pages already there, pages of another device,
 *                 pages the kernel could not isolate)
 */
public record Migration(long migrated, long skipped) {}
