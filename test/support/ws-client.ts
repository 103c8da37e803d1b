import type { MikroORM } from '@mikro-orm/core';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import type { TestApp } from './test-app.js';

export interface Received<T> {
  /** Every payload received so far, in order. */
  readonly items: T[];
  /** Waits until at least `count` payloads arrived (bounded), and returns them. */
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
  /** Resolves with the socket's close code. */
  readonly closed: Promise<number>;
  /** Resolves once the server acknowledged connection_init (its listeners are in place). */
  readonly connected: Promise<void>;
  readonly errors: unknown[];
  dispose(): Promise<void>;
}

/**
 * A graphql-ws client that connects at once (not on first use), does not
 * retry, and tells when it connected and with which code it closed.
 * Connection failures are what some tests expect; they surface through `closed`.
 */
export function connectedClient(
  httpUrl: string,
  auth: string | null,
): { client: Client; closed: Promise<number>; connected: Promise<void> } {
  let onClosed: (code: number) => void = () => undefined;
  const closed = new Promise<number>((resolve) => (onClosed = resolve));
  let onConnected: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (onConnected = resolve));
  const client = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: auth ? { authorization: `Bearer ${auth}` } : {},
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
    on: { closed: (event) => onClosed((event as { code: number }).code), connected: () => onConnected() },
  });
  return { client, closed, connected };
}

/** A real graphql-ws client subscribed to one operation; `auth` goes in connection_init. */
export function subscribe<T = Record<string, unknown>>(
  httpUrl: string,
  auth: string | null,
  query: string,
  variables: Record<string, unknown> = {},
): Received<T> {
  const items: T[] = [];
  const errors: unknown[] = [];
  const waiters = new Set<() => void>();
  const { client, closed, connected } = connectedClient(httpUrl, auth);
  client.subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors) errors.push(...result.errors);
        if (result.data) items.push(...Object.values<T>(result.data));
        for (const wake of waiters) wake();
      },
      error: (error) => {
        errors.push(error);
        for (const wake of waiters) wake();
      },
      complete: () => undefined,
    },
  );
  return {
    items,
    errors,
    closed,
    connected,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (items.length < count && errors.length === 0 && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
          setTimeout(wake, 50);
        });
      }
      return items;
    },
    async dispose() {
      await client.dispose();
    },
  };
}

export const EVENT_FIELDS = 'id kind tokenId occurredAt expiresAt daysLeft threshold actor';

/**
 * The newest stored event id. Subscribing with `after` set to it, a test
 * receives exactly what happens next, however long the socket takes to start:
 * what happens before the live listener is in place comes by replay.
 */
export async function latestEventId(orm: MikroORM): Promise<string> {
  const [newest] = await orm.em.fork().find(AuditEvent, {}, { orderBy: { id: 'desc' }, limit: 1 });
  return String(newest?.id ?? 0);
}

/**
 * The app's live GraphQL subscriptions, as its metrics count them. A client has sent its
 * `subscribe` before the server holds it: an event committed in between never reaches it.
 */
export async function liveSubscriptions(t: TestApp): Promise<number> {
  const gauge = await t.running.metrics.registry.getSingleMetric('api_tokens_live_subscriptions')?.get();
  return gauge?.values[0]?.value ?? 0;
}
