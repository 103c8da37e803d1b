/**
 * The closed set of answers to "does this bearer credential work?", the same
 * for every kind of credential. Metrics, logs and the RFC 6750
 * `error_description` read it; nothing re-parses a credential to guess why it
 * failed.
 *
 * - `MALFORMED`: cannot be one we issued, told without a database read (an API
 *   token whose checksum fails, a SCIM token whose checksum or shape fails, a session JWT
 *   whose signature or claims do not verify, a header that is not `Bearer`).
 * - `UNKNOWN`: well-formed, but no such credential exists. A revoked or rotated
 *   API or SCIM token is deleted or replaced, so it answers `UNKNOWN` too.
 * - `EXPIRED`: past its `expiresAt` / `exp`.
 * - `REVOKED`: a session JWT issued before its user's last deactivation.
 * - `DISABLED`: an API token whose user has API tokens turned off.
 * - `USER_INACTIVE`: the credential's user is deactivated.
 */
export type CredentialRefusal = 'MALFORMED' | 'UNKNOWN' | 'EXPIRED' | 'REVOKED' | 'DISABLED' | 'USER_INACTIVE';
export type CredentialOutcome = 'OK' | CredentialRefusal;

/** Which verifier answered: the `kind` label of `api_tokens_authentications_total`. */
export type CredentialKind = 'api_token' | 'session' | 'scim_token' | 'introspection_client' | 'metrics_token';

/** A verifier's answer: the value when the credential works, the refusal otherwise. */
export type Verified<T> = { readonly outcome: 'OK'; readonly value: T } | { readonly outcome: CredentialRefusal };

export function refused(outcome: CredentialRefusal): { readonly outcome: CredentialRefusal } {
  return { outcome };
}

export function verified<T>(value: T): { readonly outcome: 'OK'; readonly value: T } {
  return { outcome: 'OK', value };
}

/** The RFC 6750 `error_description` of a refusal: says which rule refused, never anything about the secret. */
export const REFUSAL_DESCRIPTIONS: Readonly<Record<CredentialRefusal, string>> = {
  MALFORMED: 'The credential is malformed.',
  UNKNOWN: 'The credential is unknown or was revoked.',
  EXPIRED: 'The credential has expired.',
  REVOKED: 'The credential was revoked.',
  DISABLED: 'API tokens are disabled for this user.',
  USER_INACTIVE: 'The user is deactivated.',
};
