import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Token and session verification read with plain SQL (src/tokens/token-lookup.ts,
 * src/users/user-lookup.ts; the names come from the entity metadata),
 * and each database returns its columns differently: check the facts survive
 * on both, to the millisecond and at the exact instant of expiry.
 */
describe.each(['sqlite', 'postgresql'] as const)('token verification on %s', (kind) => {
  const clock = new ManualClock('2026-05-05T10:20:30.456Z');
  let db: TestDatabase | null = null;
  let t: TestApp;

  beforeAll(async () => {
    db = kind === 'postgresql' ? await createTestDatabase() : null;
    t = await startTestApp(db ? { DATABASE_URL: db.url } : {}, { clock, autoSweep: false });
  });
  afterAll(async () => {
    await t?.stop();
    await db?.drop();
  });

  it('reads the token, its user and units back exactly, and refuses it from expiresAt on', async () => {
    const generated = await t.gql<{ generateApiToken: { secret: string; token: { id: string; createdAt: string; expiresAt: string } } }>(
      'mutation { generateApiToken { secret token { id createdAt expiresAt } } }',
      { auth: await t.session('admin@example.com') },
    );
    const generatedToken = generated.body.data?.generateApiToken;
    if (!generatedToken) throw new Error(JSON.stringify(generated.body));
    const { secret, token } = generatedToken;
    const verified = await t.running.principals.token(secret);
    expect(verified?.token?.id).toBe(token.id);
    expect(verified?.token?.createdAt.toISOString()).toBe('2026-05-05T10:20:30.456Z');
    expect(verified?.token?.expiresAt.toISOString()).toBe(token.expiresAt);
    expect(verified?.principal).toMatchObject({ email: 'admin@example.com', role: 'ADMIN', via: 'token' });
    expect(verified?.principal.businessUnitIds).toHaveLength(2);
    expect(verified?.principal.businessUnits.map((unit) => unit.name).sort()).toEqual(['Engineering', 'Finance']);

    // The coalesced lastUsedAt write round-trips through this database's datetime type.
    await t.running.usage.flush();
    const stored = await t.running.orm.em.fork().findOneOrFail(ApiToken, { id: token.id });
    expect(stored.lastUsedAt?.toISOString()).toBe('2026-05-05T10:20:30.456Z');
    expect(stored.lastUsedRegion).toBe('local');

    clock.set(new Date(new Date(token.expiresAt).getTime() - 1));
    expect((await t.gql('{ me { email } }', { auth: secret })).status).toBe(200);
    clock.set(token.expiresAt);
    expect((await t.gql('{ me { email } }', { auth: secret })).status).toBe(401);
  });

  it('reads a session user, their role and units back exactly (the session lookup)', async () => {
    const res = await t.gql<{ me: { email: string; role: string; businessUnits: { name: string }[] } }>(
      '{ me { email role businessUnits { name } } }',
      { auth: await t.session('alice@example.com') },
    );
    expect(res.body.data?.me).toMatchObject({ email: 'alice@example.com', role: 'USER' });
    expect(res.body.data?.me.businessUnits.map((unit) => unit.name)).toEqual(['Engineering']);
  });
});
