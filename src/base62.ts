import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Base62 and the checksum every bearer token this service issues carries at
 * its end (API tokens, SCIM tokens): shared so that one rule, documented in
 * the README for secret scanners, decides whether a token could be ours.
 */
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Characters of `checksumOf`'s answer. */
export const CHECKSUM_LENGTH = 6;

/**
 * The CRC-32 (IEEE 802.3, as zlib's) of `body` in base62, most significant
 * digit first, padded with `0` to `CHECKSUM_LENGTH` characters. It spares the
 * database a mistyped or made-up token; it is no secret and proves nothing.
 */
export function checksumOf(body: string): string {
  let value = crc32(body);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = ALPHABET.charAt(value % 62) + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** Uniform base62: bytes >= 248 are dropped so that `% 62` has no bias. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET.charAt(byte % 62);
    }
  }
  return out;
}
