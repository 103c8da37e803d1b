import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parse, type GraphQLError, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import { graphQLResponseType } from './accept.js';
import { operationParseOptions, precheckOperation, type OperationLimits } from './operation-limits.js';

/** The GraphQL documents of a request: the `query` of a POST body (or of each in a batch), or of a GET's query string. */
function documentsOf(request: FastifyRequest): string[] {
  const source = request.method === 'GET' ? request.query : request.body;
  const items: unknown[] = Array.isArray(source) ? source : [source];
  return items.flatMap((item) => {
    const query = typeof item === 'object' && item !== null ? (item as { query?: unknown }).query : undefined;
    return typeof query === 'string' ? [query] : [];
  });
}

/**
 * Over HTTP, refuses before Apollo validates what `precheckOperation` refuses
 * (too many fields, an unknown directive), with one error, as graphql-ws does
 * in `checkOperation`. A document that does not parse is left to Apollo, which
 * answers it as it always has. Verdicts are kept per text, so a client's
 * repeated operation is parsed here once.
 */
export function precheckOperations(app: FastifyInstance, schema: GraphQLSchema, limits: OperationLimits): void {
  const verdicts = new LRUCache<string, { error: GraphQLError | null }>({ max: 1_000 });
  const verdict = (query: string): GraphQLError | null => {
    let known = verdicts.get(query);
    if (!known) {
      let error: GraphQLError | null = null;
      try {
        error = precheckOperation(limits, schema, parse(query, operationParseOptions(limits)));
      } catch {
        // A syntax error (or the token limit): Apollo's own parse answers it.
      }
      verdicts.set(query, (known = { error }));
    }
    return known.error;
  };

  app.addHook('preHandler', (request, reply, done) => {
    if (!request.url.startsWith('/graphql')) {
      done();
      return;
    }
    for (const query of documentsOf(request)) {
      const error = verdict(query);
      if (error) {
        void reply
          .status(400)
          .type(graphQLResponseType(request.headers.accept))
          .send({ errors: [{ message: error.message, extensions: error.extensions }] });
        return;
      }
    }
    done();
  });
}
