import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { PrincipalResolver } from '../../src/credentials/principal-resolver.js';
import { SessionVerifier } from '../../src/auth/session.js';
import { ManualClock } from '../../src/clock.js';
import { ormConfig } from '../../src/db/mikro-orm.config.js';
import { createTokenSecret } from '../../src/tokens/token-format.js';
import { TokenUsage } from '../../src/tokens/token-usage.js';

const USER_ID = '00000000-0000-4000-8000-000000000001';
/** A thousand other users, such as a sweep's, invalidated around a read. */
const OTHERS = Array.from({ length: 1_000 }, (_, i) => `00000000-0000-4000-8000-${String(i + 2).padStart(12, '0')}`);

/** The entities' real metadata (the lookups take their SQL names from it), without a database. */
const metadata = new MikroORM(ormConfig(`sqlite:${join(tmpdir(), 'never-opened.sqlite')}`)).getMetadata();

/** A database whose token lookups the test answers by hand, one at a time. */
function fakeDatabase() {
  const pending: ((rows: unknown[]) => void)[] = [];
  let role = 'USER';
  const orm = {
    getMetadata: () => metadata,
    em: { getConnection: () => ({ execute: () => new Promise<unknown[]>((resolve) => pending.push(resolve)) }) },
  } as unknown as MikroORM;
  const row = () => ({
    id: 'token-1',
    created_at: '2026-01-01T00:00:00.000Z',
    expires_at: '2026-01-02T00:00:00.000Z',
    last_used_at: null,
    last_used_region: null,
    user_id: USER_ID,
    email: 'alice@example.com',
    name: 'Alice',
    role,
    organization_id: 'org-1',
    active: 1,
    api_tokens_enabled: 1,
    business_unit_id: null,
    business_unit_name: null,
  });
  return {
    orm,
    reads: () => pending.length,
    setRole: (next: string) => (role = next),
    /** Answers the oldest unanswered read with the row as it is now. */
    answer: async () => {
      pending.shift()?.([row()]);
      await new Promise((resolve) => setImmediate(resolve));
    },
    /** Answers the oldest unanswered read with no row: the token is gone. */
    answerNothing: async () => {
      pending.shift()?.([]);
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

function resolverOver(db: ReturnType<typeof fakeDatabase>, clock: ManualClock, healthy = () => true, ttlMs?: number) {
  const logger = pino({ level: 'silent' });
  const usage = new TokenUsage({ orm: db.orm, region: 'local', databaseKind: 'sqlite', logger });
  const secret = 'x'.repeat(32);
  const sessions = new SessionVerifier(new TextEncoder().encode(secret), {
    secret,
    jwksUrl: null,
    issuer: null,
    audience: null,
    maxAge: { iso: 'PT12H', ms: 12 * 3_600_000 },
  });
  return new PrincipalResolver({ orm: db.orm, sessions, usage, clock, cacheable: healthy, ...(ttlMs ? { ttlMs } : {}) });
}

describe('PrincipalResolver cache', () => {
  it('answers from the cache until the user is invalidated, then reads again', async () => {
    const db = fakeDatabase();
    const resolver = resolverOver(db, new ManualClock('2026-01-01T12:00:00.000Z'));
    const { secret } = createTokenSecret();
    const first = resolver.token(secret);
    await db.answer();
    expect((await first)?.principal.role).toBe('USER');
    expect((await resolver.token(secret))?.principal.role).toBe('USER');
    expect(db.reads()).toBe(0);

    db.setRole('ADMIN');
    resolver.invalidateUser(USER_ID);
    const again = resolver.token(secret);
    await db.answer();
    expect((await again)?.principal.role).toBe('ADMIN');
  });

  it.each([
    ['alone', [], []],
    ['among 1,000 invalidations of other users', OTHERS.slice(0, 500), OTHERS.slice(500)],
  ])('does not cache a read that an invalidation of its user overtook (%s)', async (_, before, after) => {
    const db = fakeDatabase();
    const resolver = resolverOver(db, new ManualClock('2026-01-01T12:00:00.000Z'));
    const { secret } = createTokenSecret();
    const stale = resolver.token(secret);
    for (const other of before) resolver.invalidateUser(other);
    resolver.invalidateUser(USER_ID); // the change committed while the read was in flight
    for (const other of after) resolver.invalidateUser(other);
    await db.answer();
    await stale;
    const next = resolver.token(secret);
    expect(db.reads()).toBe(1); // not served from the cache
    db.setRole('ADMIN');
    await db.answer();
    expect((await next)?.principal.role).toBe('ADMIN');
  });

  it('checks expiry against the clock on every hit', async () => {
    const db = fakeDatabase();
    const clock = new ManualClock('2026-01-01T12:00:00.000Z');
    const resolver = resolverOver(db, clock);
    const { secret } = createTokenSecret();
    const first = resolver.token(secret);
    await db.answer();
    expect(await first).not.toBeNull();
    clock.set('2026-01-02T00:00:00.000Z');
    expect(await resolver.token(secret)).toBeNull();
    expect(db.reads()).toBe(0);
  });

  it('reads the database every time while invalidations cannot arrive', async () => {
    const db = fakeDatabase();
    const resolver = resolverOver(db, new ManualClock('2026-01-01T12:00:00.000Z'), () => false);
    const { secret } = createTokenSecret();
    for (const role of ['USER', 'ADMIN']) {
      db.setRole(role);
      const resolved = resolver.token(secret);
      expect(db.reads()).toBe(1);
      await db.answer();
      expect((await resolved)?.principal.role).toBe(role);
    }
  });
});

describe('PrincipalResolver cache under many invalidations', () => {
  it("caches a read during which only other users were invalidated (a sweep expiring others' tokens)", async () => {
    const db = fakeDatabase();
    const resolver = resolverOver(db, new ManualClock('2026-01-01T12:00:00.000Z'));
    const { secret } = createTokenSecret();
    const first = resolver.token(secret);
    for (const other of OTHERS) resolver.invalidateUser(other);
    await db.answer();
    expect((await first)?.principal.role).toBe('USER');
    const second = resolver.token(secret);
    expect(db.reads()).toBe(0); // served from the cache
    expect((await second)?.principal.role).toBe('USER');
  });

  it('does not cache a read that began before more invalidations than it can remember, or before a clear', async () => {
    for (const during of [
      (resolver: PrincipalResolver) => {
        resolver.invalidateUser(USER_ID);
        for (let i = 0; i < 10_001; i++) resolver.invalidateUser(`other-${i}`);
      },
      (resolver: PrincipalResolver) => resolver.clear(),
    ]) {
      const db = fakeDatabase();
      const resolver = resolverOver(db, new ManualClock('2026-01-01T12:00:00.000Z'));
      const { secret } = createTokenSecret();
      const stale = resolver.token(secret);
      during(resolver);
      await db.answer();
      await stale;
      void resolver.token(secret);
      expect(db.reads()).toBe(1); // read again, not served from the cache
      await db.answer();
    }
  });
});

describe('PrincipalResolver cache refreshed ahead', () => {
  /** A resolver whose entries live `ttlMs`, with one token read and cached. */
  async function cachedWithTtl(ttlMs: number) {
    const db = fakeDatabase();
    const resolver = resolverOver(db, new ManualClock('2026-01-01T12:00:00.000Z'), () => true, ttlMs);
    const { secret } = createTokenSecret();
    const first = resolver.token(secret);
    await db.answer();
    expect(await first).not.toBeNull();
    return { db, resolver, secret };
  }
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('reads a token in use again in the last third of its entry, answering from the cache meanwhile, so it never runs out', async () => {
    const { db, resolver, secret } = await cachedWithTtl(3_000);
    await sleep(2_300); // into the last third (2,000-3,000 ms)
    db.setRole('ADMIN');
    const hit = resolver.token(secret);
    expect(db.reads()).toBe(1); // one read in the background
    expect((await hit)?.principal.role).toBe('USER'); // answered from the entry, not the read
    void resolver.token(secret);
    expect(db.reads()).toBe(1); // not a second read while the first is out
    await db.answer();

    await sleep(1_200); // past the first entry's end; the renewed one has 1.8 s to go
    const renewed = resolver.token(secret);
    expect(db.reads()).toBe(0);
    expect((await renewed)?.principal.role).toBe('ADMIN');
  });

  it('drops the entry when the read ahead finds the token gone', async () => {
    const { db, resolver, secret } = await cachedWithTtl(3_000);
    await sleep(2_300);
    void resolver.token(secret);
    expect(db.reads()).toBe(1);
    await db.answerNothing();
    const after = resolver.token(secret);
    expect(db.reads()).toBe(1); // not in the cache any more: read again
    await db.answerNothing();
    expect(await after).toBeNull();
  });
});
