import { describe, expect, it } from 'vitest';
import { parseDuration, type Duration } from '../../src/duration.js';
import { dueWarning, expiryFor, isExpired, type TokenTimes } from '../../src/tokens/expiry-rules.js';

const DAY = 86_400_000;

function duration(text: string): Duration {
  const d = parseDuration(text);
  if (!d) throw new Error(`bad test duration ${text}`);
  return d;
}

const THRESHOLDS = [duration('P30D'), duration('P7D'), duration('P1D')];
const CREATED = new Date('2026-01-01T00:00:00.000Z');
const EXPIRES = new Date(CREATED.getTime() + 180 * DAY);

function token(warnedThresholdMs: number | null = null, lifetimeMs = 180 * DAY): TokenTimes {
  return { createdAt: CREATED, expiresAt: new Date(CREATED.getTime() + lifetimeMs), warnedThresholdMs };
}

/** The instant `ms` before the token expires. */
function before(ms: number, expiresAt = EXPIRES): Date {
  return new Date(expiresAt.getTime() - ms);
}

describe('expiryFor', () => {
  it('is the creation time plus the lifetime, to the millisecond', () => {
    expect(expiryFor(CREATED, duration('P180D')).toISOString()).toBe('2026-06-30T00:00:00.000Z');
    expect(expiryFor(new Date('2026-03-01T12:34:56.789Z'), duration('PT20S')).toISOString()).toBe('2026-03-01T12:35:16.789Z');
  });
});

describe('isExpired', () => {
  it('is false until expiresAt and true from that instant on', () => {
    expect(isExpired({ expiresAt: EXPIRES }, before(1))).toBe(false);
    expect(isExpired({ expiresAt: EXPIRES }, EXPIRES)).toBe(true);
    expect(isExpired({ expiresAt: EXPIRES }, new Date(EXPIRES.getTime() + 1))).toBe(true);
  });
});

describe('dueWarning', () => {
  it('is null while no threshold is reached', () => {
    expect(dueWarning(token(), CREATED, THRESHOLDS)).toBeNull();
    expect(dueWarning(token(), before(30 * DAY + 1), THRESHOLDS)).toBeNull();
  });

  it('fires a threshold once the remaining life is at or below it', () => {
    expect(dueWarning(token(), before(30 * DAY), THRESHOLDS)).toEqual({ threshold: duration('P30D'), daysLeft: 30 });
    expect(dueWarning(token(), before(20 * DAY), THRESHOLDS)).toEqual({ threshold: duration('P30D'), daysLeft: 20 });
  });

  it('returns only the nearest due threshold after missing several', () => {
    expect(dueWarning(token(), before(12 * 3_600_000), THRESHOLDS)).toEqual({
      threshold: duration('P1D'),
      daysLeft: 1,
    });
    expect(dueWarning(token(), before(5 * DAY), THRESHOLDS)).toEqual({ threshold: duration('P7D'), daysLeft: 5 });
  });

  it('does not depend on the order of the thresholds', () => {
    const shuffled = [duration('P1D'), duration('P30D'), duration('P7D')];
    expect(dueWarning(token(), before(5 * DAY), shuffled)?.threshold.iso).toBe('P7D');
  });

  it('fires each threshold once', () => {
    expect(dueWarning(token(30 * DAY), before(20 * DAY), THRESHOLDS)).toBeNull();
    expect(dueWarning(token(30 * DAY), before(5 * DAY), THRESHOLDS)?.threshold.iso).toBe('P7D');
    expect(dueWarning(token(7 * DAY), before(5 * DAY), THRESHOLDS)).toBeNull();
    expect(dueWarning(token(7 * DAY), before(DAY), THRESHOLDS)?.threshold.iso).toBe('P1D');
    expect(dueWarning(token(DAY), before(1), THRESHOLDS)).toBeNull();
  });

  it('never fires a threshold as long as the lifetime or longer', () => {
    const week = token(null, 7 * DAY);
    const weekExpires = week.expiresAt;
    expect(dueWarning(week, CREATED, THRESHOLDS)).toBeNull();
    expect(dueWarning(week, before(3 * DAY, weekExpires), THRESHOLDS)).toBeNull();
    expect(dueWarning(week, before(DAY, weekExpires), THRESHOLDS)).toEqual({ threshold: duration('P1D'), daysLeft: 1 });
  });

  it('gives no warning at or after expiry', () => {
    expect(dueWarning(token(), EXPIRES, THRESHOLDS)).toBeNull();
    expect(dueWarning(token(), new Date(EXPIRES.getTime() + DAY), THRESHOLDS)).toBeNull();
  });

  it('gives none without thresholds', () => {
    expect(dueWarning(token(), before(1), [])).toBeNull();
  });
});
