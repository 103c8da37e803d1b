import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeasedBudget, type Verdict } from '../../src/http/rate-limits.js';
import { startOwnRedis, type OwnRedis } from '../support/own-redis.js';
import { uniquePrefix } from './rate-limit-helpers.js';

/**
 * Budgets shared through a Redis of this file's own, so its command counts
 * are this file's alone. Each `LeasedBudget` stands for one instance.
 */
describe('a budget shared through Redis, bought in leases', () => {
  let own: OwnRedis;
  let redis: Redis;

  beforeAll(async () => {
    own = await startOwnRedis();
    redis = new Redis(own.url);
    // Until the client is ready, the budgets count in memory, each on its own (tested with the app).
    await redis.ping();
  });
  afterAll(async () => {
    redis?.disconnect();
    await own?.kill();
  });

  /** An instance's budget of `points` per `seconds`, counted under `prefix`. */
  function instance(prefix: string, points: number, seconds = 60): LeasedBudget {
    const shape = { points, duration: seconds };
    const limiter = new RateLimiterRedis({
      ...shape,
      storeClient: redis,
      keyPrefix: prefix,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory(shape),
    });
    return new LeasedBudget(limiter, points);
  }

  /** Scripts Redis has run so far: each is one round trip of a budget. */
  async function roundTrips(): Promise<number> {
    const stats = await redis.info('commandstats');
    return [...stats.matchAll(/^cmdstat_(?:eval|evalsha):calls=(\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
  }

  it('lets two instances admit exactly the budget between them, however their calls interleave', async () => {
    const prefix = uniquePrefix();
    // Leases of 10 points: the last one can only be granted in part.
    const [a, b] = [instance(prefix, 1005), instance(prefix, 1005)];
    const verdicts: Verdict[] = [];
    // Uneven bursts, both instances at once, until a whole round is refused.
    for (let round = 0; round < 100; round++) {
      const burst = await Promise.all([
        ...Array.from({ length: 37 }, () => a.take('client')),
        ...Array.from({ length: 23 }, () => b.take('client')),
      ]);
      verdicts.push(...burst);
      if (burst.every((verdict) => !verdict.allowed)) break;
    }
    expect(verdicts.filter((verdict) => verdict.allowed)).toHaveLength(1005);
    for (const verdict of verdicts) {
      if (!verdict.allowed) expect(verdict.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      if (!verdict.allowed) expect(verdict.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
    // Another key has a budget of its own.
    expect(await a.take('other client')).toEqual({ allowed: true });
  });

  it('answers most uses from the lease, with one round trip per 1% of the budget', async () => {
    const budget = instance(uniquePrefix(), 6000);
    const before = await roundTrips();
    let synchronous = 0;
    for (let use = 0; use < 600; use++) {
      const verdict = budget.take('client');
      if (!(verdict instanceof Promise)) synchronous++;
      expect(await verdict).toEqual({ allowed: true });
    }
    // Leases of 60 points: 10 round trips for 600 uses, and the others answered at once.
    expect((await roundTrips()) - before).toBe(10);
    expect(synchronous).toBe(590);
  });

  it('remembers a spent budget until its window ends: no round trip for a refused caller, then a new window', async () => {
    const budget = instance(uniquePrefix(), 200, 1);
    const allowed = async () => {
      let count = 0;
      for (let use = 0; use < 250; use++) if ((await budget.take('client')).allowed) count++;
      return count;
    };
    expect(await allowed()).toBe(200);
    const before = await roundTrips();
    for (let use = 0; use < 100; use++) {
      const verdict = budget.take('client');
      expect(verdict).toEqual({ allowed: false, retryAfterSeconds: 1 });
    }
    expect(await roundTrips()).toBe(before);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await allowed()).toBe(200);
  });

  it('counts a small budget in Redis at every use, so it is exact at every moment', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [instance(prefix, 3), instance(prefix, 3)];
    const before = await roundTrips();
    const verdicts = [await a.take('user'), await b.take('user'), await a.take('user'), await b.take('user')];
    expect(verdicts.map((verdict) => verdict.allowed)).toEqual([true, true, true, false]);
    expect((await roundTrips()) - before).toBe(4);
  });
});
