import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { startTestApp, TEST_SESSION_SECRET, type TestApp } from '../support/test-app.js';
import { EVENT_FIELDS, latestEventId, subscribe } from '../support/ws-client.js';
import { generateToken, userId } from '../admin/admin-helpers.js';
import { openSocket, outcome } from './socket-client.js';

const CREATE_USER = 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }';
const UPDATE_USER = 'mutation ($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id role } }';
const DISABLE = 'mutation ($id: ID!) { setApiTokenAccess(userId: $id, enabled: false) { id } }';
const LIST = '{ apiTokens(first: 5) { edges { cursor } } }';
const EVENTS = `subscription($after: ID) { apiTokenEvents(after: $after) { ${EVENT_FIELDS} } }`;

describe('authority over an open socket (SQLite)', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp({}, { autoSweep: false });
    admin = await t.session('admin@example.com');
  });
  afterAll(async () => {
    await t.stop();
  });

  /** A fresh ADMIN of Acme in the creating admin's units (admins grant only those), so demoting them touches no other test. */
  async function newAdmin(): Promise<{ id: string; email: string }> {
    const email = `admin-${Math.random().toString(36).slice(2, 10)}@example.com`;
    const me = await t.gql<{ me: { businessUnits: { id: string }[] } }>('{ me { businessUnits { id } } }', { auth: admin });
    const businessUnitIds = me.body.data?.me.businessUnits.map((unit) => unit.id) ?? [];
    const res = await t.gql<{ createUser: { id: string } }>(CREATE_USER, {
      auth: admin,
      variables: { input: { email, name: 'Deputy', role: 'ADMIN', businessUnitIds } },
    });
    const id = res.body.data?.createUser.id;
    if (!id) throw new Error(JSON.stringify(res.body.errors));
    return { id, email };
  }

  it.each(['session', 'token'] as const)('refuses a demoted admin at the next operation over a %s socket', async (via) => {
    const deputy = await newAdmin();
    const credential = via === 'session' ? await t.session(deputy.email) : (await generateToken(t, deputy.email)).secret;
    const socket = openSocket(t.url, credential);
    await socket.connected;
    expect(outcome(await socket.run(LIST))).toBe('ok');

    const demoted = await t.gql(UPDATE_USER, { auth: admin, variables: { id: deputy.id, input: { role: 'USER' } } });
    expect(demoted.body.errors).toBeUndefined();

    expect(outcome(await socket.run(LIST))).toBe('FORBIDDEN');
    const promote = await socket.run(CREATE_USER, {
      input: { email: `x-${deputy.id}@example.com`, name: 'X', role: 'ADMIN' },
    });
    expect(outcome(promote)).toBe('FORBIDDEN');
    const disable = await socket.run(DISABLE, { id: await userId(t, 'bob@example.com') });
    expect(outcome(disable)).toBe('FORBIDDEN');
    expect((await socket.run('{ me { role } }')).data).toEqual({ me: { role: 'USER' } });
    await socket.dispose();
  });

  it('refuses every operation on a token socket once the revoke has answered', async () => {
    const { secret } = await generateToken(t, 'alice@example.com');
    const socket = openSocket(t.url, secret);
    await socket.connected;
    expect(outcome(await socket.run('{ me { email } }'))).toBe('ok');

    const revoked = await t.gql('mutation { revokeApiToken { tokenId } }', { auth: await t.session('alice@example.com') });
    expect(revoked.body.errors).toBeUndefined();
    expect(outcome(await socket.run('{ me { email } }'))).toBe('UNAUTHENTICATED');
    const after = await Promise.all(Array.from({ length: 20 }, () => socket.run('{ me { email } myApiToken { id } }')));
    expect(after.filter((result) => result.data)).toEqual([]);
    expect(await socket.closed).toBe(4403);
  });

  it('closes a session socket when its JWT expires, and refuses it from then on', async () => {
    const bob = await userId(t, 'bob@example.com');
    const exp = Math.floor(Date.now() / 1000) + 2;
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(bob)
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(TEST_SESSION_SECRET));
    const socket = openSocket(t.url, jwt);
    await socket.connected;
    expect(outcome(await socket.run('{ me { email } }'))).toBe('ok');
    // Idle: only its own timer can close it.
    expect(await socket.closed).toBe(4403);
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    expect((await t.gql('{ me { email } }', { auth: jwt })).status).toBe(401);
    const late = openSocket(t.url, jwt);
    expect(await late.closed).toBe(4403);
  });

  it('delivers REVOKED to the token socket, refuses it then, and keeps the session socket', async () => {
    const session = await t.session('bob@example.com');
    const { secret, id } = await generateToken(t, 'bob@example.com');
    const after = await latestEventId(t.running.orm);
    const tokenSocket = subscribe<{ kind: string; tokenId: string }>(t.url, secret, EVENTS, { after });
    const sessionSocket = openSocket(t.url, session);
    await Promise.all([tokenSocket.connected, sessionSocket.connected]);

    await t.gql('mutation { revokeApiToken { tokenId } }', { auth: session });
    expect(await tokenSocket.closed).toBe(4403);
    expect(tokenSocket.items).toEqual([expect.objectContaining({ kind: 'REVOKED', tokenId: id })]);
    expect((await sessionSocket.run('{ me { email } }')).data).toEqual({ me: { email: 'bob@example.com' } });
    await sessionSocket.dispose();
  });
});

describe('a token socket at expiresAt, with the sweeper off', () => {
  let t: TestApp;
  beforeAll(async () => {
    // The wall clock: the socket's own timer must end it, not a sweep.
    t = await startTestApp({ TOKEN_LIFETIME: 'PT3S' }, { autoSweep: false });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('is closed with 4403 at expiry and refused from then on', async () => {
    const { secret, id } = await generateToken(t, 'alice@example.com');
    const token = await t.running.orm.em.fork().findOneOrFail(ApiToken, { id });
    const socket = openSocket(t.url, secret);
    await socket.connected;
    expect(outcome(await socket.run('{ me { email } }'))).toBe('ok');

    expect(await socket.closed).toBe(4403);
    expect(Date.now()).toBeGreaterThanOrEqual(token.expiresAt.getTime());
    // Not the sweeper's doing (it is off): the socket's own timer recorded the expiry, once.
    expect(await t.running.orm.em.fork().count(ApiToken, { id })).toBe(0);
    expect(await t.running.orm.em.fork().count(AuditEvent, { action: 'EXPIRED', tokenId: id })).toBe(1);
    expect((await t.gql('{ me { email } }', { auth: secret })).status).toBe(401);
    const late = openSocket(t.url, secret);
    expect(await late.closed).toBe(4403);
  });
});
