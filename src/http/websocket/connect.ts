import type { WebSocket } from 'ws';
import { CLOSE_CODES } from '../../close-codes.js';
import type { SubscriptionLimits } from '../socket-limits.js';
import type { SocketCounts } from '../socket-guards.js';
import type { ProtocolDeps } from './protocol.js';
import { closeForbidden, type ProtocolOptions } from './socket-extra.js';

/** What `connection_init` needs: the protocol's own dependencies, and the counts the protocol keeps. */
export interface ConnectOptions extends Pick<ProtocolDeps, 'principals' | 'watcher' | 'hub' | 'limits' | 'onAuthentication'> {
  readonly userSockets: SocketCounts;
  readonly subscriptionLimits: SubscriptionLimits;
  /** Sockets past `connection_ack`, whose subscriptions the stats count. */
  readonly acknowledged: Set<{ readonly subscriptions: Record<string, unknown> }>;
}

/**
 * Closes an address over its failed-authentication budget, and tells graphql-ws
 * not to go on (its own FORBIDDEN then finds the socket closing). The code is
 * the service's own, not graphql-ws's `TooManyInitialisationRequests`, which
 * its client treats as fatal.
 */
function closeRateLimited(socket: WebSocket): false {
  if (socket.readyState === socket.OPEN) socket.close(CLOSE_CODES.TOO_MANY_FAILED_AUTHENTICATIONS, 'Too many failed authentications');
  return false;
}

/**
 * graphql-ws's `onConnect`: authenticates `connection_init`'s credential,
 * counts the socket against its user, and has the credential watcher watch
 * it, ending the socket (FORBIDDEN) when the watcher says so.
 */
export function onConnect(options: ConnectOptions): NonNullable<ProtocolOptions['onConnect']> {
  const { principals, watcher, hub, limits, userSockets, subscriptionLimits, acknowledged } = options;
  return async (ctx) => {
    const authorization = ctx.connectionParams?.['authorization'];
    const credential = typeof authorization === 'string' ? authorization : '';
    const { ip } = ctx.extra;
    // An address over its failed-authentication budget still gets in with a credential
    // that verifies; a made-up token from it is refused without a database read.
    const blocked = limits.authBlocked(ip) !== null;
    const answer = credential.trim() === '' ? null : await principals.verify(credential, { lookupUnknown: !blocked, address: ip });
    options.onAuthentication?.(credential, answer?.outcome ?? null);
    const resolved = answer?.outcome === 'OK' ? answer.value : null;
    if (!resolved) {
      if (credential.trim() === '') return false;
      const verdict = await limits.authFailed(ip);
      return blocked || !verdict.allowed ? closeRateLimited(ctx.extra.socket) : false;
    }
    const { socket } = ctx.extra;
    const releaseUser = userSockets.acquire(resolved.principal.userId);
    if (!releaseUser) {
      if (socket.readyState === socket.OPEN) socket.close(CLOSE_CODES.TOO_MANY_SOCKETS, 'Too many sockets for this user');
      return false;
    }
    ctx.extra.releaseUser = releaseUser;
    // Events must be able to reach this socket before it counts as open (INTERNAL_SERVER_ERROR otherwise).
    await hub.ready();
    const watched = watcher.watch(resolved, { end: (reason) => closeForbidden(socket, reason) });
    ctx.extra.watched = watched;
    ctx.extra.untrack = subscriptionLimits.track(resolved.principal.userId, ctx);
    // A change that landed between the first check and the registration
    // would never reach this socket: check once more.
    const alive = (await watched.current()) !== null;
    if (alive) acknowledged.add(ctx);
    // A socket has no per-message headers: the `connection_ack` payload carries what HTTP's Api-Token-Expiration says.
    const expiresAt = resolved.principal.tokenExpiresAt;
    return alive && expiresAt ? { apiTokenExpiration: expiresAt.toISOString() } : alive;
  };
}
