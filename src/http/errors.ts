import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';

const INTERNAL = { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } } as const;

/** graphql's "Did you mean …?" tail, on validation and on variable errors alike. */
const SUGGESTION = / ?Did you mean .+\?$/;

/**
 * Client errors keep their message and code. Anything else is logged and
 * masked: an internal message may quote SQL, and is of no use to a client.
 * With `hideSuggestions`, "Did you mean" goes too: Apollo drops it from
 * validation errors only, not from a variable's enum value.
 */
export function formatGraphQLError(logger: Logger, options: { hideSuggestions?: boolean } = {}) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof AppError) return formatted;
    const code = formatted.extensions?.['code'];
    if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') {
      return options.hideSuggestions ? { ...formatted, message: formatted.message.replace(SUGGESTION, '') } : formatted;
    }
    // Apollo refuses some requests (a persisted query whose hash does not match, an unknown
    // persisted-query version) with a 4xx and no code: the client's mistake, not ours.
    if (isClientHttpError(original)) return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_REQUEST' } };
    logger.error({ err: original }, 'internal error in GraphQL operation');
    return INTERNAL;
  };
}

/** A GraphQL error that Apollo answers with a 4xx status (`extensions.http.status`). */
function isClientHttpError(error: unknown): boolean {
  if (!(error instanceof GraphQLError)) return false;
  const status = (error.extensions['http'] as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** HTTP codes that Fastify raises before GraphQL runs, mapped to stable GraphQL error codes. */
const HTTP_CODES: Record<number, string> = {
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/** Malformed JSON, oversized bodies and the like: a 4xx in GraphQL's error shape, never a 500. */
export function httpErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode ?? 500;
  if (status >= 500) {
    request.log.error({ err: error }, 'internal error');
    void reply.status(500).send({ errors: [INTERNAL] });
    return;
  }
  const code = HTTP_CODES[status] ?? 'BAD_REQUEST';
  void reply.status(status).send({ errors: [{ message: error.message, extensions: { code } }] });
}

/** GraphQL answers GET and POST on `/graphql`; other methods get 405, other paths 404, in the same error shape. */
export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  if (request.url === '/graphql' || request.url.startsWith('/graphql?')) {
    void reply
      .status(405)
      .header('allow', 'GET, POST')
      .send({
        errors: [
          { message: `${request.method} is not supported on /graphql; use POST or GET.`, extensions: { code: 'METHOD_NOT_ALLOWED' } },
        ],
      });
    return;
  }
  // The URL is not echoed: it may carry a credential, and a reflected URL is how injection starts.
  void reply.status(404).send({ errors: [{ message: 'Nothing is served at this address.', extensions: { code: 'NOT_FOUND' } }] });
}
