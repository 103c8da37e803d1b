import { describe, expect, it } from 'vitest';
import { durationInWords, isoDurationMs, timeLeftInWords } from '../../web/src/format.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('the page says time in words', () => {
  it('rounds down in the largest unit that fits', () => {
    expect(durationInWords(10 * SECOND)).toBe('10 seconds');
    expect(durationInWords(SECOND)).toBe('1 second');
    expect(durationInWords(59 * SECOND + 999)).toBe('59 seconds');
    expect(durationInWords(MINUTE)).toBe('1 minute');
    expect(durationInWords(59 * MINUTE + 59 * SECOND)).toBe('59 minutes');
    expect(durationInWords(2 * HOUR + 59 * MINUTE)).toBe('2 hours');
    expect(durationInWords(DAY - 1)).toBe('23 hours');
    expect(durationInWords(3 * DAY + 23 * HOUR)).toBe('3 days');
    expect(durationInWords(180 * DAY)).toBe('180 days');
    expect(durationInWords(500)).toBe('less than a second');
  });

  it('never says "1 day left" when seconds remain, and says "expired" once past', () => {
    const now = new Date('2026-12-05T12:00:00.000Z');
    const at = (ms: number) => new Date(now.getTime() + ms).toISOString();
    expect(timeLeftInWords(at(10 * SECOND), now)).toBe('10 seconds left');
    expect(timeLeftInWords(at(DAY + 10 * SECOND), now)).toBe('1 day left');
    expect(timeLeftInWords(at(0), now)).toBe('expired');
    expect(timeLeftInWords(at(-MINUTE), now)).toBe('expired');
  });

  it('reads the lifetime the service sends as an ISO 8601 duration, never showing it raw', () => {
    expect(isoDurationMs('PT20S')).toBe(20 * SECOND);
    expect(durationInWords(isoDurationMs('PT20S') ?? 0)).toBe('20 seconds');
    expect(isoDurationMs('P180D')).toBe(180 * DAY);
    expect(isoDurationMs('P1DT2H30M')).toBe(DAY + 2 * HOUR + 30 * MINUTE);
    expect(isoDurationMs('P2W')).toBe(14 * DAY);
    expect(isoDurationMs('PT1.5S')).toBe(1500);
    for (const bad of ['P1Y', 'P1M', 'P', 'PT', '20s', '']) expect(isoDurationMs(bad), bad).toBeNull();
  });
});
