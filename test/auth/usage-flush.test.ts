import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const GENERATE = 'mutation { generateApiToken { token { id } } }';

/**
 * The batched `lastUsedAt` write (src/tokens/token-usage.ts) is its own SQL
 * on each database: every token of a flush gets its own time and address,
 * a use without an address keeps the one stored, and a token deleted
 * meanwhile is skipped.
 */
describe.each(['sqlite', 'postgresql'] as const)('writing token uses in one flush (%s)', (kind) => {
  let db: TestDatabase | null = null;
  let t: TestApp;

  beforeAll(async () => {
    db = kind === 'postgresql' ? await createTestDatabase() : null;
    t = await startTestApp(db ? { DATABASE_URL: db.url } : {}, { clock: new ManualClock('2026-05-05T10:00:00.000Z'), autoSweep: false });
  });
  afterAll(async () => {
    await t?.stop();
    await db?.drop();
  });

  it('gives each token its own use, keeps an address a use did not bring, and skips a token that is gone', async () => {
    const ids: string[] = [];
    for (const email of ['alice@example.com', 'bob@example.com', 'admin@example.com']) {
      const res = await t.gql<{ generateApiToken: { token: { id: string } } }>(GENERATE, { auth: await t.session(email) });
      ids.push(res.body.data?.generateApiToken.token.id ?? '');
    }
    const [alice = '', bob = '', admin = ''] = ids;
    const { usage, orm } = t.running;
    usage.record(alice, new Date('2026-05-05T10:01:00.001Z'), '203.0.113.7');
    usage.record(bob, new Date('2026-05-05T10:02:00.002Z'), '2001:db8::1');
    await usage.flush();
    // Bob's next use has no address of its own (an introspection); admin's token is deleted before the flush.
    usage.record(alice, new Date('2026-05-05T10:03:00.003Z'), '198.51.100.9');
    usage.record(bob, new Date('2026-05-05T10:04:00.004Z'), null);
    usage.record(admin, new Date('2026-05-05T10:05:00.005Z'), '192.0.2.1');
    await orm.em.fork().nativeDelete(ApiToken, { id: admin });
    await usage.flush();

    const stored = await orm.em.fork().find(ApiToken, { id: { $in: ids } }, { orderBy: { lastUsedAt: 'asc' } });
    expect(stored.map((token) => [token.id, token.lastUsedAt?.toISOString(), token.lastUsedAddress, token.lastUsedRegion])).toEqual([
      [alice, '2026-05-05T10:03:00.003Z', '198.51.100.9', 'local'],
      [bob, '2026-05-05T10:04:00.004Z', '2001:db8::1', 'local'],
    ]);
  });
});

/**
 * Behind a trusted proxy the client address comes from `X-Forwarded-For`,
 * which the caller writes: what is not an IP address is not recorded (the
 * last known one stays), so it can neither be shown as an address nor, too
 * long for the column, fail the flush that carries other users' uses.
 */
describe.each(['sqlite', 'postgresql'] as const)('a forwarded address that is not one (%s)', (kind) => {
  let db: TestDatabase | null = null;
  let t: TestApp;

  beforeAll(async () => {
    db = kind === 'postgresql' ? await createTestDatabase() : null;
    t = await startTestApp({ TRUST_PROXY: 'loopback', ...(db ? { DATABASE_URL: db.url } : {}) }, { autoSweep: false });
  });
  afterAll(async () => {
    await t?.stop();
    await db?.drop();
  });

  it('is not recorded, and the uses flushed with it are', async () => {
    const tokens: { id: string; secret: string }[] = [];
    for (const email of ['alice@example.com', 'bob@example.com']) {
      const res = await t.gql<{ generateApiToken: { secret: string; token: { id: string } } }>(
        'mutation { generateApiToken { secret token { id } } }',
        { auth: await t.session(email) },
      );
      const made = res.body.data?.generateApiToken;
      tokens.push({ id: made?.token.id ?? '', secret: made?.secret ?? '' });
    }
    const [alice, bob] = tokens;
    if (!alice || !bob) throw new Error('no tokens');
    const me = (secret: string, forwarded: string) =>
      fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}`, 'x-forwarded-for': forwarded },
        body: JSON.stringify({ query: '{ me { email } }' }),
      });
    expect((await me(alice.secret, `"}{\\ ${'x'.repeat(60)}`)).status).toBe(200);
    expect((await me(bob.secret, '203.0.113.50')).status).toBe(200);
    await t.running.usage.flush();

    const stored = await t.running.orm.em.fork().find(ApiToken, { id: { $in: [alice.id, bob.id] } });
    const byId = new Map(stored.map((token) => [token.id, token]));
    expect(byId.get(alice.id)?.lastUsedAt).not.toBeNull();
    expect(byId.get(alice.id)?.lastUsedAddress).toBeNull();
    expect(byId.get(bob.id)?.lastUsedAt).not.toBeNull();
    expect(byId.get(bob.id)?.lastUsedAddress).toBe('203.0.113.50');
  });
});
