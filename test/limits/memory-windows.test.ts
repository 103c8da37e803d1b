import { describe, expect, it } from 'vitest';
import { MemoryWindows } from '../../src/http/rate-limits.js';

describe('MemoryWindows (a single instance’s budgets)', () => {
  it('allows the budget in a window, refuses the rest until it ends, and says when', () => {
    let now = 1_000_000;
    const windows = new MemoryWindows(3, 60_000, () => now);
    expect([windows.take('a'), windows.take('a'), windows.take('a')]).toEqual([{ allowed: true }, { allowed: true }, { allowed: true }]);
    expect(windows.take('a')).toEqual({ allowed: false, retryAfterSeconds: 60 });
    // Another key has its own budget.
    expect(windows.take('b')).toEqual({ allowed: true });
    now += 59_500;
    expect(windows.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 500;
    expect(windows.take('a')).toEqual({ allowed: true });
  });

  it('forgets ended windows as new ones open, so idle keys cost nothing', () => {
    let now = 0;
    const windows = new MemoryWindows(1, 1_000, () => now);
    for (let key = 0; key < 500; key++) windows.take(`old-${key}`);
    expect(windows.size).toBe(500);
    now += 1_000;
    windows.take('new');
    expect(windows.size).toBe(1);
  });

  it('keeps at most `capacity` keys under a flood, dropping the oldest windows first', () => {
    const now = 0;
    const windows = new MemoryWindows(1, 60_000, () => now, 100);
    windows.take('first');
    expect(windows.take('first').allowed).toBe(false);
    for (let key = 0; key < 1_000; key++) windows.take(`flood-${key}`);
    expect(windows.size).toBeLessThanOrEqual(100);
    // The newest windows are kept: the last key is still over its budget.
    expect(windows.take('flood-999').allowed).toBe(false);
  });
});
