import { BadUserInputError, reportOn } from '../errors.js';

/**
 * Runs a service call made for a GraphQL `input` argument and reports its
 * client errors on the argument path (`email` -> `input.email`). Fields that
 * are arguments of their own (`id`) keep their name.
 */
export async function onInputArgument<T>(inputFields: readonly string[], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BadUserInputError) {
      const field = error.extensions['field'];
      if (typeof field === 'string' && inputFields.includes(field)) throw reportOn(error, `input.${field}`);
    }
    throw error;
  }
}
