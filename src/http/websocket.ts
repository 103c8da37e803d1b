import type { IncomingMessage, Server } from 'node:http';
import { handleProtocols } from 'graphql-ws';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { CredentialWatcher } from '../credentials/credential-watcher.js';
import type { PrincipalResolver } from '../credentials/principal-resolver.js';
import type { Clock } from '../clock.js';
import { CLOSE_CODES } from '../close-codes.js';
import type { TokenEventHub } from '../events/event-hub.js';
import type { Services } from '../context.js';
import type { CredentialOutcome } from '../credential-outcome.js';
import type { RateLimits } from './rate-limits.js';
import { credentialInUrl } from './url-secrets.js';
import { acceptConnections } from './websocket/connection.js';
import { keepAlive } from './websocket/keep-alive.js';
import { graphqlWsProtocol } from './websocket/protocol.js';

export interface WebSocketOptions {
  readonly server: Server;
  readonly schema: GraphQLSchema;
  readonly principals: PrincipalResolver;
  readonly services: Services;
  readonly hub: TokenEventHub;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Failed `connection_init` credentials count against the client IP, as failed bearer tokens do over HTTP. */
  readonly limits: RateLimits;
  /** The client address of the upgrade request, by the same proxy rule as HTTP. */
  readonly clientIp: (request: IncomingMessage) => string;
  /** Told of each `connection_init` credential check (for the `authentications` metric). */
  readonly onAuthentication?: (authorization: string, outcome: CredentialOutcome | null) => void;
  /**
   * A client that has not sent `connection_init` by then is closed.
   * @default 3_000
   */
  readonly connectionInitWaitTimeout?: number;
  /**
   * Largest accepted message, in bytes; a GraphQL subscription is small.
   * @default 64 * 1024
   */
  readonly maxPayload?: number;
  /**
   * How long a socket whose credential an event ended may stay open for that
   * event to reach its subscription. Operations are refused meanwhile.
   * @default 500
   */
  readonly closeGraceMs?: number;
  /**
   * Ping interval; a client that does not answer within it is dropped.
   * @default 12_000
   */
  readonly keepAliveMs?: number;
  /**
   * While the event hub is down, how often every socket's credential is
   * re-checked against the database, so a dead one does not wait for Redis.
   * @default 5_000
   */
  readonly outageRecheckMs?: number;
  /** Records a token's expiry when a socket's timer finds it due (see `CredentialWatcherOptions.expireToken`). */
  readonly expireToken?: (tokenId: string) => Promise<unknown>;
}

/**
 * graphql-ws on the HTTP server's own port and `/graphql` path. A socket
 * authenticates in `connection_init`, and then every operation and every
 * event delivered re-resolves that credential through the principal resolver,
 * so a demoted user, a revoked or expired token or a deactivated user loses
 * access at the next message; sockets whose credential died are closed (FORBIDDEN),
 * on whichever instance it happened.
 *
 * The parts: the credential watcher (src/credentials/credential-watcher.ts)
 * decides which sockets a change ends; the protocol (./websocket/protocol.ts,
 * ./websocket/connect.ts) runs graphql-ws's hooks and asks the watcher; the
 * connection adapter (./websocket/connection.ts) carries messages under each
 * socket's budget; the keep-alive (./websocket/keep-alive.ts) drops dead links.
 */
export function createWebSocketServer(options: WebSocketOptions): {
  close(): Promise<void>;
  /** Open sockets and their live subscriptions, read by the metrics at scrape time. */
  stats(): { sockets: number; subscriptions: number };
} {
  const { server, hub, logger, maxPayload = 64 * 1024, keepAliveMs = 12_000, outageRecheckMs = 5_000 } = options;
  const wss = new WebSocketServer({
    server,
    path: '/graphql',
    maxPayload,
    handleProtocols,
    // ws hands messages over as they are read; `MessageTurns` (src/http/socket-guards.ts) handles at
    // most one per socket and turn (ws's `allowSynchronousEvents: false`
    // would defer even the first, letting later requests overtake it).
    // Credentials go in connection_init; one in the URL is refused before the socket opens.
    verifyClient: ({ req }, done) =>
      credentialInUrl(req.url ?? '') === null ? done(true) : done(false, 400, 'Send the credential in connection_init, not in the URL'),
  });

  const watcher = new CredentialWatcher({
    principals: options.principals,
    clock: options.clock,
    closeGraceMs: options.closeGraceMs,
    expireToken: options.expireToken,
    onError: (error) => logger.error({ err: error }, 'could not re-check a socket credential'),
  });
  hub.onMessage((message) => watcher.onMessage(message));
  hub.onResync(() => watcher.recheckAll());
  // While the hub is down, changes may not arrive: re-check every socket's credential instead.
  const outageRecheck = setInterval(() => {
    if (!hub.healthy()) watcher.recheckAll();
  }, outageRecheckMs);
  outageRecheck.unref();

  const protocol = graphqlWsProtocol({
    ...options,
    watcher,
    connectionInitWaitTimeout: options.connectionInitWaitTimeout ?? 3_000,
  });
  const alive = keepAlive(wss, keepAliveMs);
  acceptConnections(wss, {
    protocol: protocol.server,
    limits: options.services.config.websocket,
    logger,
    clientIp: options.clientIp,
    markAlive: alive.markAlive,
  });

  return {
    stats: () => ({ sockets: wss.clients.size, subscriptions: protocol.subscriptions() }),
    async close() {
      alive.stop();
      clearInterval(outageRecheck);
      for (const client of wss.clients) client.close(CLOSE_CODES.GOING_AWAY, 'Going away');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
