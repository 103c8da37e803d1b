import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '../../src/close-codes.js';
import { basic, INTROSPECTION_CLIENT, oauthPost } from '../admin/admin-helpers.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { subscribe } from '../support/ws-client.js';
import { expect429, expectRateLimited, GENERATE, mailCount, meWith, REGENERATE, unknownToken } from './rate-limit-helpers.js';

/** Single instance, no Redis: every budget lives in memory. */
describe('rate limits (in memory, one instance)', () => {
  describe('token changes per user', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ RATE_LIMIT_TOKEN_CHANGES: '3/PT1H' });
    });
    afterAll(async () => {
      await t.stop();
    });

    it('stop after the budget, over HTTP and graphql-ws alike, and the emails stop with them', async () => {
      const alice = await t.session('alice@example.com');
      expect((await t.gql(GENERATE, { auth: alice })).body.errors).toBeUndefined();
      expect((await t.gql(REGENERATE, { auth: alice })).body.errors).toBeUndefined();
      expect((await t.gql(REGENERATE, { auth: alice })).body.errors).toBeUndefined();
      const mailsWhenTripped = await mailCount(t, 'alice@example.com');
      expect(mailsWhenTripped).toBe(5); // created, then revoked + created twice

      for (let attempt = 0; attempt < 5; attempt++) {
        const res = await t.gql(REGENERATE, { auth: alice });
        const retryAfter = expectRateLimited(res);
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(3600);
        expect(res.body.data ?? null).toBeNull();
      }

      // The same budget over graphql-ws: the check is on the resolver path, not the transport.
      const overSocket = subscribe(t.url, alice, REGENERATE);
      await overSocket.waitFor(1);
      await overSocket.dispose();
      expect(overSocket.items).toEqual([]);
      const socketError = overSocket.errors[0] as { extensions?: { code?: string; retryAfterSeconds?: number } } | undefined;
      expect(socketError?.extensions?.code).toBe('RATE_LIMITED');
      expect(socketError?.extensions?.retryAfterSeconds).toBeGreaterThan(0);

      expect(await mailCount(t, 'alice@example.com')).toBe(mailsWhenTripped);
      // Alice's token is still the one she last generated: nothing was revoked by a refused call.
      expect(
        (await t.gql<{ myApiToken: { id: string } | null }>('{ myApiToken { id } }', { auth: alice })).body.data?.myApiToken,
      ).not.toBeNull();
    });

    it('never refuse a revoke: the safety action works with the budget spent, and mints stay refused', async () => {
      const carol = await t.session('carol@globex.example.com');
      expect((await t.gql(GENERATE, { auth: carol })).body.errors).toBeUndefined();
      expect((await t.gql(REGENERATE, { auth: carol })).body.errors).toBeUndefined();
      expect((await t.gql(REGENERATE, { auth: carol })).body.errors).toBeUndefined();
      expectRateLimited(await t.gql(REGENERATE, { auth: carol }));

      const revoke = await t.gql<{ revokeApiToken: { tokenId: string } }>('mutation { revokeApiToken { tokenId } }', { auth: carol });
      expect(revoke.body.errors).toBeUndefined();
      expect(revoke.body.data?.revokeApiToken.tokenId).toBeTruthy();
      expect(
        (await t.gql<{ myApiToken: { id: string } | null }>('{ myApiToken { id } }', { auth: carol })).body.data?.myApiToken,
      ).toBeNull();
      // Nothing left to revoke: a plain NOT_FOUND, not a rate limit; and minting is still refused.
      const again = await t.gql('mutation { revokeApiToken { tokenId } }', { auth: carol });
      expect(again.body.errors?.[0]?.extensions?.code).toBe('API_TOKEN_NOT_FOUND');
      expectRateLimited(await t.gql(GENERATE, { auth: carol }));
    });

    it('are counted per user: another user is not affected', async () => {
      const bob = await t.session('bob@example.com');
      const res = await t.gql(GENERATE, { auth: bob });
      expect(res.body.errors).toBeUndefined();
    });
  });

  describe('failed authentications per client IP', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ RATE_LIMIT_AUTH_FAILURES: '3/PT1M' });
    });
    afterAll(async () => {
      await t.stop();
    });

    it('HTTP: 401 within the budget, then 429 with Retry-After for credentials that fail; graphql-ws is closed with TOO_MANY_FAILED_AUTHENTICATIONS', async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        const res = await meWith(t, `Bearer ${unknownToken()}`);
        expect(res.status).toBe(401);
      }
      const over = await meWith(t, `Bearer ${unknownToken()}`);
      const body = await expect429(over, 60);
      expect(over.headers.get('www-authenticate')).toBeNull();
      expect(body).toMatchObject({ errors: [{ extensions: { code: 'RATE_LIMITED' } }] });

      // A bad credential over graphql-ws from the same address: closed with the service's own code.
      const socket = subscribe(t.url, unknownToken(), 'subscription { apiTokenEvents { id } }');
      expect(await socket.closed).toBe(CLOSE_CODES.TOO_MANY_FAILED_AUTHENTICATIONS);
      await socket.dispose();

      // Anonymous requests carry no credential to guess with and are not blocked.
      const anonymous = await t.gql('{ __typename }');
      expect(anonymous.status).toBe(200);
    });
  });

  describe('failed connection_init credentials per client IP', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ RATE_LIMIT_AUTH_FAILURES: '2/PT1M' });
    });
    afterAll(async () => {
      await t.stop();
    });

    it('close with 4403 within the budget, then TOO_MANY_FAILED_AUTHENTICATIONS; HTTP from that address then gets 429', async () => {
      const codes: number[] = [];
      for (let attempt = 0; attempt < 3; attempt++) {
        const socket = subscribe(t.url, unknownToken(), 'subscription { apiTokenEvents { id } }');
        codes.push(await socket.closed);
        await socket.dispose();
      }
      expect(codes).toEqual([4403, 4403, CLOSE_CODES.TOO_MANY_FAILED_AUTHENTICATIONS]);
      await expect429(await meWith(t, `Bearer ${unknownToken()}`), 60);
    });
  });

  describe('client addresses behind a proxy', () => {
    let trusting: TestApp;
    let direct: TestApp;
    beforeAll(async () => {
      trusting = await startTestApp({ RATE_LIMIT_AUTH_FAILURES: '1/PT1M', TRUST_PROXY: 'loopback' });
      direct = await startTestApp({ RATE_LIMIT_AUTH_FAILURES: '1/PT1M' });
    });
    afterAll(async () => {
      await trusting.stop();
      await direct.stop();
    });

    const from = (t: TestApp, address: string) =>
      fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${unknownToken()}`, 'x-forwarded-for': address },
        body: JSON.stringify({ query: '{ me { email } }' }),
      });

    it('are read from X-Forwarded-For only when TRUST_PROXY trusts the proxy', async () => {
      expect((await from(trusting, '203.0.113.1')).status).toBe(401);
      expect((await from(trusting, '203.0.113.1')).status).toBe(429);
      // Another client behind the same proxy keeps its own budget.
      expect((await from(trusting, '203.0.113.2')).status).toBe(401);

      // An IPv6 client holds a /64: another address in it shares the budget.
      expect((await from(trusting, '2001:db8:1:2::1')).status).toBe(401);
      expect((await from(trusting, '2001:db8:1:2::2')).status).toBe(429);

      // Not trusted: a client cannot dodge its budget by inventing addresses.
      expect((await from(direct, '203.0.113.1')).status).toBe(401);
      expect((await from(direct, '203.0.113.2')).status).toBe(429);
    });
  });

  describe('OAuth endpoints', () => {
    let t: TestApp;
    const other = { id: 'other-client', secret: 'other-client-secret-abcdef' };
    beforeAll(async () => {
      t = await startTestApp({
        INTROSPECTION_CLIENTS: `${INTROSPECTION_CLIENT.id}:${INTROSPECTION_CLIENT.secret},${other.id}:${other.secret}`,
        RATE_LIMIT_INTROSPECTION: '2/PT1M',
        RATE_LIMIT_REVOKE: '2/PT1M',
        RATE_LIMIT_AUTH_FAILURES: '2/PT1M',
      });
    });
    afterAll(async () => {
      await t.stop();
    });

    /** A raw POST, so the 429's headers and body can be checked as they are. */
    function post(path: string, body: string, authorization?: string): Promise<Response> {
      return fetch(new URL(path, t.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
        body,
      });
    }

    it('introspection is budgeted per client id, with an OAuth-shaped 429', async () => {
      const auth = basic(INTROSPECTION_CLIENT.id, INTROSPECTION_CLIENT.secret);
      for (let attempt = 0; attempt < 2; attempt++) {
        expect((await post('/oauth/introspect', 'token=x', auth)).status).toBe(200);
      }
      const over = await post('/oauth/introspect', 'token=x', auth);
      const body = await expect429(over, 60);
      expect(body).toEqual({ error: 'too_many_requests', error_description: expect.stringMatching(/try again/) });
      expect(over.headers.get('cache-control')).toBe('no-store');
      // Another client has its own budget.
      expect((await post('/oauth/introspect', 'token=x', basic(other.id, other.secret))).status).toBe(200);
    });

    it('revocation is budgeted per client IP, and a refused revocation revokes nothing', async () => {
      const alice = await t.session('alice@example.com');
      const generated = await t.gql<{ generateApiToken: { secret: string } }>(GENERATE, { auth: alice });
      const secret = generated.body.data?.generateApiToken.secret ?? '';
      for (let attempt = 0; attempt < 2; attempt++) {
        expect((await oauthPost(t, '/oauth/revoke', { token: unknownToken() })).status).toBe(200);
      }
      const over = await post('/oauth/revoke', new URLSearchParams({ token: secret }).toString());
      expect(await expect429(over, 60)).toMatchObject({ error: 'too_many_requests' });
      const still = await t.gql<{ me: { email: string } }>('{ me { email } }', { auth: secret });
      expect(still.body.data?.me.email).toBe('alice@example.com');
    });

    it('failed client authentications are budgeted per client IP; the right secret still passes', async () => {
      for (let attempt = 0; attempt < 2; attempt++) {
        const res = await post('/oauth/introspect', 'token=x', basic(INTROSPECTION_CLIENT.id, 'a-wrong-secret-0123456789'));
        expect(res.status).toBe(401);
      }
      const over = await post('/oauth/introspect', 'token=x', basic(INTROSPECTION_CLIENT.id, 'a-wrong-secret-0123456789'));
      expect(await expect429(over, 60)).toMatchObject({ error: 'too_many_requests' });
      expect(over.headers.get('www-authenticate')).toBeNull();
      const right = await post('/oauth/introspect', 'token=x', basic(other.id, other.secret));
      expect(right.status).toBe(200);
    });
  });
});
