import { Client, fetchExchange, type AnyVariables, type CombinedError, type OperationResult, type TypedDocumentNode } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { EventsSource, type ApiTokenEvent } from './operations.js';
import { CLOSE_CODES } from '../../src/close-codes.js';

/** A failed operation, by `extensions.code` ('OFFLINE' when no answer came). */
export class OperationError extends Error {
  constructor(readonly code: string) {
    super(code);
    this.name = 'OperationError';
  }
}

/**
 * GraphQL over HTTP for queries and mutations. There is deliberately no
 * cache exchange: every read is fresh, and the secret in a mutation result is
 * never stored anywhere the page does not control.
 */
export class Api {
  private readonly client: Client;

  constructor(private readonly session: string) {
    this.client = new Client({
      url: '/graphql',
      exchanges: [fetchExchange],
      requestPolicy: 'network-only',
      preferGetMethod: false,
      fetchOptions: () => ({
        headers: { authorization: `Bearer ${this.session}`, accept: 'application/graphql-response+json, application/json;q=0.9' },
        cache: 'no-store',
      }),
    });
  }

  async query<Data, Variables extends AnyVariables>(document: TypedDocumentNode<Data, Variables>, variables: Variables): Promise<Data> {
    return unwrap(await this.client.query(document, variables).toPromise());
  }

  async mutate<Data, Variables extends AnyVariables>(document: TypedDocumentNode<Data, Variables>, variables: Variables): Promise<Data> {
    return unwrap(await this.client.mutation(document, variables).toPromise());
  }
}

/** The first error code of a failed operation; `OFFLINE` when no response came back. */
export function errorCode(error: CombinedError): string {
  const code = error.graphQLErrors[0]?.extensions['code'];
  if (typeof code === 'string') return code;
  if (error.networkError && (error.response === undefined || !navigator.onLine)) return 'OFFLINE';
  return 'INTERNAL_SERVER_ERROR';
}

function unwrap<Data>(result: OperationResult<Data>): Data {
  if (result.error) throw new OperationError(errorCode(result.error));
  if (!result.data) throw new OperationError('INTERNAL_SERVER_ERROR');
  return result.data;
}

export interface LiveHandlers {
  readonly onEvent: (event: ApiTokenEvent) => void;
  /** The socket is up again after a drop: what was missed has been replayed. */
  readonly onReconnected: () => void;
  readonly onDisconnected: () => void;
  /** The service refused the session (close FORBIDDEN), with the reason it gave (e.g. "user deactivated"). */
  readonly onUnauthenticated: (reason: string) => void;
}

/**
 * The caller's token events over graphql-ws. graphql-ws would resubscribe
 * after a drop with the variables of the first subscribe; this resubscribes
 * itself instead, with `after` = the last event id seen, so the service
 * replays exactly what was missed.
 */
export class LiveEvents {
  private readonly ws: WsClient;
  private lastSeenId: string | null = null;
  private stopSubscription: (() => void) | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private dropped = false;
  private stopped = false;

  constructor(
    session: string,
    private readonly handlers: LiveHandlers,
  ) {
    const url = new URL('/graphql', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    this.ws = createWsClient({
      url: url.href,
      connectionParams: { authorization: `Bearer ${session}` },
      lazy: true,
      retryAttempts: 0,
      keepAlive: 15_000,
      on: {
        connected: () => {
          this.attempt = 0;
          if (this.dropped) {
            this.dropped = false;
            this.handlers.onReconnected();
          }
        },
        closed: (event) => {
          if (this.stopped) return;
          if ((event as CloseEvent).code === CLOSE_CODES.FORBIDDEN) {
            this.stop();
            this.handlers.onUnauthenticated((event as CloseEvent).reason);
            return;
          }
          if (!this.dropped) {
            this.dropped = true;
            this.handlers.onDisconnected();
          }
        },
      },
    });
  }

  /** Subscribes; `after`, the first time: the event id the page read its state after (see `EventsCursor`). */
  start(after?: string | null): void {
    if (this.stopped) return;
    if (after !== undefined) this.lastSeenId = after;
    this.stopSubscription = this.ws.subscribe<{ apiTokenEvents: ApiTokenEvent }>(
      { query: EventsSource, variables: { after: this.lastSeenId } },
      {
        next: (result) => {
          const event = result.data?.apiTokenEvents;
          if (!event) return;
          this.lastSeenId = event.id;
          this.handlers.onEvent(event);
        },
        error: () => this.retry(),
        complete: () => this.retry(),
      },
    );
  }

  /** Backs off 1 s, 2 s, 4 s … up to 30 s between attempts. */
  private retry(): void {
    if (this.stopped) return;
    this.stopSubscription = null;
    const delay = Math.min(30_000, 1_000 * 2 ** this.attempt);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.start(), delay);
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stopSubscription?.();
    void this.ws.dispose();
  }
}
