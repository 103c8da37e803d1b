import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { Config } from '../config.js';

/**
 * The client address of a raw request (a WebSocket upgrade), by the same
 * `TRUST_PROXY` rule Fastify applies to `request.ip`, so a caller has one
 * failed-authentication budget whichever transport it uses.
 */
export function clientIpOf(trustProxy: Config['trustProxy']): (request: IncomingMessage) => string {
  if (trustProxy === false) return (request) => request.socket.remoteAddress ?? 'unknown';
  const trust = trustProxy === true ? () => true : proxyAddr.compile([...trustProxy]);
  return (request) => proxyAddr.all(request, trust).at(-1) ?? request.socket.remoteAddress ?? 'unknown';
}
