import { describe, expect, it } from 'vitest';
import { credentialsValidAfter, issuedAfterDeactivation } from '../../src/auth/credentials-valid-after.js';

const at = (iso: string) => new Date(iso);
const seconds = (iso: string) => Date.parse(iso) / 1000;

describe('credentials valid after a deactivation', () => {
  it('moves to the next whole second, so every session issued up to the deactivation is refused', () => {
    const bound = credentialsValidAfter(at('2026-12-05T10:00:00.400Z'), null);
    expect(bound.toISOString()).toBe('2026-12-05T10:00:01.000Z');
    // Issued 600 ms before, in the same second: its iat is 10:00:00.
    expect(issuedAfterDeactivation(seconds('2026-12-05T10:00:00Z'), bound)).toBe(false);
    expect(issuedAfterDeactivation(seconds('2026-12-05T09:59:59Z'), bound)).toBe(false);
    expect(issuedAfterDeactivation(seconds('2026-12-05T10:00:01Z'), bound)).toBe(true);
    // A deactivation exactly on a second still refuses a session issued in that very second.
    const exact = credentialsValidAfter(at('2026-12-05T10:00:00.000Z'), null);
    expect(issuedAfterDeactivation(seconds('2026-12-05T10:00:00Z'), exact)).toBe(false);
  });

  it('never moves backwards, and a user never deactivated refuses nothing', () => {
    const later = at('2026-12-05T11:00:00.000Z');
    expect(credentialsValidAfter(at('2026-12-05T10:00:00.400Z'), later)).toBe(later);
    expect(issuedAfterDeactivation(0, null)).toBe(true);
  });
});
