import type { MaybePromise } from '../maybe-promise.js';
import type { Principal } from './principal.js';

/**
 * Turns an `Authorization` value into a principal: null when no credential
 * was sent; a credential that was sent but does not authenticate throws
 * `InvalidTokenError`, whatever the reason (thrown, or rejected when the
 * answer needed a read). `PrincipalResolver` is the one implementation.
 */
export interface Authenticator {
  /** `address` is the caller's client address, recorded as an API token's last-used address. */
  authenticate(authorization: string | undefined, address?: string): MaybePromise<Principal | null>;
}
