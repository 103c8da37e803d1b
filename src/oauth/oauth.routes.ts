import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Services } from '../context.js';
import { tooManyRequests } from '../http/rate-limit-hooks.js';
import { andThen } from '../maybe-promise.js';
import type { CredentialOutcome } from '../credential-outcome.js';
import type { RateLimits, Verdict } from '../http/rate-limits.js';
import { Introspector } from './introspection.js';
import { loadIntrospectionClients } from './introspection-clients.js';

export interface OAuthRoutesOptions {
  readonly services: Services;
  readonly logger: Logger;
  readonly limits: RateLimits;
  /** Told of each introspection client's credential check that sent a credential (metrics). */
  readonly onAuthentication?: (outcome: CredentialOutcome) => void;
}

/** RFC 6749 §5.2 error codes the two endpoints use. */
type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'server_error';

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * `POST /oauth/introspect` (RFC 7662) and `POST /oauth/revoke` (RFC 7009).
 * Registered as an encapsulated plugin: only form bodies are parsed here, and
 * errors take the OAuth shape `{"error": ...}` instead of GraphQL's.
 */
export async function oauthRoutes(app: FastifyInstance, options: OAuthRoutesOptions): Promise<void> {
  const { tokens, config, principals } = options.services;
  const { limits } = options;
  const clients = loadIntrospectionClients(config, options.logger);
  const introspector = new Introspector(principals, config.regions);

  app.removeAllContentTypeParsers();
  await app.register(formbody);
  app.setErrorHandler(oauthErrorHandler);
  // Token metadata must not sit in a cache (RFC 6749 §5.1, RFC 7662 §4).
  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    done(null, payload);
  });

  app.post(
    '/oauth/introspect',
    {
      // Before the body is read: an unauthenticated caller learns nothing, not even about its request.
      // Failed client authentications count against the caller's IP (see rate-limit-hooks.ts).
      onRequest: (request, reply, done) => {
        const answer = clients.verify(request.headers.authorization);
        if (request.headers.authorization !== undefined) options.onAuthentication?.(answer.outcome);
        if (answer.outcome !== 'OK') {
          void reply.header('www-authenticate', 'Basic realm="oauth"');
          void oauthError(reply, 401, 'invalid_client', 'Client authentication failed.');
          return;
        }
        const admit = (verdict: Verdict) => (verdict.allowed ? done() : void tooManyRequests(request, reply, verdict.retryAfterSeconds));
        const failed = (error: unknown) => done(error instanceof Error ? error : new Error(String(error)));
        void andThen(limits.takeIntrospection(answer.value), admit, failed);
      },
    },
    // Synchronous when the token is cached (most calls): no promise on the way.
    (request, reply) => {
      const token = tokenParameter(request);
      if (token === null) {
        void missingToken(reply);
        return;
      }
      const send = (answer: string) => void reply.type(JSON_TYPE).send(answer);
      return andThen(introspector.answer(token), send);
    },
  );

  // Possession of the token is enough to revoke it, so a leaked token can be killed by whoever finds it.
  // Anyone may call it, and each call may be a transaction: budgeted per client IP, before the body is read.
  const revokeBudget = async (request: FastifyRequest, reply: FastifyReply) => {
    const verdict = await limits.takeRevocation(request.ip);
    if (!verdict.allowed) return tooManyRequests(request, reply, verdict.retryAfterSeconds);
  };
  app.post('/oauth/revoke', { onRequest: revokeBudget }, async (request, reply) => {
    const token = tokenParameter(request);
    if (token === null) return missingToken(reply);
    await tokens.revokeBySecret(token);
    // RFC 7009 §2.2: 200 whether or not the token existed, so the answer reveals nothing.
    return reply.status(200).send();
  });
}

/** The one `token` parameter of a form body; null when absent, empty or repeated (RFC 6749 §3.1). */
function tokenParameter(request: FastifyRequest): string | null {
  const mediaType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== FORM || typeof request.body !== 'object' || request.body === null) return null;
  const token: unknown = (request.body as Record<string, unknown>)['token'];
  return typeof token === 'string' && token !== '' ? token : null;
}

function missingToken(reply: FastifyReply): FastifyReply {
  return oauthError(reply, 400, 'invalid_request', `Send the token as a "token" parameter in an ${FORM} body.`);
}

function oauthError(reply: FastifyReply, status: number, error: OAuthErrorCode, description: string): FastifyReply {
  return reply.status(status).send({ error, error_description: description });
}

/** Bodies Fastify refuses before the handler (wrong content type, too large, malformed) are `invalid_request`. */
function oauthErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = error.statusCode ?? 500;
  if (status >= 500) {
    request.log.error({ err: error }, 'internal error in an OAuth endpoint');
    return oauthError(reply, 500, 'server_error', 'Internal server error.');
  }
  if (status === 415) return oauthError(reply, 415, 'invalid_request', `The body must be ${FORM}.`);
  if (status === 413) return oauthError(reply, 413, 'invalid_request', 'The request body is too large.');
  return oauthError(reply, 400, 'invalid_request', 'The request is malformed.');
}
