import type { Server } from 'node:http';
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws';
import type { ExecutionResult, GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { IncomingMessage } from 'node:http';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { TokenEventHub, Listening } from '../events/event-hub.js';
import { AppError } from '../errors.js';
import type { GraphQLContext, Services } from '../auth/context.js';
import type { RateLimits } from './rate-limits.js';
import { formatGraphQLError } from './errors.js';
import { checkOperation } from './operation-limits.js';
import { SubscriptionLimits } from './socket-limits.js';
import { credentialInUrl } from './url-secrets.js';
import { isClientMessage } from './ws-messages.js';

export interface WebSocketOptions {
  readonly server: Server;
  readonly schema: GraphQLSchema;
  readonly authenticator: Authenticator;
  readonly services: Services;
  readonly hub: TokenEventHub;
  readonly logger: Logger;
  /** Failed `connection_init` credentials count against the client IP, as failed bearer tokens do over HTTP. */
  readonly limits: RateLimits;
  /** The client address of the upgrade request, by the same proxy rule as HTTP. */
  readonly clientIp: (request: IncomingMessage) => string;
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
   * How long a token-authenticated socket stays open after its token died,
   * for the event to reach an open subscription first.
   * @default 500
   */
  readonly closeGraceMs?: number;
  /**
   * Ping interval; a client that does not answer within it is dropped.
   * @default 12_000
   */
  readonly keepAliveMs?: number;
}

interface SocketExtra {
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
  principal?: Principal;
  watch?: Listening;
  untrack?: () => void;
  [key: PropertyKey]: unknown;
}

/**
 * Events after which a socket must not stay open: its user's deactivation for
 * any socket; for one opened with an API token, also that token's end.
 */
function endsAccess(event: { kind?: unknown; tokenId?: unknown }, principal: Principal): boolean {
  if (event.kind === 'USER_DEACTIVATED') return true;
  if (principal.via !== 'token') return false;
  if (event.kind === 'ACCESS_DISABLED') return true;
  return (event.kind === 'REVOKED' || event.kind === 'EXPIRED') && event.tokenId === principal.tokenId;
}

/** Whether a result about to be sent carries an event that ends this socket's access. */
function carriesEnd(result: ExecutionResult, principal: Principal): boolean {
  return Object.values(result.data ?? {}).some(
    (value) => typeof value === 'object' && value !== null && endsAccess(value, principal),
  );
}

function closeForbidden(socket: WebSocket, reason: string): void {
  if (socket.readyState === socket.OPEN) socket.close(CloseCode.Forbidden, reason);
}

/** Close code for a client over a rate limit, after HTTP's 429 (graphql-ws uses 44xx for such codes). */
export const CLOSE_RATE_LIMITED = 4429;

/** Closes with 4429 and tells graphql-ws not to go on (its own 4403 then finds the socket closing). */
function closeRateLimited(socket: WebSocket): false {
  if (socket.readyState === socket.OPEN) socket.close(CLOSE_RATE_LIMITED, 'Too many failed authentications');
  return false;
}

/**
 * graphql-ws on the HTTP server's own port and `/graphql` path. The socket
 * authenticates once, in `connection_init`; so a socket opened with an API
 * token is closed (4403) when that token is revoked, expires or its user
 * loses API access, and every socket of a deactivated user is closed, on
 * whichever instance that happened.
 */
export function createWebSocketServer(options: WebSocketOptions): {
  close(): Promise<void>;
  /** Open sockets and their live subscriptions, read by the metrics at scrape time. */
  stats(): { sockets: number; subscriptions: number };
} {
  const {
    server,
    schema,
    authenticator,
    services,
    hub,
    logger,
    limits,
    clientIp,
    connectionInitWaitTimeout = 3_000,
    maxPayload = 64 * 1024,
    closeGraceMs = 500,
    keepAliveMs = 12_000,
  } = options;
  // The same operation limits as over HTTP, and a cap on what runs at once.
  const operationLimits = services.config.operationLimits;
  const subscriptionLimits = new SubscriptionLimits(services.config.websocket);
  const formatError = formatGraphQLError(logger, operationLimits);
  const wss = new WebSocketServer({
    server,
    path: '/graphql',
    maxPayload,
    handleProtocols,
    // Credentials go in connection_init; one in the URL is refused before the socket opens.
    verifyClient: ({ req }, done) =>
      credentialInUrl(req.url ?? '') === null ? done(true) : done(false, 400, 'Send the credential in connection_init, not in the URL'),
  });
  const acknowledged = new Set<{ readonly subscriptions: Record<string, unknown> }>();

  /** A bad credential is null (close 4403); anything else, such as the database down, is thrown (4500). */
  const authenticate = (credential: string): Promise<Principal | null> =>
    authenticator.authenticate(credential).catch((error: unknown) => {
      if (error instanceof AppError) return null;
      throw error;
    });

  const protocol = makeServer<Record<string, unknown>, SocketExtra>({
    schema,
    connectionInitWaitTimeout,
    // graphql-ws would parse and validate on its own, without limits, and throw (4500) on a syntax
    // error: parse and validate here, with the limits HTTP applies, and answer refusals with `error`.
    onSubscribe: (ctx, _id, payload) => {
      const refusal = ctx.extra.principal ? subscriptionLimits.refusal(ctx.extra.principal.userId, ctx) : null;
      if (refusal) return [refusal];
      const { document, errors } = checkOperation(operationLimits, schema, payload.query);
      if (errors) return errors;
      return {
        schema,
        document,
        operationName: payload.operationName ?? null,
        variableValues: payload.variables ?? null,
        hideSuggestions: operationLimits.hideSuggestions,
      };
    },
    context: (ctx): GraphQLContext => ({ principal: ctx.extra.principal ?? null, services }),
    onConnect: async (ctx) => {
      const authorization = ctx.connectionParams?.['authorization'];
      const credential = typeof authorization === 'string' ? authorization : '';
      const ip = clientIp(ctx.extra.request);
      // An address over its failed-authentication budget is turned away before any lookup.
      if (limits.authBlocked(ip) !== null) return closeRateLimited(ctx.extra.socket);
      const principal = await authenticate(credential);
      if (!principal) {
        const verdict = credential.trim() === '' ? null : await limits.authFailed(ip);
        return verdict?.allowed === false ? closeRateLimited(ctx.extra.socket) : false;
      }
      ctx.extra.principal = principal;
      ctx.extra.untrack = subscriptionLimits.track(principal.userId, ctx);
      const socket = ctx.extra.socket;
      ctx.extra.watch = hub.listen(principal.userId, (event) => {
        if (endsAccess(event, principal)) {
          setTimeout(() => closeForbidden(socket, event.kind.toLowerCase().replace('_', ' ')), closeGraceMs).unref();
        }
      });
      await ctx.extra.watch.ready;
      // A revocation or deactivation that landed between the first check and
      // the listener would never reach this socket: check once more.
      const stillValid = (await authenticate(credential)) !== null;
      if (stillValid) acknowledged.add(ctx);
      return stillValid;
    },
    onNext: (ctx, _id, _payload, _args, result) => {
      const { principal, socket } = ctx.extra;
      // Close right after this message is on the wire, not after the grace period.
      if (principal && carriesEnd(result as ExecutionResult, principal)) {
        setImmediate(() => closeForbidden(socket, 'API token no longer valid'));
      }
      // Apollo masks and logs internal errors over HTTP; graphql-ws would send them as they are.
      return result.errors ? { ...result, errors: result.errors.map((error) => formatError(error.toJSON(), error)) } : undefined;
    },
    // Refusals (ours carry a code) and a stream that failed midway (an internal error: masked and logged).
    onError: (_ctx, _id, _payload, errors) =>
      errors.map((error) =>
        error.originalError || error.extensions['code'] !== undefined
          ? formatError(error.toJSON(), error)
          : // graphql-ws's own refusal, "Unable to identify operation": a client's mistake, coded as Apollo codes it.
            { ...error.toJSON(), extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } },
      ),
    onClose: (ctx) => {
      ctx.extra.watch?.stop();
      ctx.extra.untrack?.();
      acknowledged.delete(ctx);
    },
  });

  // graphql-ws's own `use/ws` adapter, with client mistakes (an oversized
  // message, a dropped link) logged through our logger instead of console.
  wss.on('connection', (socket, request) => {
    socket.once('error', (error) => {
      logger.debug({ err: error }, 'websocket client error');
      if (socket.readyState === socket.OPEN) socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
    let alive = true;
    socket.on('pong', () => (alive = true));
    const ping = setInterval(() => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, keepAliveMs);
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
            const text = String(data);
            // graphql-ws throws on a message only a server may send (`next`, `error`, ...), which would
            // read as our failure (4500); it is the client's, as graphql-ws's own check of a frame is.
            if (!isClientMessage(text)) return socket.close(CloseCode.BadRequest, 'Invalid message received');
            handle(text).catch((error: unknown) => {
              logger.error({ err: error }, 'graphql-ws message handling failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => {
      clearInterval(ping);
      void closed(code, String(reason));
    });
  });
  wss.on('error', (error) => logger.error({ err: error }, 'websocket server error'));

  return {
    stats: () => ({
      sockets: wss.clients.size,
      subscriptions: [...acknowledged].reduce((sum, ctx) => sum + Object.keys(ctx.subscriptions).length, 0),
    }),
    async close() {
      for (const client of wss.clients) client.close(1001, 'Going away');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
