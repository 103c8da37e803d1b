import { ApolloServer } from '@apollo/server';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import type { GraphQLContext, Services } from './context.js';
import { oauthRoutes } from '../oauth/oauth.routes.js';
import { formatGraphQLError, httpErrorHandler, notFoundHandler } from './errors.js';
import { graphQLResponseType } from './accept.js';
import { explorerPlugin } from './graphiql.js';
import { fieldLimitRule } from './field-limit.js';

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
  /** Resolves when the service can take traffic; rejects with the reason when not. */
  readonly ready: () => Promise<Record<string, unknown>>;
}

/** Fastify with Apollo on `/graphql`, health and readiness. Not listening yet. */
export async function createHttpServer(options: HttpServerOptions): Promise<{
  app: FastifyInstance;
  apollo: ApolloServer<GraphQLContext>;
}> {
  const { config, logger, schema, authenticator, services } = options;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
  });
  app.setErrorHandler(httpErrorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.decorateRequest('principal', null);

  // Authenticate before GraphQL runs, so a bad credential is a plain RFC 6750
  // 401 and never reaches a resolver.
  app.addHook('preHandler', async (request, reply) => {
    if (!request.url.startsWith('/graphql')) return;
    try {
      request.principal = await authenticator.authenticate(request.headers.authorization);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const http = error.extensions['http'] as { status?: number; headers?: Map<string, string> } | undefined;
      for (const [name, value] of http?.headers ?? []) void reply.header(name, value);
      return reply
        .status(http?.status ?? 401)
        .type(graphQLResponseType(request.headers.accept))
        .send({ errors: [{ message: error.message, extensions: { code: error.code } }] });
    }
  });

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    plugins: [fastifyApolloDrainPlugin(app), explorerPlugin(config)],
    formatError: formatGraphQLError(logger),
    validationRules: [fieldLimitRule()],
    introspection: config.env !== 'production',
    includeStacktraceInErrorResponses: false,
  });
  await apollo.start();
  await app.register(fastifyApollo(apollo), {
    path: '/graphql',
    context: async (request) => ({ principal: request.principal, services }),
  });

  await app.register(oauthRoutes, { services, logger });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      return { status: 'ready', ...(await options.ready()) };
    } catch (error) {
      return reply.status(503).send({ status: 'unavailable', reason: (error as Error).message });
    }
  });
  return { app, apollo };
}
