import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '../../src/close-codes.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { subscribe } from '../support/ws-client.js';
import { expectScimError, scimClient, scimToken } from '../scim/scim-client.js';
import { oauthPost } from '../admin/admin-helpers.js';
import {
  deadPort,
  expect429,
  expectRateLimited,
  GENERATE,
  meWith,
  REDIS_URL,
  REGENERATE,
  uniquePrefix,
  unknownToken,
} from './rate-limit-helpers.js';

const INTROSPECTOR = { id: 'shared-budget', secret: 'shared-budget-secret-0123456789' };

/** Two instances on one PostgreSQL database and one Redis: one budget, whichever instance is asked. */
describe('rate limits shared through Redis', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    const shared = {
      DATABASE_URL: db.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: uniquePrefix(),
      RATE_LIMIT_TOKEN_CHANGES: '3/PT1H',
      RATE_LIMIT_AUTH_FAILURES: '3/PT1M',
      SCIM_RATE_LIMIT: '3',
      // Large enough that each instance buys its budget in leases of two, and odd, so the last lease is half granted.
      RATE_LIMIT_INTROSPECTION: '205/PT1M',
      INTROSPECTION_CLIENTS: `${INTROSPECTOR.id}:${INTROSPECTOR.secret}`,
    };
    a = await startTestApp(shared);
    b = await startTestApp(shared);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await db?.drop();
  });

  it("spend one user's token changes across both instances", async () => {
    const carol = await a.session('carol@globex.example.com');
    expect((await a.gql(GENERATE, { auth: carol })).body.errors).toBeUndefined();
    expect((await b.gql(REGENERATE, { auth: carol })).body.errors).toBeUndefined();
    expect((await a.gql(REGENERATE, { auth: carol })).body.errors).toBeUndefined();
    // Each instance alone has seen at most two: only a shared budget refuses this one.
    expectRateLimited(await b.gql(REGENERATE, { auth: carol }));
    expectRateLimited(await a.gql(REGENERATE, { auth: carol }));
  });

  it("spend one organisation's SCIM requests across both instances", async () => {
    const token = await scimToken(a, 'Acme');
    for (const app of [a, b, a]) expect((await scimClient(app, token)('GET', '/ServiceProviderConfig')).status).toBe(200);
    // Each instance alone has seen at most two: only a shared budget refuses this one.
    expectScimError(await scimClient(b, token)('GET', '/Users'), 429);
  });

  it("spend one client's introspections across both instances, to the request", async () => {
    const authorization = `Basic ${Buffer.from(`${INTROSPECTOR.id}:${INTROSPECTOR.secret}`).toString('base64')}`;
    const introspect = (app: TestApp) => oauthPost(app, '/oauth/introspect', { token: unknownToken() }, { authorization });
    const statuses: number[] = [];
    let refusedInARow = 0;
    // Alternating, until both instances have refused: neither admits more than the shared budget leaves.
    for (let call = 0; call < 300 && refusedInARow < 2; call++) {
      const response = await introspect(call % 2 === 0 ? a : b);
      statuses.push(response.status);
      refusedInARow = response.status === 429 ? refusedInARow + 1 : 0;
      if (response.status === 200) expect(response.json).toEqual({ active: false });
      else expect(response.json).toMatchObject({ error: 'too_many_requests' });
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(205);
    await expect429(
      await fetch(new URL('/oauth/introspect', a.url), {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: `token=${unknownToken()}`,
      }),
      60,
    );
  });

  it('count failed authentications from one address across both instances', async () => {
    for (const app of [a, a, b]) expect((await meWith(app, `Bearer ${unknownToken()}`)).status).toBe(401);
    // B has seen one failure itself; the budget of three is spent, so this one is refused.
    await expect429(await meWith(b, `Bearer ${unknownToken()}`), 60);
    await expect429(await meWith(b, `Bearer ${unknownToken()}`), 60);
    // A credential that verifies still passes from the blocked address.
    expect((await meWith(b, `Bearer ${await b.session('bob@example.com')}`)).status).toBe(200);
    const socket = subscribe(a.url, unknownToken(), 'subscription { apiTokenEvents { id } }');
    expect(await socket.closed).toBe(CLOSE_CODES.TOO_MANY_FAILED_AUTHENTICATIONS);
    await socket.dispose();
  });
});

describe('rate limits when Redis is down', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      REDIS_URL: `redis://127.0.0.1:${await deadPort()}`,
      REDIS_KEY_PREFIX: uniquePrefix(),
      RATE_LIMIT_TOKEN_CHANGES: '2/PT1H',
    });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('fall back to counting in memory: neither unlimited nor an internal error', async () => {
    const alice = await t.session('alice@example.com');
    expect((await t.gql(GENERATE, { auth: alice })).body.errors).toBeUndefined();
    expect((await t.gql(REGENERATE, { auth: alice })).body.errors).toBeUndefined();
    expectRateLimited(await t.gql(REGENERATE, { auth: alice }));
  });

  it('make /readyz answer 503 with nothing but the status', async () => {
    const response = await fetch(new URL('/readyz', t.url));
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'unavailable' });
  });
});
