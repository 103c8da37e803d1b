import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { auditRows, generateToken, INTROSPECTION_ENV, introspect, oauthPost, userId } from '../admin/admin-helpers.js';
import { queuedContent } from '../mail/mail-app.js';

describe('POST /oauth/revoke (RFC 7009)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ...INTROSPECTION_ENV, REGION: 'us-east', REGIONS: 'us-east,eu-west' });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('revokes a token for whoever holds it, with the token as the actor', async () => {
    const alice = await userId(t, 'alice@example.com');
    const token = await generateToken(t, 'alice@example.com');

    // No client authentication: possession of the token is enough.
    const res = await oauthPost(t, '/oauth/revoke', { token: token.secret, token_type_hint: 'access_token' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.headers.get('cache-control')).toBe('no-store');

    const call = await t.gql('{ me { email } }', { auth: token.secret });
    expect(call.status).toBe(401);
    expect(call.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="/);
    expect(call.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await introspect(t, token.secret)).toEqual({ active: false });
    expect(await t.running.orm.em.fork().count(ApiToken, { user: alice })).toBe(0);
    expect((await auditRows(t, alice)).at(-1)).toMatchObject({
      action: 'REVOKED',
      actorKind: 'token',
      actorUserId: alice,
      actorLabel: 'alice@example.com',
      tokenId: token.id,
      region: 'us-east',
    });
    // The usual revocation email, queued with the change.
    const em = t.running.orm.em.fork();
    const mail = await em.find(OutboxMessage, { recipient: 'alice@example.com', kind: 'REVOKED' });
    expect(mail).toHaveLength(1);
    const content = await queuedContent(em, mail[0]!);
    expect(content.subject).toBe('Your API token was revoked');
    expect(`${content.text}${content.html}`).not.toContain(token.secret);
  });

  it('answers 200 for an unknown, malformed or already revoked token, and changes nothing', async () => {
    const bob = await userId(t, 'bob@example.com');
    const token = await generateToken(t, 'bob@example.com');
    expect((await oauthPost(t, '/oauth/revoke', { token: token.secret })).status).toBe(200);
    const rows = (await auditRows(t, bob)).length;

    for (const unknown of [token.secret, 'own_' + 'B'.repeat(49), 'not-a-token', await t.session('carol@globex.example.com')]) {
      const res = await oauthPost(t, '/oauth/revoke', { token: unknown, token_type_hint: 'refresh_token' });
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
    }
    expect(await auditRows(t, bob)).toHaveLength(rows);
    // A session JWT is not a token this endpoint revokes: Carol is still signed in.
    const me = await t.gql('{ me { email } }', { auth: await t.session('carol@globex.example.com') });
    expect(me.status).toBe(200);
  });

  it('refuses a request without a token with 400 invalid_request', async () => {
    const bodies: (Record<string, string> | string)[] = [{}, { token: '' }, 'token=a&token=b'];
    for (const body of bodies) {
      const res = await oauthPost(t, '/oauth/revoke', body);
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ error: 'invalid_request' });
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('refuses a body that is not form-encoded with 415 invalid_request, and revokes nothing', async () => {
    const token = await generateToken(t, 'carol@globex.example.com');
    const res = await oauthPost(t, '/oauth/revoke', JSON.stringify({ token: token.secret }), {
      contentType: 'application/json',
    });
    expect(res.status).toBe(415);
    expect(res.json).toMatchObject({ error: 'invalid_request' });
    expect(await introspect(t, token.secret)).toMatchObject({ active: true });
  });
});

describe('RFC 6750 on /graphql', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.stop();
  });

  it.each([
    ['a well-formed but unknown API token', 'Bearer own_' + 'C'.repeat(49)],
    ['a mistyped API token', 'Bearer own_typo'],
    ['a forged session', 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'],
    ['a scheme that is not Bearer', 'Token abc'],
  ])('answers %s with 401, WWW-Authenticate and UNAUTHENTICATED', async (_name, authorization) => {
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query: '{ me { email } }' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="/);
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
  });
});
