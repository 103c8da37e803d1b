import { REFUSAL_DESCRIPTIONS, type CredentialRefusal } from '../credential-outcome.js';

/**
 * The RFC 6750 §3 `WWW-Authenticate` value for a refused bearer credential:
 * `error_description` says which rule refused it (the verifier's outcome).
 * Said only to whoever sent the credential; the response body is the same for
 * every refusal.
 */
export function invalidTokenChallenge(outcome: CredentialRefusal, realm?: string): string {
  const realmPart = realm ? `realm="${realm}", ` : '';
  return `Bearer ${realmPart}error="invalid_token", error_description="${REFUSAL_DESCRIPTIONS[outcome]}"`;
}
