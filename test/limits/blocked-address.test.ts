import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLOSE_CODES } from '../../src/close-codes.js';
import { createScimSecret } from '../../src/scim/scim-token-format.js';
import { digestToken } from '../../src/tokens/token-format.js';
import { startTestApp, TEST_METRICS_TOKEN, type TestApp } from '../support/test-app.js';
import { subscribe } from '../support/ws-client.js';
import { scimToken } from '../scim/scim-client.js';
import { expect429, GENERATE, meWith, unknownToken } from './rate-limit-helpers.js';

/**
 * An address over RATE_LIMIT_AUTH_FAILURES (an office NAT, a CI egress, an
 * IPv6 /64) is shared by innocent colleagues: what fails from it is refused
 * with 429, what verifies still passes, and made-up tokens from it cost no
 * database query.
 */
describe('a blocked address', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_AUTH_FAILURES: '3/PT1M' });
  });
  afterAll(async () => {
    await t.stop();
  });

  /** Queries that carry `needle` among their parameters (the mail worker and sweeper share the connection). */
  function watchQueries() {
    const spy = vi.spyOn(t.running.orm.em.getConnection(), 'execute');
    return {
      carrying: (needle: string) => spy.mock.calls.filter(([, params]) => JSON.stringify(params ?? []).includes(needle)).length,
      stop: () => spy.mockRestore(),
    };
  }

  it('still serves credentials that verify, over HTTP and graphql-ws, and refuses made-up ones without a query', async () => {
    const alice = await t.session('alice@example.com');
    const generated = await t.gql<{ generateApiToken: { secret: string } }>(GENERATE, { auth: alice });
    const apiToken = generated.body.data?.generateApiToken.secret ?? '';
    expect((await meWith(t, `Bearer ${apiToken}`)).status).toBe(200);

    for (let attempt = 0; attempt < 3; attempt++) expect((await meWith(t, `Bearer ${unknownToken()}`)).status).toBe(401);
    await expect429(await meWith(t, `Bearer ${unknownToken()}`), 60);

    // A colleague's session and API token from the same address: answered.
    const bob = await t.session('bob@example.com');
    const bobMe = await meWith(t, `Bearer ${bob}`);
    expect(bobMe.status).toBe(200);
    expect(await bobMe.json()).toEqual({ data: { me: { email: 'bob@example.com' } } });
    expect((await meWith(t, `Bearer ${apiToken}`)).status).toBe(200);
    // Even after the principal cache forgot it: the database knew that digest lately.
    t.running.principals.clear();
    expect((await meWith(t, `Bearer ${apiToken}`)).status).toBe(200);

    // A well-formed unknown token: 429, and never looked up.
    const queries = watchQueries();
    try {
      const guess = unknownToken();
      await expect429(await meWith(t, `Bearer ${guess}`), 60);
      expect(queries.carrying(digestToken(guess))).toBe(0);
    } finally {
      queries.stop();
    }

    // graphql-ws: the colleague's socket opens and works; a guess is closed with the rate-limit code.
    const good = subscribe(t.url, bob, '{ me { email } }');
    expect(await good.waitFor(1)).toEqual([{ email: 'bob@example.com' }]);
    await good.dispose();
    const bad = subscribe(t.url, unknownToken(), 'subscription { apiTokenEvents { id } }');
    expect(await bad.closed).toBe(CLOSE_CODES.TOO_MANY_FAILED_AUTHENTICATIONS);
    await bad.dispose();
  });
});

describe('every door counts failed credentials', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_AUTH_FAILURES: '3/PT1M' });
  });
  afterAll(async () => {
    await t.stop();
  });

  const scimUsers = (token: string) =>
    fetch(new URL('/scim/v2/Users', t.url), { headers: { authorization: `Bearer ${token}`, accept: 'application/scim+json' } });

  it('SCIM bearer guesses: 401 within the budget, then 429 in SCIM’s error shape; the organisation’s own token still works', async () => {
    const token = await scimToken(t, 'Acme');
    for (let attempt = 0; attempt < 3; attempt++) expect((await scimUsers(createScimSecret().secret)).status).toBe(401);
    const over = await scimUsers(createScimSecret().secret);
    const body = await expect429(over, 60);
    expect(over.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '429' });

    // A guess from the blocked address costs no query.
    const spy = vi.spyOn(t.running.orm.em.getConnection(), 'execute');
    try {
      const guess = createScimSecret();
      await expect429(await scimUsers(guess.secret), 60);
      expect(spy.mock.calls.filter(([, params]) => JSON.stringify(params ?? []).includes(guess.digest))).toHaveLength(0);
    } finally {
      spy.mockRestore();
    }
    expect((await scimUsers(token)).status).toBe(200);
    // The budget is the address's, whichever door spent it.
    await expect429(await meWith(t, `Bearer ${unknownToken()}`), 60);
  });
});

describe('METRICS_TOKEN guesses', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_AUTH_FAILURES: '3/PT1M' });
  });
  afterAll(async () => {
    await t.stop();
  });

  const get = (path: string, token: string) => fetch(new URL(path, t.url), { headers: { authorization: `Bearer ${token}` } });

  it('count against the address on /metrics and /readyz, and the right token still works', async () => {
    expect((await get('/metrics', 'wrong-metrics-token-0123456789-0123456789')).status).toBe(401);
    expect((await get('/readyz', 'wrong-metrics-token-0123456789-0123456789')).status).toBe(401);
    expect((await get('/metrics', 'wrong-metrics-token-0123456789-0123456789')).status).toBe(401);
    await expect429(await get('/readyz', 'wrong-metrics-token-0123456789-0123456789'), 60);
    await expect429(await get('/metrics', 'wrong-metrics-token-0123456789-0123456789'), 60);
    expect((await get('/metrics', TEST_METRICS_TOKEN)).status).toBe(200);
    const ready = await get('/readyz', TEST_METRICS_TOKEN);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { database: 'ok' } });
    // A load balancer's probe sends no credential and is never counted or refused.
    expect((await fetch(new URL('/readyz', t.url))).status).toBe(200);
  });
});
