import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_ACTOR } from '../../src/audit/actor.js';
import { UserInactiveError } from '../../src/errors.js';
import { openSocket, outcome } from '../auth/socket-client.js';
import { PATCH_OP, scimClient, scimToken } from '../scim/scim-client.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { expectError, untilSessionsCount, userId } from './admin-helpers.js';

const DEACTIVATE = 'mutation ($id: ID!) { deactivateUser(id: $id) { id active } }';
const ME = '{ me { email } }';

describe('a deactivation ends the sessions issued before it, for good', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.session('admin@example.com');
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('refuses an old session after re-activation over HTTP and graphql-ws, and accepts a new one', async () => {
    const alice = await userId(t, 'alice@example.com');
    const before = await t.session('alice@example.com');
    // Used once over each transport, so this instance holds it verified and its user cached.
    expect((await t.gql(ME, { auth: before })).body.data).toEqual({ me: { email: 'alice@example.com' } });
    const early = openSocket(t.url, before);
    expect(outcome(await early.run(ME))).toBe('ok');
    await early.dispose();

    expect((await t.gql(DEACTIVATE, { auth: admin, variables: { id: alice } })).body.errors).toBeUndefined();
    // Re-activation is the directory's (SCIM); there is no GraphQL mutation for it.
    const directory = scimClient(t, await scimToken(t, 'Acme'));
    const reactivated = await directory('PATCH', `/Users/${alice}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { active: true } }],
    });
    expect(reactivated.body).toMatchObject({ active: true });

    const http = await t.gql(ME, { auth: before });
    expect(http.status).toBe(401);
    expectError(http, 'UNAUTHENTICATED');
    const socket = openSocket(t.url, before);
    expect(await socket.closed).toBe(4403);
    await socket.dispose();

    await untilSessionsCount(t, alice);
    const after = await t.session('alice@example.com');
    expect((await t.gql(ME, { auth: after })).body.data).toEqual({ me: { email: 'alice@example.com' } });
    const fresh = openSocket(t.url, after);
    expect(await fresh.run(ME)).toMatchObject({ data: { me: { email: 'alice@example.com' } } });
    await fresh.dispose();
  });

  it('refuses generate and regenerate for an inactive user under the lock (USER_INACTIVE)', async () => {
    const bob = await userId(t, 'bob@example.com');
    expect((await t.gql(DEACTIVATE, { auth: admin, variables: { id: bob } })).body.errors).toBeUndefined();
    // As a request that authenticated just before the deactivation committed reaches the service.
    const tokens = t.running.services.tokens;
    await expect(tokens.generate(SYSTEM_ACTOR, bob)).rejects.toBeInstanceOf(UserInactiveError);
    await expect(tokens.regenerate(SYSTEM_ACTOR, bob)).rejects.toMatchObject({ extensions: { code: 'USER_INACTIVE' } });
    expect(await t.running.services.tokens.current(bob)).toBeNull();
  });
});
