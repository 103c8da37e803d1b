import { describe, expect, it } from 'vitest';
import { ticksSince } from '../../bench/scale/machine.js';

describe("the scale bench's CPU share of a set of processes (PostgreSQL's)", () => {
  it('counts what each process spent since the first reading, and a process started meanwhile whole', () => {
    const before = new Map([
      ['100', 500],
      ['101', 40],
    ]);
    const after = new Map([
      ['100', 620],
      ['101', 45],
      ['102', 30],
    ]);
    expect(ticksSince(before, after)).toBe(120 + 5 + 30);
  });

  it('is never negative when a process ended meanwhile (a closed connection’s backend)', () => {
    const before = new Map([
      ['100', 500],
      ['101', 900],
    ]);
    const after = new Map([['100', 510]]);
    expect(ticksSince(before, after)).toBe(10);
  });
});
