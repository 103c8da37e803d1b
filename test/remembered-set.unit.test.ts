import { describe, expect, it } from 'vitest';
import { rememberedSet } from '../src/remembered-set.js';

describe('rememberedSet', () => {
  it('holds up to its limit, then forgets the key seen least recently', () => {
    const seen = rememberedSet(3);
    for (const key of ['a', 'b', 'c']) seen.set(key, true);
    expect(seen.has('a')).toBe(true);
    seen.get('a'); // seen again: now the most recent
    seen.set('d', true);
    expect([...seen.keys()].sort()).toEqual(['a', 'c', 'd']);
    expect(seen.size).toBe(3);
  });

  it('holds its whole limit, though nothing is allocated for it up front', () => {
    const seen = rememberedSet(50_000);
    expect(seen.max).toBe(0);
    for (let i = 0; i < 50_001; i++) seen.set(`key-${i}`, true);
    expect(seen.size).toBe(50_000);
    expect(seen.has('key-0')).toBe(false);
    expect(seen.has('key-1')).toBe(true);
  });

  it('forgets a key once its time to live has passed', async () => {
    const seen = rememberedSet(10, 200);
    seen.set('a', true);
    expect(seen.has('a')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(seen.has('a')).toBe(false);
  });
});
