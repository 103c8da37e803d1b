import WebSocket from 'ws';

export interface WsMessage {
  readonly id?: string;
  readonly type: string;
  readonly payload?: unknown;
}

/** A graphql-ws socket driven by hand: for frames a well-behaved client would never send. */
export interface RawSocket {
  readonly socket: WebSocket;
  /** Every message received so far. */
  readonly received: WsMessage[];
  send(message: unknown): void;
  /** The first message (from now on or already received) that matches; bounded by a timeout. */
  waitFor(match: (message: WsMessage) => boolean, timeoutMs?: number): Promise<WsMessage>;
  /** Resolves with the close code. */
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

/** Opens a socket on the graphql-ws protocol; with `auth`, also sends connection_init and waits for the ack. */
export async function rawSocket(httpUrl: string, auth?: string | null): Promise<RawSocket> {
  const socket = new WebSocket(httpUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const received: WsMessage[] = [];
  const waiters = new Set<() => void>();
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => {
      resolve({ code, reason: String(reason) });
      for (const wake of waiters) wake();
    }),
  );
  socket.on('message', (data) => {
    received.push(JSON.parse(String(data)) as WsMessage);
    for (const wake of waiters) wake();
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const raw: RawSocket = {
    socket,
    received,
    closed,
    send: (message) => socket.send(typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message)),
    async waitFor(match, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = received.find(match);
        if (found) return found;
        if (socket.readyState === socket.CLOSED || Date.now() > deadline) {
          throw new Error(`no matching message; received ${JSON.stringify(received).slice(0, 500)}`);
        }
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
          setTimeout(wake, 100);
        });
      }
    },
    async close() {
      if (socket.readyState !== socket.CLOSED) socket.close();
      await closed;
    },
  };
  if (auth !== undefined) {
    raw.send({ type: 'connection_init', payload: auth === null ? {} : { authorization: `Bearer ${auth}` } });
    await raw.waitFor((m) => m.type === 'connection_ack');
  }
  return raw;
}

/** Subscribes (or runs a query) with `id` and returns the first `next` or `error` for it. */
export async function firstAnswer(raw: RawSocket, id: string, query: string, variables?: Record<string, unknown>): Promise<WsMessage> {
  raw.send({ id, type: 'subscribe', payload: { query, ...(variables ? { variables } : {}) } });
  return raw.waitFor((m) => m.id === id && (m.type === 'next' || m.type === 'error'));
}

/** The `extensions.code`s of an `error` message's payload. */
export function codes(message: WsMessage): unknown[] {
  return Array.isArray(message.payload) ? message.payload.map((e: { extensions?: { code?: unknown } }) => e.extensions?.code) : [];
}
