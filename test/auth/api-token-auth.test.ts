import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { createTokenSecret, digestToken } from '../../src/tokens/token-format.js';
import { errorCode, startTestApp, type GqlResponse, type TestApp } from '../support/test-app.js';
import { generate as generateFor } from '../support/tokens.js';

const DAY = 86_400_000;
const GENERATE = 'mutation { generateApiToken { secret token { id expiresAt } } }';
const REGENERATE = 'mutation { regenerateApiToken { secret token { id } } }';
const MY_TOKEN_FIELDS = 'myApiToken { id lastUsedAt lastUsedRegion }';
const MY_TOKEN = `{ ${MY_TOKEN_FIELDS} }`;
const REVOKE = 'mutation($id: ID) { revokeApiToken(id: $id) { tokenId revokedAt } }';
// The sweeper must not delete expired tokens behind these tests' backs: the rule under test is "rejected at use".
const NO_SWEEPS = { SWEEP_INTERVAL: 'P7D' };

interface MyToken {
  myApiToken: { id: string; lastUsedAt: string | null; lastUsedRegion: string | null } | null;
}

async function generate(t: TestApp, email: string): Promise<{ secret: string; id: string; expiresAt: string }> {
  const { secret, token } = await generateFor(t, email);
  return { secret, id: token.id, expiresAt: token.expiresAt };
}

/** The rejection a bad bearer credential gets, whatever is wrong with it. */
function expectInvalidToken(res: GqlResponse): void {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="/);
  expect(errorCode(res)).toBe('UNAUTHENTICATED');
  expect(res.body.data).toBeUndefined();
}

describe('authenticating with an API token', () => {
  const clock = new ManualClock('2026-02-01T08:00:00.000Z');
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(NO_SWEEPS, { clock });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('acts as its user: me and myApiToken work, and the use is recorded', async () => {
    const { secret, id } = await generate(t, 'alice@example.com');
    clock.advance(90_000);
    const res = await t.gql<{ me: { email: string; role: string } } & MyToken>(`{ me { email role } ${MY_TOKEN_FIELDS} }`, {
      auth: secret,
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.me).toEqual({ email: 'alice@example.com', role: 'USER' });
    expect(res.body.data?.myApiToken).toEqual({ id, lastUsedAt: '2026-02-01T08:01:30.000Z', lastUsedRegion: 'local' });

    // The profile page (a session) sees the same.
    const seen = await t.gql<MyToken>(MY_TOKEN, { auth: await t.session('alice@example.com') });
    expect(seen.body.data?.myApiToken).toMatchObject({ lastUsedAt: '2026-02-01T08:01:30.000Z', lastUsedRegion: 'local' });

    // More than a minute later, the next use moves lastUsedAt.
    clock.advance(2 * 60_000);
    const later = await t.gql<MyToken>(MY_TOKEN, { auth: secret });
    expect(later.body.data?.myApiToken?.lastUsedAt).toBe('2026-02-01T08:03:30.000Z');
  });

  it('may not generate or regenerate tokens (FORBIDDEN), and nothing changes', async () => {
    const { secret, id } = await generate(t, 'bob@example.com');
    for (const mutation of [GENERATE, REGENERATE]) {
      const res = await t.gql(mutation, { auth: secret });
      expect(errorCode(res), mutation).toBe('FORBIDDEN');
      expect(res.body.data).toBeNull();
    }
    const still = await t.gql<MyToken>(MY_TOKEN, { auth: secret });
    expect(still.body.data?.myApiToken?.id).toBe(id);
    expect(await t.running.orm.em.fork().count(ApiToken, {})).toBe(2);
  });

  it('may revoke itself, after which it is refused', async () => {
    const { secret, id } = await generate(t, 'admin@example.com');
    const res = await t.gql<{ revokeApiToken: { tokenId: string } }>(REVOKE, { auth: secret, variables: { id } });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.revokeApiToken.tokenId).toBe(id);
    expectInvalidToken(await t.gql('{ me { email } }', { auth: secret }));
  });

  it('is rejected at use once expired, although its row still exists', async () => {
    const { secret, id, expiresAt } = await generate(t, 'support@example.com');
    clock.set(new Date(new Date(expiresAt).getTime() - 1));
    const before = await t.gql<{ me: { email: string } }>('{ me { email } }', { auth: secret });
    expect(before.body.data?.me.email).toBe('support@example.com');

    clock.set(expiresAt);
    expectInvalidToken(await t.gql('{ me { email } }', { auth: secret }));
    clock.advance(DAY);
    expectInvalidToken(await t.gql('{ me { email } }', { auth: secret }));
    expect(await t.running.orm.em.fork().count(ApiToken, { id })).toBe(1);

    // For its owner it is gone: myApiToken is null and a new one can be generated.
    const session = await t.session('support@example.com');
    expect((await t.gql<MyToken>(MY_TOKEN, { auth: session })).body.data?.myApiToken).toBeNull();
    const res = await t.gql(GENERATE, { auth: session });
    expect(res.body.errors).toBeUndefined();
  });
});

