import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionLimits } from '../config.js';
import { addressKey } from './address-key.js';

const REFUSAL_BODY = JSON.stringify({
  errors: [{ message: 'Too many connections from this address.', extensions: { code: 'RATE_LIMITED' } }],
});
/** What a refused connection is told before it is closed: no request of it was read. */
const TOO_MANY_CONNECTIONS =
  'HTTP/1.1 429 Too Many Requests\r\nconnection: close\r\nretry-after: 10\r\ncontent-type: application/json; charset=utf-8\r\n' +
  `content-length: ${Buffer.byteLength(REFUSAL_BODY)}\r\n\r\n${REFUSAL_BODY}`;

/**
 * Settings for Node's HTTP server: a request, headers and body, must arrive
 * within `requestTimeout` (then 408, and the connection closes), so a body
 * trickling a byte at a time cannot hold a connection for ever. Node checks
 * for late requests every `connectionsCheckingInterval`, so that is kept
 * well under the timeout; headers must arrive within the same time.
 */
export function httpServerTimeouts(limits: ConnectionLimits): {
  requestTimeout: number;
  http: { requestTimeout: number; headersTimeout: number; connectionsCheckingInterval: number };
} {
  const requestTimeout = limits.requestTimeout.ms;
  return {
    requestTimeout,
    http: {
      requestTimeout,
      headersTimeout: Math.min(requestTimeout, 60_000),
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(requestTimeout / 4))),
    },
  };
}

/**
 * Caps the TCP connections (HTTP keep-alive and WebSockets alike) one client
 * address holds, so a few hundred slow clients from one address cannot use up
 * every connection the process can take. An IPv6 client counts per /64. Over
 * the cap, the new connection gets a 429 and is closed before any request of
 * it is read. Counted by the TCP peer: behind a proxy that is the proxy, which
 * is why the default is off when `TRUST_PROXY` is set.
 */
export function limitConnectionsPerAddress(server: Server, limits: ConnectionLimits): void {
  const max = limits.maxPerAddress;
  if (max === 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const key = addressKey(socket.remoteAddress ?? '');
    const count = (open.get(key) ?? 0) + 1;
    if (count > max) {
      socket.end(TOO_MANY_CONNECTIONS);
      return;
    }
    open.set(key, count);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left === 0) open.delete(key);
      else open.set(key, left);
    });
  });
}
