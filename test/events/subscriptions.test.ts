import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestApp, type TestApp } from '../support/test-app.js';
import { EVENT_FIELDS, latestEventId, subscribe } from '../support/ws-client.js';

interface TokenEvent {
  id: string;
  kind: string;
  tokenId: string | null;
  actor: string | null;
  expiresAt: string | null;
}

const EVENTS = `subscription($after: ID) { apiTokenEvents(after: $after) { ${EVENT_FIELDS} } }`;
const GENERATE = 'mutation { generateApiToken { secret token { id } } }';
const REGENERATE = 'mutation { regenerateApiToken { secret token { id } } }';
const REVOKE = 'mutation { revokeApiToken { tokenId } }';

describe('apiTokenEvents subscription', () => {
  let t: TestApp;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    t = await startTestApp();
    alice = await t.session('alice@example.com');
    bob = await t.session('bob@example.com');
  });
  afterAll(async () => {
    await t.stop();
  });

  it('closes an unauthenticated socket with 4403', async () => {
    const anonymous = subscribe(t.url, null, EVENTS);
    expect(await anonymous.closed).toBe(4403);
    const forged = subscribe(t.url, 'own_notarealtoken', EVENTS);
    expect(await forged.closed).toBe(4403);
  });

  it('shows each user only their own events, in order', async () => {
    const after = await latestEventId(t.running.orm);
    const aliceEvents = subscribe<TokenEvent>(t.url, alice, EVENTS, { after });
    const bobEvents = subscribe<TokenEvent>(t.url, bob, EVENTS, { after });

    const first = await t.gql<{ generateApiToken: { token: { id: string } } }>(GENERATE, { auth: alice });
    const second = await t.gql<{ regenerateApiToken: { token: { id: string } } }>(REGENERATE, { auth: alice });
    await t.gql(REVOKE, { auth: alice });
    await t.gql(GENERATE, { auth: bob });

    const firstId = first.body.data?.generateApiToken.token.id;
    const secondId = second.body.data?.regenerateApiToken.token.id;
    const seen = await aliceEvents.waitFor(4);
    expect(seen.map((e) => [e.kind, e.tokenId])).toEqual([
      ['GENERATED', firstId],
      ['REVOKED', firstId],
      ['GENERATED', secondId],
      ['REVOKED', secondId],
    ]);
    expect(seen.every((e) => e.actor === 'alice@example.com')).toBe(true);
    const ids = seen.map((e) => Number(e.id));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);

    const bobSeen = await bobEvents.waitFor(1);
    expect(bobSeen.map((e) => e.kind)).toEqual(['GENERATED']);
    expect(aliceEvents.items).toHaveLength(4);
    await Promise.all([aliceEvents.dispose(), bobEvents.dispose()]);
    await t.gql(REVOKE, { auth: bob });
  });

  it('resumes after the last id seen: exactly the missed events, then live ones', async () => {
    const live = subscribe<TokenEvent>(t.url, alice, EVENTS, { after: await latestEventId(t.running.orm) });
    await t.gql(GENERATE, { auth: alice });
    const [seen] = await live.waitFor(1);
    await live.dispose();

    await t.gql(REGENERATE, { auth: alice }); // missed: REVOKED + GENERATED
    const resumed = subscribe<TokenEvent>(t.url, alice, EVENTS, { after: seen?.id });
    const replayed = await resumed.waitFor(2);
    expect(replayed.map((e) => e.kind)).toEqual(['REVOKED', 'GENERATED']);
    await t.gql(REVOKE, { auth: alice });
    const all = await resumed.waitFor(3);
    expect(all.map((e) => e.kind)).toEqual(['REVOKED', 'GENERATED', 'REVOKED']);
    expect(new Set(all.map((e) => e.id)).size).toBe(3);
    await resumed.dispose();
  });

  it('latestApiTokenEventId: read before the state, then subscribe after it, and nothing in between is missed', async () => {
    const carol = await t.session('carol@globex.example.com');
    const CURSOR = '{ latestApiTokenEventId }';
    const cursorOf = async (auth: string) =>
      (await t.gql<{ latestApiTokenEventId: string }>(CURSOR, { auth })).body.data?.latestApiTokenEventId;
    const before = await cursorOf(carol);
    expect(before).toMatch(/^\d+$/);

    // A token made after the read, before the subscription reaches the service.
    const generated = await t.gql<{ generateApiToken: { secret: string; token: { id: string } } }>(GENERATE, { auth: carol });
    const late = subscribe<TokenEvent>(t.url, carol, EVENTS, { after: before });
    const [event] = await late.waitFor(1);
    expect(event).toMatchObject({ kind: 'GENERATED', tokenId: generated.body.data?.generateApiToken.token.id });
    await late.dispose();

    // It is the user's own newest event, with a session or with the token: another user's change does not move it.
    expect(await cursorOf(carol)).toBe(event?.id);
    expect(await cursorOf(generated.body.data?.generateApiToken.secret ?? 'missing')).toBe(event?.id);
    await t.gql(GENERATE, { auth: bob });
    expect(await cursorOf(carol)).toBe(event?.id);
    await t.gql(REVOKE, { auth: bob });
    await t.gql(REVOKE, { auth: carol });

    expect(errorCode(await t.gql(CURSOR))).toBe('UNAUTHENTICATED');
  });

  it('refuses a malformed resume id with BAD_USER_INPUT', async () => {
    const bad = subscribe<TokenEvent>(t.url, alice, EVENTS, { after: 'abc' });
    await bad.waitFor(1, 3_000);
    expect(JSON.stringify(bad.errors)).toContain('BAD_USER_INPUT');
    await bad.dispose();
  });

  it('closes a socket opened with a token once that token is revoked; session sockets stay', async () => {
    const generated = await t.gql<{ generateApiToken: { secret: string } }>(GENERATE, { auth: alice });
    const secret = generated.body.data?.generateApiToken.secret ?? '';
    const after = await latestEventId(t.running.orm);
    const viaToken = subscribe<TokenEvent>(t.url, secret, EVENTS, { after });
    const viaSession = subscribe<TokenEvent>(t.url, alice, EVENTS, { after });
    await Promise.all([viaToken.connected, viaSession.connected]);

    await t.gql(REVOKE, { auth: alice });
    expect(await viaToken.closed).toBe(4403);
    expect(viaToken.items.map((e) => e.kind)).toEqual(['REVOKED']);
    const sessionSeen = await viaSession.waitFor(1);
    expect(sessionSeen.map((e) => e.kind)).toEqual(['REVOKED']);

    await t.gql(GENERATE, { auth: alice });
    expect((await viaSession.waitFor(2)).map((e) => e.kind)).toEqual(['REVOKED', 'GENERATED']);
    await viaSession.dispose();
    await t.gql(REVOKE, { auth: alice });
  });

  it('a token subscriber that selected only { id } still gets its final REVOKED before the close', async () => {
    const generated = await t.gql<{ generateApiToken: { secret: string } }>(GENERATE, { auth: bob });
    const secret = generated.body.data?.generateApiToken.secret ?? '';
    const onlyIds = subscribe<{ id: string }>(t.url, secret, 'subscription($after: ID) { apiTokenEvents(after: $after) { id } }', {
      after: await latestEventId(t.running.orm),
    });
    await onlyIds.connected;
    await t.gql(REVOKE, { auth: bob });
    expect(await onlyIds.closed).toBe(4403);
    expect(onlyIds.items).toEqual([{ id: await latestEventId(t.running.orm) }]);
  });

  it('closes every socket of a user who is deactivated, session ones included', async () => {
    const carol = await t.session('carol@globex.example.com');
    const viaSession = subscribe<TokenEvent>(t.url, carol, EVENTS);
    await viaSession.connected;
    const me = await t.gql<{ me: { id: string } }>('{ me { id } }', { auth: carol });
    const globexAdmin = await t.session('admin@globex.example.com');
    const res = await t.gql('mutation ($id: ID!) { deactivateUser(id: $id) { active } }', {
      auth: globexAdmin,
      variables: { id: me.body.data?.me.id },
    });
    expect(res.body.errors).toBeUndefined();
    expect(await viaSession.closed).toBe(4403);
    expect(viaSession.items).toEqual([]);
    // A new socket with the same session is refused.
    expect(await subscribe(t.url, carol, EVENTS).closed).toBe(4403);
  });
});
