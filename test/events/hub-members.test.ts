import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HubMembers } from '../../src/events/hub-members.js';
import { startOwnRedis, type OwnRedis } from '../support/own-redis.js';

const KEY = 'test:token-event-instances';

/**
 * An instance trusts its principal cache only while it is registered, because
 * publishers wait only for registered instances. Redis losing the registration
 * (a restart, a flush) must end that trust before a publisher can miss it:
 * before the fix, an instance went on trusting its cache after Redis restarted
 * empty, a revoke on another instance answered without waiting for it, and it
 * served the revoked token (seen in delivery-from-log.test.ts, 1 run in 6).
 */
describe('HubMembers: registration, as Redis sees it', () => {
  let redis: OwnRedis;
  let client: Redis;
  let members: HubMembers;
  beforeAll(async () => {
    redis = await startOwnRedis();
  });
  afterEach(async () => {
    await members.stop();
    client.disconnect();
  });
  afterAll(async () => {
    await redis.kill();
  });

  // A registration that lasts a minute without renewal: only losing it can end it within these tests.
  const start = () => {
    client = new Redis(redis.url, { maxRetriesPerRequest: 3 });
    client.on('error', () => undefined);
    members = new HubMembers(client, KEY, 'instance-b', pino({ level: 'silent' }), { ttlMs: 60_000, renewMs: 100 });
    members.start();
  };
  const registered = async () => {
    await expect.poll(() => members.registeredSince(), { timeout: 10_000 }).not.toBeNull();
    return members.registeredSince() ?? 0;
  };

  it('stops trusting its registration as soon as the connection drops, and starts a new one after Redis comes back', async () => {
    start();
    const first = await registered();
    await redis.kill();
    try {
      await expect.poll(() => members.registeredSince(), { timeout: 5_000 }).toBeNull();
    } finally {
      await redis.start();
    }
    const second = await registered();
    expect(second).toBeGreaterThan(first);
    const admin = new Redis(redis.url);
    try {
      expect(await admin.zscore(KEY, 'instance-b')).not.toBeNull();
    } finally {
      admin.disconnect();
    }
  });

  it('starts a new registration when a renewal finds it gone from the set, though the connection held', async () => {
    start();
    const first = await registered();
    // Let a few renewals continue it first: a renewal of a live registration keeps its start.
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(members.registeredSince()).toBe(first);
    const admin = new Redis(redis.url);
    try {
      await admin.del(KEY);
    } finally {
      admin.disconnect();
    }
    await expect.poll(() => members.registeredSince(), { timeout: 5_000 }).toBeGreaterThan(first);
  });
});
