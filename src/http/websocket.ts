import type { Server } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { handleProtocols, makeServer } from 'graphql-ws';
import type { ExecutionResult, GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { PrincipalResolver } from '../credentials/principal-resolver.js';
import type { Clock } from '../clock.js';
import { CLOSE_CODES } from '../close-codes.js';
import { andThen } from '../maybe-promise.js';
import type { TokenEventHub } from '../events/event-hub.js';
import { endsCredential } from '../audit/event-rules.js';
import { UnauthenticatedError } from '../errors.js';
import type { GraphQLContext, Services } from '../context.js';
import { formatGraphQLError } from './errors.js';
import { checkOperation } from './operation-limits.js';
import type { RateLimits } from './rate-limits.js';
import { sharedExecution, sourceEventOf } from './shared-execution.js';
import { SocketRegistry, type SocketAuthority } from './socket-registry.js';
import { SubscriptionLimits } from './socket-limits.js';
import { MessageBudget, MessageTurns, SocketCounts } from './socket-guards.js';
import { addressKey } from './address-key.js';
import { credentialInUrl } from './url-secrets.js';
import { isClientMessage } from './ws-messages.js';
import type { CredentialOutcome } from '../credential-outcome.js';

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
  /** Records a token's expiry when a socket's timer finds it due (see `SocketRegistryOptions.expireToken`). */
  readonly expireToken?: (tokenId: string) => Promise<unknown>;
}

interface SocketExtra {
  readonly socket: WebSocket;
  /** The client address, read from the upgrade request (which is not kept). */
  readonly ip: string;
  authority?: SocketAuthority;
  untrack?: () => void;
  /** Frees this socket's place among its user's (WS_MAX_SOCKETS_PER_USER). */
  releaseUser?: () => void;
  [key: PropertyKey]: unknown;
}

/** The token event a result was executed from, if any: read from the event, not from the fields the client selected. */
function eventIn(result: ExecutionResult): { kind: string; tokenId?: string | null } | null {
  const event = sourceEventOf(result) as { kind?: unknown; tokenId?: string | null } | undefined;
  return typeof event?.kind === 'string' ? { kind: event.kind, tokenId: event.tokenId ?? null } : null;
}

