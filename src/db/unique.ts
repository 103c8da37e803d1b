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
