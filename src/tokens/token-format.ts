import { CHECKSUM_LENGTH, checksumOf, randomBase62 } from '../base62.js';
import { sha256 } from '../sha256.js';

/**
 * API token format: `own_` + 43 base62 characters of randomness (256 bits) +
 * a 6-character base62 CRC-32 of the body.
 *
 * The prefix lets secret scanners recognise a leaked token; the checksum lets
 * the service reject a mistyped or made-up token without a database query.
 * Only the SHA-256 digest is stored. A plain digest (no pepper) is enough for
 * 256 random bits, and it is the same in every region, so one token works
 * everywhere without sharing a key.
 */
export const TOKEN_PREFIX = 'own_';
const BODY_LENGTH = 43;
const SHAPE = new RegExp(`^${TOKEN_PREFIX}[0-9A-Za-z]{${BODY_LENGTH + CHECKSUM_LENGTH}}$`);

export interface NewTokenSecret {
  /** The plaintext: goes to the caller once, and nowhere else. */
  readonly secret: string;
  /** What the store keeps and looks up by. */
  readonly digest: string;
  /** What the user sees to recognise the token later. */
  readonly hint: string;
}

export function createTokenSecret(): NewTokenSecret {
  const body = randomBase62(BODY_LENGTH);
  const secret = `${TOKEN_PREFIX}${body}${checksumOf(body)}`;
  return { secret, digest: digestToken(secret), hint: tokenHint(secret) };
}

/** True when `candidate` has the token's prefix, length and alphabet; says nothing of its checksum. */
export function hasTokenShape(candidate: string): boolean {
  return SHAPE.test(candidate);
}

/** True when `candidate` has the token shape and a matching checksum. */
export function isWellFormedToken(candidate: string): boolean {
  if (!SHAPE.test(candidate)) return false;
  const body = candidate.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + BODY_LENGTH);
  return candidate.endsWith(checksumOf(body));
}

/** Whether a bearer credential claims to be an API token (rather than a session JWT). */
export function looksLikeApiToken(credential: string): boolean {
  return credential.startsWith(TOKEN_PREFIX);
}

export function digestToken(secret: string): string {
  return sha256(secret, 'hex');
}

function tokenHint(secret: string): string {
  return `${TOKEN_PREFIX}…${secret.slice(-4)}`;
}