function closeForbidden(socket: WebSocket, reason: string): void {
  if (socket.readyState === socket.OPEN) socket.close(CLOSE_CODES.FORBIDDEN, reason);
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
 * graphql-ws on the HTTP server's own port and `/graphql` path. A socket
 * authenticates in `connection_init`, and then every operation and every
 * event delivered re-resolves that credential through the principal resolver,
 * so a demoted user, a revoked or expired token or a deactivated user loses
 * access at the next message; sockets whose credential died are closed (FORBIDDEN),
 * on whichever instance it happened.
 */
export function createWebSocketServer(options: WebSocketOptions): {
  close(): Promise<void>;
  /** Open sockets and their live subscriptions, read by the metrics at scrape time. */
  stats(): { sockets: number; subscriptions: number };
} {
  const {
    server,
    schema,
    principals,
    services,
    hub,
    clock,
    logger,
    limits,
    clientIp,
    connectionInitWaitTimeout = 3_000,
    maxPayload = 64 * 1024,
    closeGraceMs = 500,
    keepAliveMs = 12_000,
    outageRecheckMs = 5_000,
  } = options;
  // The same operation limits as over HTTP, and a cap on what runs at once.
  const operationLimits = services.config.operationLimits;
  const socketLimits = services.config.websocket;
  const subscriptionLimits = new SubscriptionLimits(socketLimits);
  const userSockets = new SocketCounts(socketLimits.maxSocketsPerUser);
  const addressSockets = new SocketCounts(socketLimits.maxSocketsPerAddress);
  const formatError = formatGraphQLError(logger, operationLimits);
  const wss = new WebSocketServer({
    server,
    path: '/graphql',
    maxPayload,
    handleProtocols,
    // ws hands messages over as they are read; `MessageTurns` below handles at
    // most one per socket and turn (ws's `allowSynchronousEvents: false`
    // would defer even the first, letting later requests overtake it).
    // Credentials go in connection_init; one in the URL is refused before the socket opens.
    verifyClient: ({ req }, done) =>
      credentialInUrl(req.url ?? '') === null ? done(true) : done(false, 400, 'Send the credential in connection_init, not in the URL'),
  });
  const acknowledged = new Set<{ readonly subscriptions: Record<string, unknown> }>();
  const onError = (error: unknown) => logger.error({ err: error }, 'could not re-check a socket credential');
  const registry = new SocketRegistry({ principals, clock, closeGraceMs, onError, expireToken: options.expireToken });
  hub.onMessage((message) => registry.onMessage(message));
  hub.onResync(() => registry.recheckAll());

  /** Resolves the socket's credential for an operation; refuses (and closes) a dead one. */
  const authorize = async (extra: SocketExtra) => {
    const { authority } = extra;
    if (authority && (await registry.current(authority))) return undefined;
    return [new UnauthenticatedError('The credential of this connection is no longer valid.')];
  };

  // One user's sockets usually send the same text: it is parsed and checked
  // once, and the one document lets an event execute once for all of them.
  const checked = new LRUCache<string, ReturnType<typeof checkOperation>>({ max: 1_000 });
  const check = (query: string) => {
    let result = checked.get(query);
    if (!result) checked.set(query, (result = checkOperation(operationLimits, schema, query)));
    return result;
  };
  const shared = sharedExecution();

  const protocol = makeServer<Record<string, unknown>, SocketExtra>({
    schema,
    connectionInitWaitTimeout,
    subscribe: (args) => shared.subscribe(args),
    // `onSubscribe` has just resolved the principal for this very operation.
    context: (ctx): GraphQLContext => ({ principal: ctx.extra.authority?.principal ?? null, services }),
    onConnect: async (ctx) => {
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
      const authority: SocketAuthority = {
        credential: resolved.credential,
        principal: resolved.principal,
        dead: false,
        expiryTimer: null,
        close: (reason) => closeForbidden(socket, reason),
      };
      ctx.extra.authority = authority;
      registry.add(authority, resolved);
      ctx.extra.untrack = subscriptionLimits.track(resolved.principal.userId, ctx);
      // A change that landed between the first check and the registration
      // would never reach this socket: check once more.
      const alive = (await registry.current(authority)) !== null;
      if (alive) acknowledged.add(ctx);
      // A socket has no per-message headers: the `connection_ack` payload carries what HTTP's Api-Token-Expiration says.
      const expiresAt = resolved.principal.tokenExpiresAt;
      return alive && expiresAt ? { apiTokenExpiration: expiresAt.toISOString() } : alive;
    },
    // graphql-ws would parse and validate on its own, without limits, and throw (INTERNAL_SERVER_ERROR) on a syntax
    // error: parse and validate here, with the limits HTTP applies, and answer refusals with `error`.
    onSubscribe: async (ctx, _id, payload) => {
      // Counted before anything is awaited: graphql-ws has entered this operation in the
      // socket's table, and operations sent together must each see the ones before them.
      const { authority } = ctx.extra;
      const overLimit = authority ? subscriptionLimits.refusal(authority.principal.userId, ctx) : null;
      if (overLimit) return [overLimit];
      const refused = await authorize(ctx.extra);
      if (refused) return refused;
      const { document, errors } = check(payload.query);
      if (errors) return errors;
      return {
        schema,
        document,
        operationName: payload.operationName ?? null,
        variableValues: payload.variables ?? null,
        hideSuggestions: operationLimits.hideSuggestions,
      };
    },
    onNext: (ctx, _id, _payload, _args, result) => {
      // Apollo masks and logs internal errors over HTTP; graphql-ws would send them as they are.
      const masked = result.errors ? { ...result, errors: result.errors.map((error) => formatError(error.toJSON(), error)) } : undefined;
      const { authority } = ctx.extra;
      if (!authority) return masked;
      const event = eventIn(result);
      // The event that ends this credential is the socket's last message: deliver it, then close.
      if (event && endsCredential(event, authority.principal)) {
        registry.kill(authority, 'API token no longer valid', 0);
        return masked;
      }
      // Anything else reaches only a live credential; closing first makes the send a no-op.
      return andThen(registry.current(authority), (alive) => {
        if (!alive) closeForbidden(ctx.extra.socket, 'credential no longer valid');
        return masked;
      });
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
      if (ctx.extra.authority) registry.remove(ctx.extra.authority);
      ctx.extra.untrack?.();
      ctx.extra.releaseUser?.();
      acknowledged.delete(ctx);
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
  wss.on('connection', (socket, request) => {
    const ip = clientIp(request);
    const releaseAddress = addressSockets.acquire(addressKey(ip));
    if (!releaseAddress) {
      socket.close(CLOSE_CODES.TOO_MANY_SOCKETS, 'Too many sockets from this address');
      return;
    }
    socket.once('close', releaseAddress);
    // Every message counts, graphql-ws's and WebSocket's own pings alike; past the budget the socket is closed.
    const budget = new MessageBudget(socketLimits.maxMessages, socketLimits.messageWindow.ms);
    const overBudget = (): boolean => {
      if (budget.take()) return false;
      if (socket.readyState === socket.OPEN) socket.close(CLOSE_CODES.TOO_MANY_MESSAGES, 'Too many messages');
      return true;
    };
    socket.on('ping', overBudget);
    const turns = new MessageTurns();
    socket.once('error', (error) => {
      logger.debug({ err: error }, 'websocket client error');
      if (socket.readyState === socket.OPEN) socket.close(CLOSE_CODES.INTERNAL_SERVER_ERROR, 'Internal server error');
    });
    socket.on('pong', markAlive);
    const closed = protocol.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) {
              resolve();
              return;
            }
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) => {
            // A socket closing (over its budget, or refused) is not answered any more.
            if (socket.readyState !== socket.OPEN || overBudget()) return;
            turns.run(() => {
              if (socket.readyState !== socket.OPEN) return;
              // ws hands text frames over as Buffers (or Buffer lists); their text is the message.
              // eslint-disable-next-line @typescript-eslint/no-base-to-string
              const text = String(data);
              // graphql-ws throws on a message only a server may send (`next`, `error`, ...), which would
              // read as our failure (INTERNAL_SERVER_ERROR); it is the client's, as graphql-ws's own check of a frame is.
              if (!isClientMessage(text)) {
                socket.close(CLOSE_CODES.BAD_REQUEST, 'Invalid message received');
                return;
              }
              handle(text).catch((error: unknown) => {
                logger.error({ err: error }, 'graphql-ws message handling failed');
                socket.close(CLOSE_CODES.INTERNAL_SERVER_ERROR, 'Internal server error');
              });
            });
          }),
      },
      { socket, ip },
    );
    socket.once('close', (code, reason) => void closed(code, String(reason)));
  });
  // The WebSocket server repeats its HTTP server's errors; a failed listen is
  // already the rejection of app.start(), said once by whoever started it.
  wss.on('error', (error: NodeJS.ErrnoException) => {
    if (error.syscall !== 'listen') logger.error({ err: error }, 'websocket server error');
  });

  return {
    stats: () => ({
      sockets: wss.clients.size,
      subscriptions: [...acknowledged].reduce((sum, ctx) => sum + Object.keys(ctx.subscriptions).length, 0),
    }),
    async close() {
      clearInterval(keepAlive);
      clearInterval(outageRecheck);
      for (const client of wss.clients) client.close(CLOSE_CODES.GOING_AWAY, 'Going away');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
