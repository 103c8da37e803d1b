import { makeServer, type Server } from 'graphql-ws';
import type { GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { CredentialWatcher } from '../../credentials/credential-watcher.js';
import type { PrincipalResolver } from '../../credentials/principal-resolver.js';
import type { CredentialOutcome } from '../../credential-outcome.js';
import type { TokenEventHub } from '../../events/event-hub.js';
import { UnauthenticatedError } from '../../errors.js';
import { andThen } from '../../maybe-promise.js';
import type { GraphQLContext, Services } from '../../context.js';
import { formatGraphQLError } from '../errors.js';
import { checkOperation } from '../operation-limits.js';
import type { RateLimits } from '../rate-limits.js';
import { sharedExecution, sourceEventOf } from '../shared-execution.js';
import { SubscriptionLimits } from '../socket-limits.js';
import { SocketCounts } from '../socket-guards.js';
import { onConnect } from './connect.js';
import { closeForbidden, type SocketExtra } from './socket-extra.js';

export interface ProtocolDeps {
  readonly schema: GraphQLSchema;
  readonly services: Services;
  readonly principals: Pick<PrincipalResolver, 'verify'>;
  readonly watcher: CredentialWatcher;
  readonly hub: Pick<TokenEventHub, 'ready'>;
  readonly limits: RateLimits;
  readonly logger: Logger;
  readonly connectionInitWaitTimeout: number;
  readonly onAuthentication?: (authorization: string, outcome: CredentialOutcome | null) => void;
}

/**
 * graphql-ws's protocol, without the socket underneath: authentication in
 * `connection_init` (./connect.ts), the same operation limits as over HTTP
 * and a cap on what runs at once, and every operation and delivered event
 * let through only while the socket's credential lives, as the credential
 * watcher answers.
 */
export function graphqlWsProtocol(deps: ProtocolDeps): { server: Server<SocketExtra>; subscriptions(): number } {
  const { schema, services } = deps;
  const operationLimits = services.config.operationLimits;
  const socketLimits = services.config.websocket;
  const subscriptionLimits = new SubscriptionLimits(socketLimits);
  const userSockets = new SocketCounts(socketLimits.maxSocketsPerUser);
  const formatError = formatGraphQLError(deps.logger, operationLimits);
  const acknowledged = new Set<{ readonly subscriptions: Record<string, unknown> }>();

  /** Resolves the socket's credential for an operation; refuses (and closes) a dead one. */
  const authorize = async (extra: SocketExtra) => {
    const { watched } = extra;
    if (watched && (await watched.current())) return undefined;
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

  const server = makeServer<Record<string, unknown>, SocketExtra>({
    schema,
    connectionInitWaitTimeout: deps.connectionInitWaitTimeout,
    subscribe: (args) => shared.subscribe(args),
    // `onSubscribe` has just resolved the principal for this very operation.
    context: (ctx): GraphQLContext => ({ principal: ctx.extra.watched?.principal ?? null, services }),
    onConnect: onConnect({ ...deps, userSockets, subscriptionLimits, acknowledged }),
    // graphql-ws would parse and validate on its own, without limits, and throw (INTERNAL_SERVER_ERROR) on a syntax
    // error: parse and validate here, with the limits HTTP applies, and answer refusals with `error`.
    onSubscribe: async (ctx, _id, payload) => {
      // Counted before anything is awaited: graphql-ws has entered this operation in the
      // socket's table, and operations sent together must each see the ones before them.
      const { watched } = ctx.extra;
      const overLimit = watched ? subscriptionLimits.refusal(watched.principal.userId, ctx) : null;
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
      const { watched } = ctx.extra;
      if (!watched) return masked;
      // The watcher reads the event the result was executed from, not the fields the client selected:
      // the event that ends this credential is the socket's last message (delivered, then the socket
      // closes); anything else reaches only a live credential, and closing first makes the send a no-op.
      return andThen(watched.admits(sourceEventOf(result)), (admitted) => {
        if (!admitted) closeForbidden(ctx.extra.socket, 'credential no longer valid');
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
      ctx.extra.watched?.unwatch();
      ctx.extra.untrack?.();
      ctx.extra.releaseUser?.();
      acknowledged.delete(ctx);
    },
  });

  return {
    server,
    subscriptions: () => [...acknowledged].reduce((sum, ctx) => sum + Object.keys(ctx.subscriptions).length, 0),
  };
}
