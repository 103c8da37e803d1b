import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { Config } from '../config.js';
import { InvalidTokenError } from '../errors.js';
import { invalidTokenChallenge } from './challenge.js';
import { andThen, type MaybePromise } from '../maybe-promise.js';
import type { GraphQLContext, Services } from '../context.js';
import { formatGraphQLError, httpErrorHandler, notFoundHandler } from './errors.js';
import { limitFailedAuthentications } from './rate-limit-hooks.js';
import type { RateLimits } from './rate-limits.js';
import { registerReadiness, type ReadinessCheck } from './readiness.js';
import { registerSecurityHeaders } from './security-headers.js';
import type { Metrics } from '../metrics/metrics.js';
import { requestSignals } from './request-signals.js';
import { operationLimitRules, operationParseOptions } from './operation-limits.js';
import { precheckOperations } from './operation-precheck.js';
import { subscriptionsOverHttpPlugin } from './subscriptions-over-http.js';
import { childLoggerWithSafeUrls, refuseTokensInUrls } from './url-secrets.js';
import { httpServerTimeouts, limitConnectionsPerAddress } from './connection-limits.js';
import { graphQLResponseType } from './accept.js';
import { explorerPlugin } from './graphiql.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export interface HttpServerOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly schema: GraphQLSchema;
  readonly authenticator: Authenticator;
  readonly services: Services;
  readonly limits: RateLimits;
  /** What `/readyz` checks (each must answer), and the details it shows to `METRICS_TOKEN` holders. */
  readonly readiness: {
    readonly checks: Readonly<Record<string, ReadinessCheck>>;
    readonly details: () => Promise<Record<string, unknown>>;
  };
  /** Request counts and latency; absent: none are recorded. */
  readonly metrics?: Metrics;
}

/** On every response to a request authenticated by an API token: when that token expires (ISO 8601). */
const API_TOKEN_EXPIRATION = 'api-token-expiration';

/** The longest `close()` waits for requests in flight before it cuts their connections. */
const CLOSE_GRACE_MS = 10_000;

/** Fastify with Apollo on `/graphql`, health and readiness. Not listening yet. */
export async function createHttpServer(options: HttpServerOptions): Promise<{
  app: FastifyInstance;
  apollo: ApolloServer<GraphQLContext>;
  /** Stops accepting connections, lets requests in flight finish (up to a grace period), then closes. */
  close: () => Promise<void>;
}> {
  const { config, logger, schema, authenticator, services, limits } = options;
  const app = Fastify({
    // As Fastify's own logger type, so this instance's type is the one its plugins and hooks take.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    // A request, body included, must arrive in time: slow bodies cannot hold connections.
    ...httpServerTimeouts(config.connections),
    trustProxy: config.trustProxy === false || config.trustProxy === true ? config.trustProxy : [...config.trustProxy],
    // While closing, a request that already reached us on a kept-alive
    // connection is served rather than refused with a 503: the database stays
    // open until the HTTP server has closed.
    return503OnClosing: false,
    // One line per request, written by requestSignals when the response is done.
    logController: new LogController({ disableRequestLogging: true }),
    // A URL may carry a credential (which is then refused): never log one that might.
    childLoggerFactory: childLoggerWithSafeUrls,
  });
  limitConnectionsPerAddress(app.server, config.connections);
  app.addHook('onRequest', refuseTokensInUrls);
  requestSignals(app, options.metrics ?? null);
  app.setErrorHandler(httpErrorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.decorateRequest('principal', null);
  await registerSecurityHeaders(app, config.corsOrigins);
  limitFailedAuthentications(app, limits);

  let closing = false;
  // Each response while closing ends its connection, so keep-alive clients
  // reconnect elsewhere and close() does not wait out their idle timeout.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });

  // Authenticate before GraphQL runs, so a bad credential is a plain RFC 6750
  // 401 and never reaches a resolver. Synchronous for a cached credential, no
  // credential, and every request that is not GraphQL.
  app.addHook('preHandler', (request, reply, done) => {
    if (!request.url.startsWith('/graphql')) {
      done();
      return;
    }
    // Answers are per caller (Apollo's cache-control plugin, which said so per field, is off).
    void reply.header('cache-control', 'no-store');
    const accept = (principal: Principal | null) => {
      request.principal = principal;
      // Scripts read when their token dies without reading email (as GitHub's GitHub-Authentication-Token-Expiration).
      if (principal?.tokenExpiresAt) void reply.header(API_TOKEN_EXPIRATION, principal.tokenExpiresAt.toISOString());
      done();
    };
    const refuse = (error: unknown) => {
      if (!(error instanceof InvalidTokenError)) {
        done(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      // RFC 6750 §3.1: a credential that was sent and does not work; the
      // description is the verifier's outcome, the body the same for all.
      void reply
        .status(401)
        .header('www-authenticate', invalidTokenChallenge(error.outcome))
        .type(graphQLResponseType(request.headers.accept))
        .send({ errors: [{ message: error.message, extensions: { code: error.code } }] });
    };
    let principal: MaybePromise<Principal | null>;
    try {
      // A blocked address's credentials still pass when they verify; only made-up tokens skip the database.
      principal = authenticator.authenticate(request.headers.authorization, {
        lookupUnknown: limits.authBlocked(request.ip) === null,
        address: request.ip,
      });
    } catch (error) {
      refuse(error);
      return;
    }
    void andThen(principal, accept, refuse);
  });

  // After authentication: a refused credential is a 401 whatever the document.
  precheckOperations(app, schema, config.operationLimits);

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    plugins: [
      fastifyApolloDrainPlugin(app),
      subscriptionsOverHttpPlugin(),
      explorerPlugin(config),
      // Nothing here is cacheable, and the plugin wraps every field's resolver to say so.
      ApolloServerPluginCacheControlDisabled(),
    ],
    formatError: formatGraphQLError(logger, config.operationLimits),
    // The same limits as graphql-ws (see operation-limits.ts); introspection is one of them.
    validationRules: operationLimitRules(config.operationLimits),
    parseOptions: operationParseOptions(config.operationLimits),
    validationOptions: { hideSuggestions: config.operationLimits.hideSuggestions },
    introspection: true,
    // Apollo refuses a request a browser could send cross-site without a
    // preflight, since such a request would carry the browser's cookies. This
    // service has no cookies: its only credential is the Authorization header,
    // which no cross-site page can set without a CORS preflight. So a request
    // carrying it (urql's default GET query, for one) is not forgery and is
    // accepted; one without it still needs a JSON content type or one of
    // Apollo's preflight headers. Mutations over GET stay refused (405).
    csrfPrevention: { requestHeaders: ['authorization', 'x-apollo-operation-name', 'apollo-require-preflight'] },
    includeStacktraceInErrorResponses: false,
    // The app owns shutdown (src/main.ts): Apollo's own signal handler would
    // stop it and re-raise the signal while requests are still in flight.
    stopOnTerminationSignals: false,
  });
  await apollo.start();
  await app.register(fastifyApollo(apollo), {
    path: '/graphql',
    context: async (request) => ({ principal: request.principal, services }),
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  registerReadiness(app, {
    ...options.readiness,
    metricsToken: config.metricsToken,
    stopping: () => closing,
    logger,
  });

  async function close(): Promise<void> {
    closing = true;
    const force = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
    force.unref();
    try {
      await app.close();
    } finally {
      clearTimeout(force);
    }
  }
  return { app, apollo, close };
}
