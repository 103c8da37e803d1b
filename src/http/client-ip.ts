import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
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

/** The longest text form of an IP address (IPv6 with an IPv4 tail); the columns that keep one hold this many. */
const MAX_ADDRESS_LENGTH = 45;

/**
 * `address` if it is an IP address, else null. Behind a trusted proxy the
 * client address comes from `X-Forwarded-For`, which the caller writes: text
 * that is no address must not be stored or shown as one, and on PostgreSQL
 * text longer than its column fails the whole statement it is in.
 */
export function ipAddressOrNull(address: string | null | undefined): string | null {
  return address != null && address.length <= MAX_ADDRESS_LENGTH && isIP(address) !== 0 ? address : null;
}
