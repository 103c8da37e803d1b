import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { errorCode, startTestApp, type TestApp } from '../support/test-app.js';

const DAY = 86_400_000;
const TOKEN_FIELDS = 'id hint createdAt expiresAt lastUsedAt lastUsedRegion';
const GENERATE = `mutation { generateApiToken { secret token { ${TOKEN_FIELDS} } } }`;
const REGENERATE = `mutation { regenerateApiToken { secret token { ${TOKEN_FIELDS} } } }`;
const MY_TOKEN = `{ myApiToken { ${TOKEN_FIELDS} } }`;
const REVOKE = 'mutation($id: ID) { revokeApiToken(id: $id) { tokenId revokedAt } }';

interface TokenView {
  id: string;
  hint: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  lastUsedRegion: string | null;
}
interface Generated {
  secret: string;
  token: TokenView;
}

async function tokenRows(t: TestApp): Promise<number> {
  return t.running.orm.em.fork().count(ApiToken, {});
}

describe('API token lifecycle over GraphQL (session)', () => {
  const clock = new ManualClock('2026-03-01T09:30:00.123Z');
  let t: TestApp;
  let alice: string;

  beforeAll(async () => {
    // One user walks through every step of a token's life here, more than RATE_LIMIT_TOKEN_CHANGES
    // allows in an hour; the limit has its own tests in test/limits/rate-limits.test.ts.
    t = await startTestApp({ RATE_LIMIT_TOKEN_CHANGES: '1000/PT1H' }, { clock });
    alice = await t.session('alice@example.com');
  });
  afterAll(async () => {
    await t.stop();
  });

  async function generate(auth: string): Promise<Generated> {
    const res = await t.gql<{ generateApiToken: Generated }>(GENERATE, { auth });
    expect(res.body.errors).toBeUndefined();
    const generated = res.body.data?.generateApiToken;
    if (!generated) throw new Error('no token generated');
    return generated;
  }

  async function revokeAll(auth: string): Promise<void> {
    const res = await t.gql(REVOKE, { auth });
    if (res.body.errors) expect(errorCode(res)).toBe('API_TOKEN_NOT_FOUND');
  }

  it('myApiToken is null before any token exists', async () => {
    const res = await t.gql<{ myApiToken: TokenView | null }>(MY_TOKEN, { auth: alice });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { myApiToken: null } });
  });

  it('generateApiToken returns the secret once, expiring exactly TOKEN_LIFETIME after creation', async () => {
    const { secret, token } = await generate(alice);
    expect(secret).toMatch(/^own_[0-9A-Za-z]{40,}$/);
    expect(token.hint).toBe(`own_…${secret.slice(-4)}`);
    expect(token.createdAt).toBe('2026-03-01T09:30:00.123Z');
    expect(new Date(token.expiresAt).getTime() - new Date(token.createdAt).getTime()).toBe(180 * DAY);
    expect(token.expiresAt).toBe('2026-08-28T09:30:00.123Z');
    expect(token).toMatchObject({ lastUsedAt: null, lastUsedRegion: null });

    const mine = await t.gql<{ myApiToken: TokenView | null }>(MY_TOKEN, { auth: alice });
    expect(mine.body.data?.myApiToken).toEqual(token);
    expect(JSON.stringify(mine.body)).not.toContain(secret);
    await revokeAll(alice);
  });

  it('a second generateApiToken fails with API_TOKEN_EXISTS and says to revoke or regenerate', async () => {
    const first = await generate(alice);
    const second = await t.gql(GENERATE, { auth: alice });
    expect(errorCode(second)).toBe('API_TOKEN_EXISTS');
    expect(second.body.data).toBeNull();
    expect(second.body.errors?.[0]?.message).toMatch(/revoke/i);
    expect(second.body.errors?.[0]?.message).toMatch(/regenerate/i);
    const mine = await t.gql<{ myApiToken: TokenView | null }>(MY_TOKEN, { auth: alice });
    expect(mine.body.data?.myApiToken?.id).toBe(first.token.id);
    await revokeAll(alice);
  });

  it('regenerateApiToken replaces the token: the old secret is refused at once, the new one works, one row', async () => {
    const old = await generate(alice);
    clock.advance(5_000);
    const res = await t.gql<{ regenerateApiToken: Generated }>(REGENERATE, { auth: alice });
    expect(res.body.errors).toBeUndefined();
    const fresh = res.body.data?.regenerateApiToken;
    if (!fresh) throw new Error('no token regenerated');
    expect(fresh.secret).not.toBe(old.secret);
    expect(fresh.token.id).not.toBe(old.token.id);
    expect(new Date(fresh.token.createdAt).getTime()).toBe(new Date(old.token.createdAt).getTime() + 5_000);
    expect(new Date(fresh.token.expiresAt).getTime() - new Date(fresh.token.createdAt).getTime()).toBe(180 * DAY);

    const withOld = await t.gql('{ me { email } }', { auth: old.secret });
    expect(withOld.status).toBe(401);
    expect(errorCode(withOld)).toBe('UNAUTHENTICATED');
    const withNew = await t.gql<{ me: { email: string } }>('{ me { email } }', { auth: fresh.secret });
    expect(withNew.body.data?.me.email).toBe('alice@example.com');
    expect(await tokenRows(t)).toBe(1);
    await revokeAll(alice);
  });

  it('regenerateApiToken without a token fails with API_TOKEN_NOT_FOUND', async () => {
    const res = await t.gql(REGENERATE, { auth: alice });
    expect(errorCode(res)).toBe('API_TOKEN_NOT_FOUND');
    expect(await tokenRows(t)).toBe(0);
  });

  it('revokeApiToken without id deletes the token irreversibly', async () => {
    const { secret, token } = await generate(alice);
    const res = await t.gql<{ revokeApiToken: { tokenId: string; revokedAt: string } }>(REVOKE, { auth: alice });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.revokeApiToken).toEqual({ tokenId: token.id, revokedAt: clock.now().toISOString() });
    expect(await tokenRows(t)).toBe(0);
    expect((await t.gql(MY_TOKEN, { auth: alice })).body.data).toEqual({ myApiToken: null });
    expect((await t.gql('{ me { email } }', { auth: secret })).status).toBe(401);
  });

  it('revokeApiToken with the current id deletes it; with another id revokes nothing', async () => {
    const { token } = await generate(alice);
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', '']) {
      const wrong = await t.gql(REVOKE, { auth: alice, variables: { id } });
      expect(errorCode(wrong), id).toBe('API_TOKEN_NOT_FOUND');
      expect(await tokenRows(t)).toBe(1);
    }
    const mine = await t.gql<{ myApiToken: TokenView | null }>(MY_TOKEN, { auth: alice });
    expect(mine.body.data?.myApiToken?.id).toBe(token.id);

    const right = await t.gql<{ revokeApiToken: { tokenId: string } }>(REVOKE, { auth: alice, variables: { id: token.id } });
    expect(right.body.data?.revokeApiToken.tokenId).toBe(token.id);
    expect(await tokenRows(t)).toBe(0);
  });

  it('revokeApiToken when there is no token fails with API_TOKEN_NOT_FOUND', async () => {
    const res = await t.gql(REVOKE, { auth: alice });
    expect(errorCode(res)).toBe('API_TOKEN_NOT_FOUND');
    expect(res.body.data).toBeNull();
  });

  it("one user's token is not another's", async () => {
    const bob = await t.session('bob@example.com');
    const { token } = await generate(alice);
    expect((await t.gql(MY_TOKEN, { auth: bob })).body.data).toEqual({ myApiToken: null });
    const res = await t.gql(REVOKE, { auth: bob, variables: { id: token.id } });
    expect(errorCode(res)).toBe('API_TOKEN_NOT_FOUND');
    expect(await tokenRows(t)).toBe(1);
    await revokeAll(alice);
  });

  it('me and apiTokenPolicy answer', async () => {
    const res = await t.gql<{
      me: { id: string; email: string; name: string; role: string; businessUnits: { id: string; name: string }[] };
      apiTokenPolicy: { lifetimeDays: number; warningDays: number[] };
    }>('{ me { id email name role businessUnits { id name } } apiTokenPolicy { lifetimeDays warningDays } }', {
      auth: alice,
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.me).toMatchObject({
      email: 'alice@example.com',
      name: 'Alice Example',
      role: 'USER',
      businessUnits: [{ name: 'Engineering' }],
    });
    expect(res.body.data?.me.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.data?.apiTokenPolicy).toEqual({ lifetimeDays: 180, warningDays: [30, 7, 1] });

    const admin = await t.gql<{ me: { role: string; businessUnits: { name: string }[] } }>('{ me { role businessUnits { name } } }', {
      auth: await t.session('admin@example.com'),
    });
    expect(admin.body.data?.me.role).toBe('ADMIN');
    expect(admin.body.data?.me.businessUnits.map((u) => u.name).sort()).toEqual(['Engineering', 'Finance']);
  });

  it('ApiToken has no field that holds or derives the secret', async () => {
    interface TypeRef {
      kind: string;
      name: string | null;
      ofType: TypeRef | null;
    }
    const res = await t.gql<{ __type: { fields: { name: string; type: TypeRef }[] } }>(
      '{ __type(name: "ApiToken") { fields { name type { kind name ofType { kind name ofType { kind name } } } } } }',
    );
    const fields = res.body.data?.__type.fields ?? [];
    const names = fields.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['id', 'hint', 'createdAt', 'expiresAt', 'lastUsedAt', 'lastUsedRegion']));
    for (const name of names) expect(name).not.toMatch(/secret|digest|hash|plain|key|value/i);

    // Whatever scalar fields exist now or later, none of them returns the secret.
    const named = (type: TypeRef): TypeRef => (type.ofType ? named(type.ofType) : type);
    const scalars = fields.filter((f) => ['SCALAR', 'ENUM'].includes(named(f.type).kind));
    expect(scalars.length).toBeGreaterThanOrEqual(6);
    const { secret } = await generate(alice);
    const all = await t.gql(`{ myApiToken { ${scalars.map((f) => f.name).join(' ')} } }`, { auth: alice });
    expect(all.body.errors).toBeUndefined();
    expect(JSON.stringify(all.body)).not.toContain(secret);
    expect(JSON.stringify(all.body)).not.toContain(secret.slice(4, 20));
    await revokeAll(alice);
  });
});

describe('TOKEN_LIFETIME', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ TOKEN_LIFETIME: 'P7DT12H' }, { clock: new ManualClock('2026-05-01T00:00:00.000Z') });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('sets expiresAt and the policy', async () => {
    const auth = await t.session('bob@example.com');
    const res = await t.gql<{ generateApiToken: Generated }>(GENERATE, { auth });
    expect(res.body.data?.generateApiToken.token).toMatchObject({
      createdAt: '2026-05-01T00:00:00.000Z',
      expiresAt: '2026-05-08T12:00:00.000Z',
    });
    const policy = await t.gql<{ apiTokenPolicy: { lifetime: string; lifetimeDays: number } }>(
      '{ apiTokenPolicy { lifetime lifetimeDays } }',
      { auth },
    );
    // lifetimeDays is an Int of whole days; the exact lifetime is the ISO duration.
    expect(policy.body.data?.apiTokenPolicy).toEqual({ lifetime: 'P7DT12H', lifetimeDays: 7 });
  });
});