describe('bad bearer credentials', () => {
  const clock = new ManualClock('2026-02-01T08:00:00.000Z');
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(NO_SWEEPS, { clock });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('unknown, revoked, expired and malformed tokens all get the identical 401', async () => {
    const carol = await t.session('carol@globex.example.com');
    const revoked = await generate(t, 'carol@globex.example.com');
    expect((await t.gql(REVOKE, { auth: carol })).body.errors).toBeUndefined();

    const expired = await generate(t, 'bob@example.com');
    clock.set(expired.expiresAt);
    const valid = await generate(t, 'alice@example.com');

    const unknown = createTokenSecret().secret;
    const badChecksum = `${valid.secret.slice(0, -1)}${valid.secret.endsWith('A') ? 'B' : 'A'}`;
    const credentials = {
      unknown,
      revoked: revoked.secret,
      expired: expired.secret,
      badChecksum,
      truncated: valid.secret.slice(0, -3),
      prefixOnly: 'own_',
      garbage: 'not-a-token',
      badJwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl',
    };
    const answers = new Map<string, string>();
    for (const [name, credential] of Object.entries(credentials)) {
      for (const query of ['{ me { email } }', 'mutation { revokeApiToken { tokenId } }']) {
        const res = await t.gql(query, { auth: credential });
        expectInvalidToken(res);
        answers.set(`${name} ${query}`, JSON.stringify(res.body));
      }
    }
    expect(new Set(answers.values()).size).toBe(1);
    // A valid token still works, and nothing was revoked by the attempts above.
    const ok = await t.gql<{ me: { email: string } }>('{ me { email } }', { auth: valid.secret });
    expect(ok.body.data?.me.email).toBe('alice@example.com');
  });

  it('a token with a wrong checksum never reaches the database', async () => {
    // Every query, through the ORM or as plain SQL, runs on this connection. The mail
    // worker and the sweeper share it and may run meanwhile: look for this token's digest.
    const fork = vi.spyOn(t.running.orm.em.getConnection(), 'execute');
    const lookupsOf = (secret: string) =>
      fork.mock.calls.filter(([, params]) => JSON.stringify(params ?? []).includes(digestToken(secret))).length;
    try {
      const wellFormed = createTokenSecret().secret;
      const badChecksum = `${wellFormed.slice(0, -1)}${wellFormed.endsWith('A') ? 'B' : 'A'}`;
      expectInvalidToken(await t.gql('{ me { email } }', { auth: badChecksum }));
      expect(lookupsOf(badChecksum)).toBe(0);
      // The spy does see lookups: an unknown but well-formed token is looked up.
      expectInvalidToken(await t.gql('{ me { email } }', { auth: wellFormed }));
      expect(lookupsOf(wellFormed)).toBe(1);
    } finally {
      fork.mockRestore();
    }
  });

  it('a malformed Authorization header gets the same 401', async () => {
    const { secret } = await generate(t, 'admin@globex.example.com');
    for (const authorization of [`Basic ${secret}`, 'Bearer', `Bearer ${secret} extra`, secret]) {
      const response = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ query: '{ me { email } }' }),
      });
      expect(response.status, authorization).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(
        'Bearer error="invalid_token", error_description="The credential is malformed."',
      );
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
    }
  });
});

describe('REGION', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ REGION: 'eu-west', REGIONS: 'us-east,eu-west' });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('is recorded as the last-used region', async () => {
    const { secret } = await generate(t, 'alice@example.com');
    const res = await t.gql<MyToken>(MY_TOKEN, { auth: secret });
    expect(res.body.data?.myApiToken?.lastUsedRegion).toBe('eu-west');
    expect(res.body.data?.myApiToken?.lastUsedAt).not.toBeNull();
  });
});
