import { GraphQLID, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from 'graphql';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import { Role } from '../../src/auth/role.js';
import { ManualClock } from '../../src/clock.js';
import { CredentialWatcher } from '../../src/credentials/credential-watcher.js';
import type { Resolved, VerifiedCredential } from '../../src/credentials/principal-resolver.js';
import { sharedExecution, sourceEventOf } from '../../src/http/shared-execution.js';

const ALICE = '00000000-0000-4000-8000-000000000001';
const BOB = '00000000-0000-4000-8000-000000000002';
const GRACE_MS = 500;

function principal(userId: string, via: 'token' | 'session', tokenId: string | null, role = Role.USER): Principal {
  return {
    userId,
    email: `${userId}@example.com`,
    name: 'Someone',
    role,
    organizationId: 'org-1',
    businessUnitIds: [],
    businessUnits: [],
    apiTokensEnabled: true,
    via,
    tokenId,
    tokenExpiresAt: via === 'token' ? new Date('2026-02-01T00:00:00.000Z') : null,
  };
}

const keyOf = (credential: VerifiedCredential) => (credential.kind === 'token' ? credential.digest : `session:${credential.userId}`);

/** A principal resolver whose re-checks answer from a table the test edits: a credential missing from it is dead. */
function fakeResolver() {
  const live = new Map<string, Resolved>();
  let rechecks = 0;
  return {
    rechecks: () => rechecks,
    recheck: (credential: VerifiedCredential): Resolved | null => {
      rechecks++;
      return live.get(keyOf(credential)) ?? null;
    },
    /** A token credential of the user, alive until `kill`ed. */
    token: (userId: string, tokenId: string): Resolved => {
      const resolved: Resolved = {
        principal: principal(userId, 'token', tokenId),
        credential: { kind: 'token', digest: `digest-${tokenId}` },
        token: { id: tokenId, createdAt: new Date('2026-01-01T00:00:00.000Z'), expiresAt: new Date('2026-02-01T00:00:00.000Z') },
      };
      live.set(keyOf(resolved.credential), resolved);
      return resolved;
    },
    /** A session of the user, issued at `issuedAtS` (its `iat`, epoch seconds). */
    session: (userId: string, issuedAtS = 0): Resolved => {
      const resolved: Resolved = {
        principal: principal(userId, 'session', null),
        credential: { kind: 'session', userId, expiresAtMs: null, issuedAtS },
        token: null,
      };
      live.set(keyOf(resolved.credential), resolved);
      return resolved;
    },
    /** What the next re-check of the credential answers: a new principal, or null (it no longer authenticates). */
    set: (resolved: Resolved, principal: Principal | null) => {
      if (principal) live.set(keyOf(resolved.credential), { ...resolved, principal });
      else live.delete(keyOf(resolved.credential));
    },
  };
}

function watcherWith(resolver: ReturnType<typeof fakeResolver>) {
  const watcher = new CredentialWatcher({
    principals: resolver,
    clock: new ManualClock(),
    closeGraceMs: GRACE_MS,
    onError: (error) => {
      throw error;
    },
  });
  /** Watches a credential as the transport does, recording how its connection was ended. */
  const connect = (resolved: Resolved) => {
    const ends: string[] = [];
    const watch = watcher.watch(resolved, { end: (reason) => ends.push(reason) });
    return { watch, ends };
  };
  return { watcher, connect };
}

/** Lets the grace period and any `setImmediate` run. */
const afterGrace = () => vi.advanceTimersByTimeAsync(GRACE_MS);

beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate'] }));
afterEach(() => vi.useRealTimers());

describe('the credential watcher', () => {
  it("ends a token credential on its own token's REVOKED or EXPIRED, not on another token's of the same user", async () => {
    const resolver = fakeResolver();
    const { watcher, connect } = watcherWith(resolver);
    const first = connect(resolver.token(ALICE, 't1'));
    const second = connect(resolver.token(ALICE, 't2'));
    const session = connect(resolver.session(ALICE));

    watcher.onMessage({ kind: 'REVOKED', userId: ALICE, tokenId: 't1' });
    // Its connection ends after the grace, for the event to reach it; refused from the event on.
    expect(first.ends).toEqual([]);
    await afterGrace();
    expect(first.ends).toEqual(['revoked']);
    expect(await first.watch.current()).toBeNull();
    expect(second.ends).toEqual([]);
    expect(session.ends).toEqual([]);
    expect(await second.watch.current()).not.toBeNull();

    watcher.onMessage({ kind: 'EXPIRED', userId: ALICE, tokenId: 't2' });
    await afterGrace();
    expect(second.ends).toEqual(['expired']);
    expect(session.ends).toEqual([]);
    expect(first.ends).toEqual(['revoked']);
  });

  it("ends a session, and the user's tokens, on the user's deactivation; another user's credentials stay", async () => {
    const resolver = fakeResolver();
    const { watcher, connect } = watcherWith(resolver);
    const session = connect(resolver.session(ALICE));
    const token = connect(resolver.token(ALICE, 't1'));
    const bob = connect(resolver.session(BOB));

    watcher.onMessage({ kind: 'USER_DEACTIVATED', userId: ALICE });
    await afterGrace();
    expect(session.ends).toEqual(['user deactivated']);
    expect(token.ends).toEqual(['user deactivated']);
    expect(bob.ends).toEqual([]);
  });

  it("re-checks the user's credentials on an access change, and ends only those whose re-check fails", async () => {
    const resolver = fakeResolver();
    const { watcher, connect } = watcherWith(resolver);
    const tokenResolved = resolver.token(ALICE, 't1');
    const sessionResolved = resolver.session(ALICE);
    const token = connect(tokenResolved);
    const session = connect(sessionResolved);
    const bob = connect(resolver.session(BOB));

    // A new role: both still authenticate, with it.
    resolver.set(sessionResolved, principal(ALICE, 'session', null, Role.ADMIN));
    const before = resolver.rechecks();
    watcher.onMessage({ kind: 'USER_UPDATED', userId: ALICE });
    expect(resolver.rechecks() - before).toBe(2);
    expect(session.watch.principal.role).toBe(Role.ADMIN);
    await afterGrace();
    expect([token.ends, session.ends]).toEqual([[], []]);

    // The token no longer authenticates (its re-check fails): it alone ends.
    resolver.set(tokenResolved, null);
    watcher.onMessage({ kind: 'USER_UPDATED', userId: ALICE });
    await afterGrace();
    expect(token.ends).toEqual(['credential no longer valid']);
    expect(session.ends).toEqual([]);
    expect(bob.ends).toEqual([]);

    // A change to Bob re-checks none of Alice's.
    const unrelated = resolver.rechecks();
    watcher.onMessage({ kind: 'USER_UPDATED', userId: BOB });
    expect(resolver.rechecks() - unrelated).toBe(1);
  });

  it('is not ended by a replayed event from before the credential was issued; one from since still ends it', async () => {
    const resolver = fakeResolver();
    const { watcher, connect } = watcherWith(resolver);
    // Tokens disabled, then enabled again, before the token was generated (2026-01-01T00:00:00.000Z).
    const disabled = { id: '7', kind: 'ACCESS_DISABLED', userId: ALICE, tokenId: null, occurredAt: '2025-12-31T23:59:59.999Z' };
    const enabled = { ...disabled, id: '8', kind: 'ACCESS_ENABLED' };
    const t1 = connect(resolver.token(ALICE, 't1'));

    expect(await t1.watch.admits(disabled)).toBe(true);
    expect(await t1.watch.admits(enabled)).toBe(true);
    await afterGrace();
    expect(t1.ends).toEqual([]);
    expect(await t1.watch.current()).not.toBeNull();
    // The same old event heard live (late, from the log) does not end it either.
    watcher.onMessage(disabled);
    await afterGrace();
    expect(t1.ends).toEqual([]);

    // From the token's own millisecond on, the disabling is its end: delivered, then the connection ends.
    expect(await t1.watch.admits({ ...disabled, id: '9', occurredAt: '2026-01-01T00:00:00.000Z' })).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(t1.ends).toEqual(['API token no longer valid']);
    expect(await t1.watch.admits({ ...enabled, id: '10' })).toBe(false);

    // An old event reaches only a live credential.
    const t2Resolved = resolver.token(ALICE, 't2');
    const t2 = connect(t2Resolved);
    resolver.set(t2Resolved, null);
    expect(await t2.watch.admits(disabled)).toBe(false);
    await vi.advanceTimersByTimeAsync(0);
    expect(t2.ends).toEqual(['credential no longer valid']);

    // Heard live, an event with no time, or one after the token's creation, ends it.
    const t3 = connect(resolver.token(ALICE, 't3'));
    watcher.onMessage({ kind: 'ACCESS_DISABLED', userId: ALICE, tokenId: null });
    const t4 = connect(resolver.token(ALICE, 't4'));
    watcher.onMessage({ ...disabled, occurredAt: '2026-01-01T00:00:00.001Z' });
    await afterGrace();
    expect([t3.ends, t4.ends]).toEqual([['access disabled'], ['access disabled']]);
  });

  it("ends a token on its own REVOKED whatever the event's time, and a session from the second of its iat on", async () => {
    const resolver = fakeResolver();
    const { connect } = watcherWith(resolver);
    const token = connect(resolver.token(ALICE, 't1'));
    // Stamped by another instance whose clock is behind: it still names this very token.
    expect(
      await token.watch.admits({ id: '3', kind: 'REVOKED', userId: ALICE, tokenId: 't1', occurredAt: '2025-12-01T00:00:00.000Z' }),
    ).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(token.ends).toEqual(['API token no longer valid']);

    const iat = Date.parse('2026-01-01T00:00:10.000Z') / 1000;
    const before = connect(resolver.session(ALICE, iat));
    const sameSecond = connect(resolver.session(BOB, iat));
    const deactivated = (userId: string, occurredAt: string) => ({ id: '4', kind: 'USER_DEACTIVATED', userId, tokenId: null, occurredAt });
    expect(await before.watch.admits(deactivated(ALICE, '2026-01-01T00:00:09.999Z'))).toBe(true);
    // `iat` has whole seconds: a deactivation within that second may have come after the session was issued.
    expect(await sameSecond.watch.admits(deactivated(BOB, '2026-01-01T00:00:10.500Z'))).toBe(true);
    await afterGrace();
    expect(before.ends).toEqual([]);
    expect(sameSecond.ends).toEqual(['API token no longer valid']);
  });

  it('tells a credential its final event from the event itself, whatever fields the client selected', async () => {
    const revoked = { id: '41', kind: 'REVOKED', userId: ALICE, tokenId: 't1', occurredAt: '2026-01-05T00:00:00.000Z' };
    const results = await Promise.all(
      ['{ events { id } }', '{ events { occurredAt } }', '{ events { id kind tokenId } }'].map((fields) => deliver(revoked, fields)),
    );
    expect(results.map((result) => result.data)).toEqual([
      { events: { id: '41' } },
      { events: { occurredAt: '2026-01-05T00:00:00.000Z' } },
      { events: { id: '41', kind: 'REVOKED', tokenId: 't1' } },
    ]);

    const resolver = fakeResolver();
    const { connect } = watcherWith(resolver);
    const t1 = resolver.token(ALICE, 't1');
    for (const result of results) {
      // One socket of the revoked token per selection, and one of the user's other token.
      const own = connect(t1);
      const other = connect(resolver.token(ALICE, 't2'));
      // The final event goes through; the connection ends right after it, without waiting for the grace.
      expect(await own.watch.admits(sourceEventOf(result))).toBe(true);
      expect(await other.watch.admits(sourceEventOf(result))).toBe(true);
      await vi.advanceTimersByTimeAsync(0);
      expect(own.ends).toEqual(['API token no longer valid']);
      expect(other.ends).toEqual([]);
      // Nothing after the final event reaches it.
      expect(await own.watch.admits({ ...revoked, id: '42', kind: 'GENERATED', tokenId: 't3' })).toBe(false);
      expect(await own.watch.current()).toBeNull();
    }
  });
});

/** An event as a subscription delivers it with the client's `fields`, executed as the websocket server executes it. */
async function deliver(event: object, fields: string): Promise<ExecutionResult> {
  const Event = new GraphQLObjectType({
    name: 'Event',
    fields: { id: { type: GraphQLID }, kind: { type: GraphQLString }, tokenId: { type: GraphQLID }, occurredAt: { type: GraphQLString } },
  });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        events: {
          type: Event,
          subscribe: async function* () {
            yield event;
          },
          resolve: (source: object) => source,
        },
      },
    }),
  });
  const stream = await sharedExecution().subscribe({ schema, document: parse(`subscription ${fields}`) });
  if (!(Symbol.asyncIterator in stream)) throw new Error('not a stream');
  const { value } = await stream.next();
  await stream.return?.();
  return value as ExecutionResult;
}
