import type { MaybePromise } from '../maybe-promise.js';
import type { Principal } from './principal.js';

/**
 * Turns an `Authorization` value into a principal: null when no credential
 * was sent; a credential that was sent but does not authenticate throws
 * `InvalidTokenError`, whatever the reason (thrown, or rejected when the
 * answer needed a read). `PrincipalResolver` is the one implementation.
 */
export interface Authenticator {
  authenticate(authorization: string | undefined, options?: AuthenticateOptions): MaybePromise<Principal | null>;
}

export interface AuthenticateOptions {
  /**
   * False when the caller's address is over its failed-authentication budget:
   * then a credential is checked only where that costs no database read for a
   * made-up one (a cached or recently seen token digest, a session JWT's
   * signature), so a flood of well-formed unknown tokens never reaches the
   * database, while a colleague's working credential from the same address
   * still passes.
   * @default true
   */
  readonly lookupUnknown?: boolean;
  /** The caller's client address, recorded as an API token's last-used address. */
  readonly address?: string;
}
