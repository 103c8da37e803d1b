import { hash } from 'node:crypto';

/**
 * SHA-256 of a UTF-8 string in one call. `crypto.hash` builds no Hash object:
 * for a token-sized input it is about 4x faster than `createHash`, and every
 * authenticated request hashes its credential.
 */
export function sha256(text: string): Buffer;
export function sha256(text: string, encoding: 'hex' | 'base64' | 'base64url'): string;
export function sha256(text: string, encoding?: 'hex' | 'base64' | 'base64url'): Buffer | string {
  return encoding ? hash('sha256', text, encoding) : hash('sha256', text, 'buffer');
}
