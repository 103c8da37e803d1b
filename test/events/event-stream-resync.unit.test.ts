import type { MikroORM } from '@mikro-orm/core';
import { describe, expect, it } from 'vitest';
import type { TokenEventHub } from '../../src/events/event-hub.js';
import { TokenEventService } from '../../src/events/token-event.service.js';
import type { HubMessage, TokenEventMessage } from '../../src/events/token-event.js';

const USER = '00000000-0000-4000-8000-000000000002';

/** A hub the test drives: it delivers messages and announces a resync by hand. */
function manualHub() {
  const listeners = new Set<(event: HubMessage) => void>();
  const resyncs: (() => void)[] = [];
  const hub: TokenEventHub = {
    publish: async (events) => events.forEach((event) => listeners.forEach((listener) => listener(event))),
    listen: (_userId, listener) => {
      listeners.add(listener);
      return { ready: Promise.resolve(), stop: () => listeners.delete(listener) };
    },
    receive: (event) => listeners.forEach((listener) => listener(event)),
    delivered: () => false,
    memberSince: () => -Infinity,
    onMessage: () => undefined,
    onResync: (watcher) => void resyncs.push(watcher),
    healthy: () => true,
    ready: () => Promise.resolve(),
    close: async () => undefined,
  };
  return { hub, resync: () => resyncs.forEach((watcher) => watcher()) };
}

/** Audit rows as the replay query would return them; `failing` makes every query throw. */
function auditStore(rows: { id: number; action: string }[]) {
  let failing = false;
  const orm = {
    em: {
      fork: () => ({
        find: async (_entity: unknown, where: { id?: { $gt: number } }, options: { orderBy: { id: string } }) => {
          if (failing) throw new Error('database unreachable');
          const after = where.id?.$gt ?? 0;
          const found = rows.filter((row) => row.id > after);
          return options.orderBy.id === 'desc' ? found.reverse().slice(0, 1) : found;
        },
      }),
    },
  } as unknown as MikroORM;
  return { orm, fail: () => (failing = true) };
}

function row(id: number) {
  return {
    id,
    action: 'REVOKED',
    subjectUserId: USER,
    tokenId: 't',
    occurredAt: new Date('2026-01-01T00:00:00.000Z'),
    tokenExpiresAt: null,
    daysLeft: null,
    threshold: null,
    actorLabel: 'system',
  };
}

describe('token event streams after a hub outage', () => {
  it('replay what was published while the hub was down, and only that', async () => {
    const rows = [row(1), row(2)];
    const { hub, resync } = manualHub();
    const service = new TokenEventService(auditStore(rows).orm, hub);
    const stream = await service.stream(USER, null);
    rows.push(row(3)); // committed and published while Redis was down: never delivered live
    resync();
    const next = await stream.next();
    expect((next.value as TokenEventMessage | undefined)?.id).toBe('3');
    await stream.return?.();
  });

  it('end the subscription when the catch-up fails, so the client resubscribes with `after`', async () => {
    const store = auditStore([row(1)]);
    const { hub, resync } = manualHub();
    const stream = await new TokenEventService(store.orm, hub).stream(USER, null);
    store.fail();
    resync();
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });
});
