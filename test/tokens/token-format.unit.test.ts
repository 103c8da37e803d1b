import { describe, expect, it } from 'vitest';
import { createTokenSecret, digestToken, isWellFormedToken, looksLikeApiToken, TOKEN_PREFIX } from '../../src/tokens/token-format.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Every string that differs from `secret` in exactly one character after the prefix. */
function oneCharacterChanges(secret: string): string[] {
  const out: string[] = [];
  for (let i = TOKEN_PREFIX.length; i < secret.length; i++) {
    for (const c of ALPHABET) {
      if (c !== secret[i]) out.push(`${secret.slice(0, i)}${c}${secret.slice(i + 1)}`);
    }
  }
  return out;
}

describe('token format', () => {
  it('is own_ followed by base62 characters carrying at least 256 bits', () => {
    const { secret } = createTokenSecret();
    expect(secret.startsWith('own_')).toBe(true);
    expect(secret).toMatch(/^own_[0-9A-Za-z]+$/);
    // 62^n >= 2^256 needs n >= 43 characters of randomness; the checksum comes on top.
    expect(secret.length - TOKEN_PREFIX.length).toBeGreaterThan(43);
    expect(isWellFormedToken(secret)).toBe(true);
    expect(looksLikeApiToken(secret)).toBe(true);
  });

  it('rejects every one-character change, anywhere after the prefix', () => {
    for (let n = 0; n < 5; n++) {
      const { secret } = createTokenSecret();
      const changed = oneCharacterChanges(secret);
      expect(changed.length).toBeGreaterThan(1000);
      expect(changed.filter((candidate) => isWellFormedToken(candidate))).toEqual([]);
    }
  });

  it('rejects a wrong prefix, a missing or extra character, and other shapes', () => {
    const { secret } = createTokenSecret();
    const body = secret.slice(TOKEN_PREFIX.length);
    for (const candidate of [
      `owm_${body}`,
      `OWN_${body}`,
      body,
      secret.slice(0, -1),
      `${secret}0`,
      `${secret.slice(0, 10)}-${secret.slice(11)}`,
      ` ${secret}`,
      '',
      'own_',
    ]) {
      expect(isWellFormedToken(candidate), candidate).toBe(false);
    }
    expect(looksLikeApiToken('eyJhbGciOiJIUzI1NiJ9.e30.x')).toBe(false);
  });

  it('hint shows the prefix and the last four characters only', () => {
    const { secret, hint } = createTokenSecret();
    const last4 = secret.slice(-4);
    expect(hint.startsWith('own_')).toBe(true);
    expect(hint.endsWith(last4)).toBe(true);
    // Whatever separates them, nothing else of the secret is in the hint.
    const middle = hint.slice('own_'.length, -4);
    expect(middle).not.toMatch(/[0-9A-Za-z]/);
    expect(hint.length).toBeLessThanOrEqual(16);
  });

  it('stores a SHA-256 digest that is not the secret', () => {
    const { secret, digest } = createTokenSecret();
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(digest).toBe(digestToken(secret));
    expect(digest).not.toContain(secret);
  });

  it('gives different tokens (and digests) every time', () => {
    const tokens = Array.from({ length: 200 }, () => createTokenSecret());
    expect(new Set(tokens.map((t) => t.secret)).size).toBe(200);
    expect(new Set(tokens.map((t) => t.digest)).size).toBe(200);
  });
});
