import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { EVENT_FIELDS, latestEventId, subscribe } from '../support/ws-client.js';
import { generateToken, userId } from '../admin/admin-helpers.js';

interface TokenEvent {
  id: string;
  kind: string;
  tokenId: string | null;
}

const EVENTS = `subscription($after: ID) { apiTokenEvents(after: $after) { ${EVENT_FIELDS} } }`;
const SET_ACCESS = `mutation ($userId: ID!, $enabled: Boolean!) {
  setApiTokenAccess(userId: $userId, enabled: $enabled) { apiTokensEnabled }
}`;
const REVOKE = 'mutation { revokeApiToken { tokenId } }';

describe('a subscription replaying events from before its token existed', () => {
  let t: TestApp;
  const clock = new ManualClock();
  beforeAll(async () => {
    t = await startTestApp({}, { clock });
  });
  afterAll(async () => {
    await t.stop();
  });

  it("replays an old ACCESS_DISABLED to a token generated since, and keeps the token's socket open", async () => {
    const admin = await t.session('admin@example.com');
    const bobSession = await t.session('bob@example.com');
    const bob = await userId(t, 'bob@example.com');
    const old = await generateToken(t, 'bob@example.com');
    const after = await latestEventId(t.running.orm);

    clock.advance(1_000);
    expect((await t.gql(SET_ACCESS, { auth: admin, variables: { userId: bob, enabled: false } })).body.errors).toBeUndefined();
    clock.advance(1_000);
    expect((await t.gql(SET_ACCESS, { auth: admin, variables: { userId: bob, enabled: true } })).body.errors).toBeUndefined();
    clock.advance(1_000);
    const token = await generateToken(t, 'bob@example.com');

    // Subscribed with the new token from before the disabling: the whole story comes by replay.
    const events = subscribe<TokenEvent>(t.url, token.secret, EVENTS, { after });
    const replayed = await events.waitFor(4);
    expect(replayed.map((e) => [e.kind, e.tokenId])).toEqual([
      ['ACCESS_DISABLED', null],
      ['REVOKED', old.id],
      ['ACCESS_ENABLED', null],
      ['GENERATED', token.id],
    ]);
    expect(events.errors).toEqual([]);

    // Still open: a later event reaches it, and the new token's own revocation is its last before the close.
    clock.advance(1_000);
    expect((await t.gql(REVOKE, { auth: bobSession })).body.errors).toBeUndefined();
    const all = await events.waitFor(5);
    expect(all.slice(4).map((e) => [e.kind, e.tokenId])).toEqual([['REVOKED', token.id]]);
    expect(await events.closed).toBe(4403);
    expect(events.items).toHaveLength(5);
    await events.dispose();
  });
});
