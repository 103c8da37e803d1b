import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { auditRows, expectError, generateToken, INTROSPECTION_ENV, introspect, userId } from './admin-helpers.js';

const DEACTIVATE = 'mutation ($id: ID!) { deactivateUser(id: $id) { id active } }';

describe('deactivateUser', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp(INTROSPECTION_ENV);
    admin = await t.session('admin@example.com');
  });
  afterAll(async () => {
    await t.stop();
  });

  it('stops the user’s session and token at the very next request and revokes the token as the admin', async () => {
    const bob = await userId(t, 'bob@example.com');
    const session = await t.session('bob@example.com');
    const token = await generateToken(t, 'bob@example.com');
    expect((await t.gql('{ me { email } }', { auth: session })).body.data).toEqual({ me: { email: 'bob@example.com' } });
    expect((await t.gql('{ me { email } }', { auth: token.secret })).body.data).toEqual({ me: { email: 'bob@example.com' } });

    const res = await t.gql(DEACTIVATE, { auth: admin, variables: { id: bob } });
    expect(res.body).toEqual({ data: { deactivateUser: { id: bob, active: false } } });

    for (const credential of [session, token.secret]) {
      const call = await t.gql('{ me { email } }', { auth: credential });
      expect(call.status).toBe(401);
      expect(call.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="/);
      expectError(call, 'UNAUTHENTICATED');
    }
    expect(await introspect(t, token.secret)).toEqual({ active: false });
    expect(await t.running.orm.em.fork().count(ApiToken, { user: bob })).toBe(0);

    const [deactivated, revoked] = (await auditRows(t, bob)).slice(-2);
    expect(deactivated).toMatchObject({ action: 'USER_DEACTIVATED', actorLabel: 'admin@example.com', actorKind: 'session' });
    expect(revoked).toMatchObject({ action: 'REVOKED', actorLabel: 'admin@example.com', tokenId: token.id });
  });

  it('is idempotent, and a user without a token is deactivated all the same', async () => {
    const bob = await userId(t, 'bob@example.com');
    const before = (await auditRows(t, bob)).length;
    expect((await t.gql(DEACTIVATE, { auth: admin, variables: { id: bob } })).body.data).toEqual({
      deactivateUser: { id: bob, active: false },
    });
    expect(await auditRows(t, bob)).toHaveLength(before);

    const alice = await userId(t, 'alice@example.com');
    expect((await t.gql(DEACTIVATE, { auth: admin, variables: { id: alice } })).body.data).toEqual({
      deactivateUser: { id: alice, active: false },
    });
    expect((await auditRows(t, alice)).map((row) => row.action)).toEqual(['USER_DEACTIVATED']);
  });

  it('refuses to deactivate yourself, a support user, or anyone as a USER', async () => {
    const self = await userId(t, 'admin@example.com');
    const support = await userId(t, 'support@example.com');
    expectError(await t.gql(DEACTIVATE, { auth: admin, variables: { id: self } }), 'BAD_USER_INPUT', 'id');
    expectError(await t.gql(DEACTIVATE, { auth: admin, variables: { id: support } }), 'BAD_USER_INPUT', 'id');
    const carol = await t.session('carol@globex.example.com');
    expectError(await t.gql(DEACTIVATE, { auth: carol, variables: { id: await userId(t, 'admin@globex.example.com') } }), 'FORBIDDEN');
    const me = await t.gql('{ me { active } }', { auth: await t.session('admin@example.com') });
    expect(me.body.data).toEqual({ me: { active: true } });
  });
});
