import type { Server } from 'node:http';
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws';
import { specifiedRules, validate, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { PrincipalResolver } from '../auth/principal-resolver.js';
import type { Clock } from '../clock.js';
import type { TokenEventHub } from '../events/event-hub.js';
import { endsCredential } from '../events/event-rules.js';
import { UnauthenticatedError } from '../errors.js';
import type { GraphQLContext, Services } from '../auth/context.js';
import { fieldLimitRule } from './field-limit.js';
import { sharedExecution } from './shared-execution.js';
import { SocketRegistry, type SocketAuthority } from './socket-registry.js';

export interface WebSocketOptions {
  readonly server: Server;
  readonly schema: GraphQLSchema;
  readonly principals: PrincipalResolver;
  readonly services: Services;
  readonly hub: TokenEventHub;
  readonly clock: Clock;
  readonly logger: Logger;
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
}

interface SocketExtra {
  readonly socket: WebSocket;
  authority?: SocketAuthority;
  [key: PropertyKey]: unknown;
}

/** The token event a result carries, if any. */
function eventIn(result: ExecutionResult): { kind: string; tokenId?: string | null } | null {
  for (const value of Object.values(result.data ?? {})) {
    if (typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string') {
      return value as { kind: string; tokenId?: string | null };
    }
  }
  return null;
}

function closeForbidden(socket: WebSocket, reason: string): void {
  if (socket.readyState === socket.OPEN) socket.close(CloseCode.Forbidden, reason);
}

/**
 * graphql-ws on the HTTP server's own port and `/graphql` path. A socket
 * authenticates in `connection_init`, and then every operation and every
 * event delivered re-resolves that credential through the principal resolver,
 * so a demoted user, a revoked or expired token or a deactivated user loses
 * access at the next message; sockets whose credential died are closed (4403),
 * on whichever instance it happened.
 */
export function createWebSocketServer(options: WebSocketOptions): { close(): Promise<void> } {
  const {
    server,
    schema,
    principals,
    services,
    hub,
    clock,
    logger,
    connectionInitWaitTimeout = 3_000,
    maxPayload = 64 * 1024,
    closeGraceMs = 500,
    keepAliveMs = 12_000,
    outageRecheckMs = 5_000,
  } = options;
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload, handleProtocols });
  const onError = (error: unknown) => logger.error({ err: error }, 'could not re-check a socket credential');
  const registry = new SocketRegistry({ principals, clock, closeGraceMs, onError });
  hub.onMessage((message) => registry.onMessage(message));
  hub.onResync(() => registry.recheckAll());

  /** Resolves the socket's credential for an operation; refuses (and closes) a dead one. */
  const authorize = async (extra: SocketExtra) => {
    const { authority } = extra;
    if (authority && (await registry.current(authority))) return undefined;
    return [new UnauthenticatedError('The credential of this connection is no longer valid.')];
  };

  // graphql-ws validates on its own: the same limits as HTTP must apply here.
  const shared = sharedExecution((schemaToCheck, document) =>
    validate(schemaToCheck, document, [...specifiedRules, fieldLimitRule()]),
  );

  const protocol = makeServer<Record<string, unknown>, SocketExtra>({
    schema,
    connectionInitWaitTimeout,
    parse: shared.parse,
    validate: shared.validate,
    subscribe: shared.subscribe,
    // `onSubscribe` has just resolved the principal for this very operation.
    context: (ctx): GraphQLContext => ({ principal: ctx.extra.authority?.principal ?? null, services }),
    onConnect: async (ctx) => {
      const authorization = ctx.connectionParams?.['authorization'];
      if (typeof authorization !== 'string') return false;
      const resolved = await principals.resolve(authorization);
      if (!resolved) return false;
      // Events must be able to reach this socket before it counts as open (4500 otherwise).
      await hub.ready();
      const { socket } = ctx.extra;
      const authority: SocketAuthority = {
        credential: resolved.credential,
        principal: resolved.principal,
        dead: false,
        expiryTimer: null,
        close: (reason) => closeForbidden(socket, reason),
      };
      ctx.extra.authority = authority;
      registry.add(authority, resolved);
      // A change that landed between the first check and the registration
      // would never reach this socket: check once more.
      return (await registry.current(authority)) !== null;
    },
    onSubscribe: (ctx) => authorize(ctx.extra),
    onNext: async (ctx, _id, _payload, _args, result) => {
      const { authority } = ctx.extra;
      if (!authority) return;
      const event = eventIn(result as ExecutionResult);
      // The event that ends this credential is the socket's last message: deliver it, then close.
      if (event && endsCredential(event, authority.principal)) {
        registry.kill(authority, 'API token no longer valid', 0);
        return;
      }
      // Anything else reaches only a live credential; closing first makes the send a no-op.
      if (!(await registry.current(authority))) closeForbidden(ctx.extra.socket, 'credential no longer valid');
    },
    onClose: (ctx) => {
      if (ctx.extra.authority) registry.remove(ctx.extra.authority);
    },
  });

  // One timer for every socket's keep-alive, and one for re-checks while the hub is down.
  const unanswered = new WeakSet<WebSocket>();
  /** Answers pongs for every socket with one function instead of a closure each. */
  function markAlive(this: WebSocket): void {
    unanswered.delete(this);
  }
  const keepAlive = setInterval(() => {
    for (const socket of wss.clients) {
      if (unanswered.has(socket)) {
        socket.terminate();
        continue;
      }
      unanswered.add(socket);
      socket.ping();
    }
  }, keepAliveMs);
  keepAlive.unref();
  const outageRecheck = setInterval(() => {
    if (!hub.healthy()) registry.recheckAll();
  }, outageRecheckMs);
  outageRecheck.unref();

  // graphql-ws's own `use/ws` adapter, with client mistakes (an oversized
  // message, a dropped link) logged through our logger instead of console.
  // The upgrade request is not kept: nothing needs it after the handshake, and
  // holding it cost every socket its headers and parser state.
  wss.on('connection', (socket) => {
    socket.once('error', (error) => {
      logger.debug({ err: error }, 'websocket client error');
      if (socket.readyState === socket.OPEN) socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
    socket.on('pong', markAlive);
    const closed = protocol.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) => {
            handle(String(data)).catch((error: unknown) => {
              logger.error({ err: error }, 'graphql-ws message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      { socket },
    );
    socket.once('close', (code, reason) => void closed(code, String(reason)));
  });
  wss.on('error', (error) => logger.error({ err: error }, 'websocket server error'));

  return {
    async close() {
      clearInterval(keepAlive);
      clearInterval(outageRecheck);
      for (const client of wss.clients) client.close(1001, 'Going away');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
