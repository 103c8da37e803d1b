import { randomBytes } from 'node:crypto';
import { sha256 } from '../sha256.js';

/**
 * SCIM bearer tokens: `scim_` + 43 base64url characters (256 random bits).
 * The prefix lets secret scanners and people tell one from an API token;
 * only the SHA-256 digest is stored.
 */
const SCIM_TOKEN_PREFIX = 'scim_';
const SHAPE = /^scim_[A-Za-z0-9_-]{43}$/;

export function createScimSecret(): { secret: string; digest: string } {
  const secret = `${SCIM_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { secret, digest: digestScimToken(secret) };
}

export function isWellFormedScimToken(candidate: string): boolean {
  return SHAPE.test(candidate);
}

export function digestScimToken(secret: string): string {
  return sha256(secret, 'hex');
}
