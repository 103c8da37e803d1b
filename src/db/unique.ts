import { UniqueConstraintViolationException } from '@mikro-orm/core';

/**
 * Runs `work`; a unique-index violation becomes `clientError()`. The index is
 * the last word on duplicates under concurrency, and hitting it is the
 * client's mistake, never a 500.
 */
export async function onUniqueViolation<T>(work: () => Promise<T>, clientError: () => Error): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw clientError();
    throw error;
  }
}

/**
 * Runs `work`, and once more if a unique index refused it: for changes that
 * are idempotent once the row exists (a membership two requests add at
 * once), the second run sees the winner's row and has nothing left to do.
 */
export async function retryOnUniqueViolation<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) return work();
    throw error;
  }
}
