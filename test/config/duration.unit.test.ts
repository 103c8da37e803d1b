import { describe, expect, it } from 'vitest';
import { daysLeft, parseDuration } from '../../src/duration.js';

const SECOND = 1_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

describe('parseDuration', () => {
  it.each([
    ['P180D', 180 * DAY],
    ['P1W', 7 * DAY],
    ['P1W2D', 9 * DAY],
    ['PT20S', 20 * SECOND],
    ['PT1.5S', 1_500],
    ['PT1M', 60 * SECOND],
    ['PT36H', 36 * HOUR],
    ['P1DT2H3M4S', DAY + 2 * HOUR + 3 * 60 * SECOND + 4 * SECOND],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toEqual({ iso: text, ms });
  });

  it('normalises case and surrounding spaces', () => {
    expect(parseDuration(' p7d ')).toEqual({ iso: 'P7D', ms: 7 * DAY });
  });

  it.each(['', 'P', 'PT', 'P1DT', 'P0D', 'PT0S', 'P1Y', 'P6M', '7d', '180', 'P-1D', 'P1.5D', 'forever', 'P7D,P1D'])(
    'refuses %j',
    (text) => {
      expect(parseDuration(text)).toBeNull();
    },
  );
});

describe('parseDuration bounds', () => {
  it('accepts up to 100 years of days and refuses longer ones, however they are written', () => {
    expect(parseDuration('P36500D')?.ms).toBe(36_500 * DAY);
    for (const text of ['P36501D', 'P999999999D', 'PT999999999999H', `P${'9'.repeat(400)}D`, 'P5215W', `PT${'9'.repeat(30)}S`]) {
      expect(parseDuration(text), text).toBeNull();
    }
  });
});

describe('daysLeft', () => {
  it('rounds up to whole days and never goes below zero', () => {
    expect(daysLeft(6 * DAY + SECOND)).toBe(7);
    expect(daysLeft(7 * DAY)).toBe(7);
    expect(daysLeft(1)).toBe(1);
    expect(daysLeft(0)).toBe(0);
    expect(daysLeft(-DAY)).toBe(0);
  });
});
