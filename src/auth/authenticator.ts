import type { Principal } from './principal.js';

/**
 * Turns an `Authorization` value into a principal: null when no credential
 * was sent; a credential that was sent but does not authenticate throws
 * `InvalidTokenError`, whatever the reason. `PrincipalResolver` is the one
 * implementation.
 */
export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<Principal | null>;
}
