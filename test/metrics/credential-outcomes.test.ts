import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { User } from '../../src/users/user.entity.js';
import { createTokenSecret } from '../../src/tokens/token-format.js';
import { startTestApp, TEST_SESSION_SECRET, type TestApp } from '../support/test-app.js';
import { generate } from '../support/tokens.js';
import { scimClient, scimToken } from '../scim/scim-client.js';
import { basic, INTROSPECTION_CLIENT, INTROSPECTION_ENV, oauthPost } from '../admin/admin-helpers.js';
import { parsePrometheusText, valueOf, type Sample } from './prometheus-text.js';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';
const DEACTIVATE = 'mutation ($id: ID!) { deactivateUser(id: $id) { id active } }';

async function scrape(t: TestApp): Promise<Sample[]> {
  const response = await fetch(new URL('/metrics', t.url), { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  return parsePrometheusText(await response.text());
}

/**
 * Each refusal of the one verifier is observable, for each credential kind it
 * applies to: in the RFC 6750 `error_description` and in the
 * `api_tokens_authentications_total{kind,result}` counter. The body stays the
 * same whatever the outcome.
 */
describe('credential outcomes', () => {
  const clock = new ManualClock(new Date());
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN, ...INTROSPECTION_ENV }, { clock, autoSweep: false });
  });
  afterAll(async () => {
    await t.stop();
  });

  const userIdOf = async (email: string) => (await t.running.services.users.findByEmail(email))!.id;
  /** Changes a user behind the API's back, dropping what this instance cached about them as a change event would. */
  const setUser = async (email: string, facts: Partial<Pick<User, 'active' | 'apiTokensEnabled'>>) => {
    await t.running.orm.em.fork().nativeUpdate(User, { email }, facts);
    t.running.principals.invalidateUser(await userIdOf(email));
  };

  /** Sends the credential and checks what the caller and the metrics see. */
  async function expectOutcome(credential: string, kind: string, result: string, description: string | null): Promise<void> {
    const before = await scrape(t);
    const res = await t.gql<{ me: { email: string } }>('{ me { email } }', { auth: credential });
    const after = await scrape(t);
    const delta =
      valueOf(after, 'api_tokens_authentications_total', { kind, result }) -
      valueOf(before, 'api_tokens_authentications_total', { kind, result });
    expect(delta, `${kind} ${result}`).toBe(1);
    if (description === null) {
      expect(res.status).toBe(200);
      return;
    }
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer error="invalid_token", error_description="${description}"`);
    expect(res.body).toEqual({
      errors: [{ message: 'The bearer credential is invalid, expired or revoked.', extensions: { code: 'UNAUTHENTICATED' } }],
    });
  }

  it('tells each outcome of an API token apart', async () => {
    const ok = await generate(t, 'admin@example.com');
    await expectOutcome(ok.secret, 'api_token', 'ok', null);

    const wellFormed = createTokenSecret().secret;
    await expectOutcome(
      `${wellFormed.slice(0, -1)}${wellFormed.endsWith('A') ? 'B' : 'A'}`,
      'api_token',
      'malformed',
      'The credential is malformed.',
    );
    await expectOutcome(wellFormed, 'api_token', 'unknown', 'The credential is unknown or was revoked.');

    const disabled = await generate(t, 'alice@example.com');
    await setUser('alice@example.com', { apiTokensEnabled: false });
    await expectOutcome(disabled.secret, 'api_token', 'disabled', 'API tokens are disabled for this user.');

    const inactive = await generate(t, 'carol@globex.example.com');
    await setUser('carol@globex.example.com', { active: false });
    await expectOutcome(inactive.secret, 'api_token', 'user_inactive', 'The user is deactivated.');
    await setUser('carol@globex.example.com', { active: true });

    const expiring = await generate(t, 'admin@globex.example.com');
    clock.set(expiring.token.expiresAt);
    await expectOutcome(expiring.secret, 'api_token', 'expired', 'The credential has expired.');
  });

  it('tells each outcome of a session apart', async () => {
    await expectOutcome(await t.session('support@example.com'), 'session', 'ok', null);
    await expectOutcome('not.a.jwt', 'session', 'malformed', 'The credential is malformed.');

    const now = Math.floor(Date.now() / 1000);
    const bobId = await userIdOf('bob@example.com');
    const stale = await new SignJWT({ email: 'bob@example.com' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(bobId)
      .setIssuedAt(now - 120)
      .setExpirationTime(now - 60)
      .sign(new TextEncoder().encode(TEST_SESSION_SECRET));
    await expectOutcome(stale, 'session', 'expired', 'The credential has expired.');

    const inactive = await t.session('carol@globex.example.com');
    await setUser('carol@globex.example.com', { active: false });
    await expectOutcome(inactive, 'session', 'user_inactive', 'The user is deactivated.');

    // Issued before a deactivation: refused for good, even once the user is active again.
    const beforeDeactivation = await t.session('bob@example.com');
    const admin = await t.session('admin@example.com');
    expect((await t.gql(DEACTIVATE, { auth: admin, variables: { id: bobId } })).body.errors).toBeUndefined();
    await setUser('bob@example.com', { active: true });
    await expectOutcome(beforeDeactivation, 'session', 'revoked', 'The credential was revoked.');
  });

  it('tells each outcome of a SCIM token apart, a rotated one included', async () => {
    const count = async (token: string, result: string, challenge: string | null) => {
      const before = await scrape(t);
      const res = await scimClient(t, token)('GET', '/Users');
      const after = await scrape(t);
      const labels = { kind: 'scim_token', result };
      expect(
        valueOf(after, 'api_tokens_authentications_total', labels) - valueOf(before, 'api_tokens_authentications_total', labels),
        result,
      ).toBe(1);
      expect(res.status).toBe(challenge === null ? 200 : 401);
      if (challenge !== null)
        expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="scim", error="invalid_token", error_description="${challenge}"`);
    };
    const first = await scimToken(t, 'Acme');
    await count(first, 'ok', null);
    await count('scim_too-short', 'malformed', 'The credential is malformed.');
    await scimToken(t, 'Acme');
    await count(first, 'unknown', 'The credential is unknown or was revoked.');
  });

  it('counts the checks of introspection clients and of METRICS_TOKEN by the same outcomes', async () => {
    const labels = (kind: string, result: string) => ({ kind, result });
    const before = await scrape(t);
    const introspect = (authorization: string) => oauthPost(t, '/oauth/introspect', { token: 'x' }, { authorization });
    expect((await introspect(basic(INTROSPECTION_CLIENT.id, INTROSPECTION_CLIENT.secret))).status).toBe(200);
    expect((await introspect(basic(INTROSPECTION_CLIENT.id, 'wrong-secret'))).status).toBe(401);
    expect((await introspect('Bearer nope')).status).toBe(401);
    for (const authorization of ['Bearer wrong-metrics-token-0123456789', 'Basic nope']) {
      expect((await fetch(new URL('/metrics', t.url), { headers: { authorization } })).status).toBe(401);
    }
    const after = await scrape(t);
    const delta = (kind: string, result: string) =>
      valueOf(after, 'api_tokens_authentications_total', labels(kind, result)) -
      valueOf(before, 'api_tokens_authentications_total', labels(kind, result));
    expect(delta('introspection_client', 'ok')).toBe(1);
    expect(delta('introspection_client', 'unknown')).toBe(1);
    expect(delta('introspection_client', 'malformed')).toBe(1);
    expect(delta('metrics_token', 'unknown')).toBe(1);
    expect(delta('metrics_token', 'malformed')).toBe(1);
    // The scrape before and the one after are counted as they are made.
    expect(delta('metrics_token', 'ok')).toBe(1);
  });
});
