/**
 * Deactivation ends every session issued before it, for good: a JWT's `iat`
 * cannot change, so re-activating the user must not revive it.
 *
 * `iat` has whole seconds; a deactivation has milliseconds. A session issued
 * at t has `iat` = floor(t). Storing the deactivation instant rounded up to
 * the next whole second, and requiring `iat` >= it, refuses every session
 * issued before the deactivation (floor(t) <= floor(deactivation) < the bound)
 * at the price of also refusing one issued after a re-activation within that
 * same second: fail closed, and the user's next session works.
 *
 * The bound is read from the wall clock, as jose checks `iat` and `exp`, and
 * as identity providers stamp them; not from the injected clock.
 */
export function credentialsValidAfter(deactivatedAt: Date, previous: Date | null): Date {
  const bound = new Date((Math.floor(deactivatedAt.getTime() / 1000) + 1) * 1000);
  // Never backwards: a clock step back must not revive what an earlier deactivation ended.
  return previous && previous.getTime() > bound.getTime() ? previous : bound;
}

/** Whether a session issued at `issuedAtS` (its `iat`, epoch seconds) outlives the user's last deactivation. */
export function issuedAfterDeactivation(issuedAtS: number, validAfter: Date | null): boolean {
  return validAfter === null || issuedAtS * 1000 >= validAfter.getTime();
}
