import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { BusinessUnit } from '../../src/users/business-unit.entity.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { basic, generateToken, INTROSPECTION_CLIENT, INTROSPECTION_ENV, introspect, oauthPost } from '../admin/admin-helpers.js';

const CLIENT = basic(INTROSPECTION_CLIENT.id, INTROSPECTION_CLIENT.secret);

describe('POST /oauth/introspect (RFC 7662)', () => {
  const clock = new ManualClock('2026-05-01T12:00:00.000Z');
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(
      { ...INTROSPECTION_ENV, REGION: 'eu-west', REGIONS: 'eu-west,us-east', TOKEN_LIFETIME: 'P180D' },
      { clock, autoSweep: false },
    );
  });
  afterAll(async () => {
    await t.stop();
  });

  it('describes an active token by its user’s current role and business units', async () => {
    const token = await generateToken(t, 'alice@example.com');
    const alice = await t.running.services.users.findByEmail('alice@example.com');
    const engineering = await t.running.orm.em.fork().findOneOrFail(BusinessUnit, { name: 'Engineering' });
    const issuedAt = Date.parse('2026-05-01T12:00:00.000Z') / 1000;

    const res = await oauthPost(t, '/oauth/introspect', { token: token.secret }, { authorization: CLIENT });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.json).toEqual({
      active: true,
      sub: alice?.id,
      username: 'alice@example.com',
      scope: `role:USER bu:${engineering.id}`,
      exp: issuedAt + 180 * 86_400,
      iat: issuedAt,
      token_type: 'Bearer',
      org: alice?.organization.id,
      role: 'USER',
      business_units: [engineering.id],
      regions: ['eu-west', 'us-east'],
    });
  });

  it('counts as a use of the token and ignores token_type_hint', async () => {
    clock.advance(5 * 60_000);
    const token = await generateToken(t, 'bob@example.com');
    clock.advance(2 * 60_000);
    const res = await oauthPost(
      t,
      '/oauth/introspect',
      { token: token.secret, token_type_hint: 'refresh_token' },
      { authorization: CLIENT },
    );
    expect(res.json).toMatchObject({ active: true, username: 'bob@example.com' });
    // Uses are written in batches; flush the pending one.
    await t.running.usage.flush();
    const stored = await t.running.orm.em.fork().findOneOrFail(ApiToken, { id: token.id });
    expect(stored.lastUsedAt?.toISOString()).toBe(clock.now().toISOString());
    expect(stored.lastUsedRegion).toBe('eu-west');
  });

  it('answers exactly {"active":false} for anything but a live token', async () => {
    const revoked = await generateToken(t, 'carol@globex.example.com');
    await t.gql('mutation { revokeApiToken { tokenId } }', { auth: revoked.secret });
    const inactive = ['own_' + 'A'.repeat(49), 'garbage', revoked.secret, await t.session('alice@example.com')];
    for (const token of inactive) {
      const res = await oauthPost(t, '/oauth/introspect', { token }, { authorization: CLIENT });
      expect(res.status).toBe(200);
      expect(res.text).toBe('{"active":false}');
    }
  });

  it('answers {"active":false} for an expired token before any sweeper ran', async () => {
    const token = await generateToken(t, 'admin@globex.example.com');
    expect(await introspect(t, token.secret)).toMatchObject({ active: true });
    clock.advance(180 * 86_400_000);
    expect(await introspect(t, token.secret)).toEqual({ active: false });
  });

  it('accepts every configured client', async () => {
    const res = await oauthPost(
      t,
      '/oauth/introspect',
      { token: 'garbage' },
      {
        authorization: basic('other-client', 'other-client-secret-abcdef'),
      },
    );
    expect(res.status).toBe(200);
  });

  it.each([
    ['no credentials', undefined],
    ['a wrong secret', basic(INTROSPECTION_CLIENT.id, 'wrong-secret-0123456789')],
    ['an unknown client', basic('stranger', INTROSPECTION_CLIENT.secret)],
    ['another client’s secret', basic(INTROSPECTION_CLIENT.id, 'other-client-secret-abcdef')],
    ['a bearer token instead', 'Bearer own_whatever'],
    ['a malformed Basic value', 'Basic !!!'],
    ['Basic without a colon', `Basic ${Buffer.from('resource-server').toString('base64')}`],
  ])('refuses %s with 401 invalid_client', async (_name, authorization) => {
    const res = await oauthPost(t, '/oauth/introspect', { token: 'anything' }, authorization ? { authorization } : {});
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: 'invalid_client' });
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="oauth"');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('checks the client before it looks at the body', async () => {
    const res = await oauthPost(t, '/oauth/introspect', '{"token":"x"}', { contentType: 'application/json' });
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: 'invalid_client' });
  });

  it.each([
    ['no token parameter', {}, undefined],
    ['an empty token', { token: '' }, undefined],
    ['a repeated token', 'token=a&token=b', undefined],
    ['no body at all', null, null],
  ] as const)('refuses %s with 400 invalid_request', async (_name, body, contentType) => {
    const res = await oauthPost(t, '/oauth/introspect', body, {
      authorization: CLIENT,
      ...(contentType === null ? { contentType: null } : {}),
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'invalid_request' });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it.each([
    ['JSON', 'application/json', '{"token":"x"}'],
    ['plain text', 'text/plain', 'token=x'],
    ['multipart', 'multipart/form-data; boundary=x', '--x--'],
  ])('refuses a %s body with 415 invalid_request', async (_name, contentType, body) => {
    const res = await oauthPost(t, '/oauth/introspect', body, { authorization: CLIENT, contentType });
    expect(res.status).toBe(415);
    expect(res.json).toMatchObject({ error: 'invalid_request' });
  });

  it('accepts a charset on the form content type', async () => {
    const res = await oauthPost(
      t,
      '/oauth/introspect',
      { token: 'garbage' },
      {
        authorization: CLIENT,
        contentType: 'application/x-www-form-urlencoded; charset=UTF-8',
      },
    );
    expect(res.json).toEqual({ active: false });
  });

  it('is reachable only by POST', async () => {
    const res = await fetch(new URL('/oauth/introspect', t.url), { headers: { authorization: CLIENT } });
    expect(res.status).toBe(404);
    // With the token in the URL, the request is refused before routing (test/auth/url-secrets.test.ts).
    const inUrl = await fetch(new URL('/oauth/introspect?token=x', t.url), { headers: { authorization: CLIENT } });
    expect(inUrl.status).toBe(400);
  });
});
