import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import type { TokenEventHub } from '../../src/events/event-hub.js';
import { toHubMessage, type HubMessage, type TokenEventMessage } from '../../src/events/token-event.js';
import { TokenEventService } from '../../src/events/token-event.service.js';
import { generateToken, userId } from '../admin/admin-helpers.js';
import { REGENERATE } from '../limits/rate-limit-helpers.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** A hub the test drives: it delivers what the test hands it, and is healthy when the test says so. */
class ManualHub implements TokenEventHub {
  up = true;
  private readonly listeners = new Map<string, Set<(message: HubMessage) => void>>();
  private readonly resyncWatchers: (() => void)[] = [];

  publish(): Promise<void> {
    return Promise.resolve();
  }
  listen(user: string, listener: (message: HubMessage) => void) {
    const listeners = this.listeners.get(user) ?? new Set();
    this.listeners.set(user, listeners.add(listener));
    return { ready: Promise.resolve(), stop: () => void listeners.delete(listener) };
  }
  receive(message: HubMessage): void {
    this.deliver(message);
  }
  delivered(): boolean {
    return false;
  }
  memberSince(): number {
    return -Infinity;
  }
  onMessage(): void {}
  onResync(watcher: () => void): void {
    this.resyncWatchers.push(watcher);
  }
  healthy(): boolean {
    return this.up;
  }
  ready(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  deliver(message: HubMessage): void {
    for (const listener of this.listeners.get(message.userId) ?? []) listener(message);
  }
  /** The link is back after an outage: every stream catches up from the store. */
  resync(): void {
    this.up = true;
    for (const watcher of this.resyncWatchers) watcher();
  }
}

/**
 * A stream opened without `after` starts now: events stored before it opened
 * are history it never gets, not even when a catch-up after a hub outage reads
 * the store. The first of a user's streams reads where "now" is; the next ones
 * take it from what the open streams heard on the hub, unless the hub is down.
 */
describe('where a stream without `after` starts', () => {
  let t: TestApp;
  let alice: string;
  let hub: ManualHub;
  let service: TokenEventService;
  const streams: AsyncIterableIterator<TokenEventMessage>[] = [];

  /** Makes token events for Alice; returns them as the hub would carry them, oldest first. */
  async function tokenEvents(): Promise<HubMessage[]> {
    const before = await newestId();
    const regenerated = await t.gql(REGENERATE, { auth: await t.session('alice@example.com') });
    expect(regenerated.body.errors).toBeUndefined();
    const rows = await t.running.orm.em.fork().find(AuditEvent, { subjectUserId: alice, id: { $gt: before } }, { orderBy: { id: 'asc' } });
    expect(rows.length).toBeGreaterThan(0);
    return rows.map((row) => toHubMessage(row, alice));
  }
  async function newestId(): Promise<number> {
    const [row] = await t.running.orm.em.fork().find(AuditEvent, { subjectUserId: alice }, { orderBy: { id: 'desc' }, limit: 1 });
    return row?.id ?? 0;
  }
  async function open(): Promise<AsyncIterableIterator<TokenEventMessage>> {
    const stream = await service.stream(alice, null);
    streams.push(stream);
    return stream;
  }

  beforeAll(async () => {
    t = await startTestApp({}, { autoSweep: false });
    alice = await userId(t, 'alice@example.com');
    hub = new ManualHub();
    service = new TokenEventService(t.running.orm, hub);
    await generateToken(t, 'alice@example.com');
  });
  afterAll(async () => {
    for (const stream of streams) await stream.return?.();
    await t.stop();
  });

  it('a second stream starts after the newest event the first one heard, and a catch-up replays nothing older', async () => {
    const first = await open();
    const heard = await tokenEvents();
    for (const message of heard) hub.deliver(message);
    expect((await first.next()).value).toMatchObject({ id: heard[0]?.id });

    const second = await open();
    hub.resync();
    const later = await tokenEvents();
    for (const message of later) hub.deliver(message);
    expect((await second.next()).value).toMatchObject({ id: later[0]?.id });
  });

  it('while the hub is down, a new stream reads where now is from the store', async () => {
    // Opened after the last resync: the user's newest event is known again, from this stream's read.
    await open();
    hub.up = false;
    // Stored while the hub is down: nobody hears of it, and the next stream opens after it.
    const missed = await tokenEvents();
    const third = await open();
    hub.resync();
    const later = await tokenEvents();
    for (const message of later) hub.deliver(message);
    const first = (await third.next()).value as TokenEventMessage;
    expect(Number(first.id)).toBeGreaterThan(Number(missed.at(-1)?.id));
    expect(first).toMatchObject({ id: later[0]?.id });
  });
});
