import { randomBytes } from 'node:crypto';
import { CHECKSUM_LENGTH, checksumOf } from '../base62.js';
import { sha256 } from '../sha256.js';

/**
 * SCIM bearer tokens: `scim_` + a body of 43 base64url characters (256
 * random bits) + a 6-character checksum of the body, the same CRC-32 in
 * base62 as API tokens carry (see base62.ts). The prefix lets secret scanners
 * and people tell one from an API token; the checksum lets the service refuse
 * a mistyped or made-up token without a database read. Only the SHA-256
 * digest of the whole token is stored.
 *
 * Tokens issued before the checksum (`scim_` + 43 characters, no checksum)
 * keep working until the organisation's token is rotated: their shape is all
 * that can be checked before the read.
 */
const SCIM_TOKEN_PREFIX = 'scim_';
const BODY_LENGTH = 43;
const SHAPE = new RegExp(`^${SCIM_TOKEN_PREFIX}[A-Za-z0-9_-]{${BODY_LENGTH}}[0-9A-Za-z]{${CHECKSUM_LENGTH}}$`);
const UNCHECKED_SHAPE = new RegExp(`^${SCIM_TOKEN_PREFIX}[A-Za-z0-9_-]{${BODY_LENGTH}}$`);

export function createScimSecret(): { secret: string; digest: string } {
  const body = randomBytes(32).toString('base64url');
  const secret = `${SCIM_TOKEN_PREFIX}${body}${checksumOf(body)}`;
  return { secret, digest: digestScimToken(secret) };
}

/**
 * True when `candidate` could be a SCIM token we issued: the current shape
 * with a matching checksum, or the shape of a token issued before checksums.
 */
export function isWellFormedScimToken(candidate: string): boolean {
  if (UNCHECKED_SHAPE.test(candidate)) return true;
  if (!SHAPE.test(candidate)) return false;
  const body = candidate.slice(SCIM_TOKEN_PREFIX.length, SCIM_TOKEN_PREFIX.length + BODY_LENGTH);
  return candidate.endsWith(checksumOf(body));
}

export function digestScimToken(secret: string): string {
  return sha256(secret, 'hex');
}
