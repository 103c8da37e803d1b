import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimits } from './rate-limits.js';

/**
 * Paths where a sent credential is checked: bearer on GraphQL, HTTP Basic on
 * introspection, the organisation's bearer on SCIM, `METRICS_TOKEN` on
 * `/metrics` and `/readyz`. Every door counts its failures.
 */
function checksCredentials(request: FastifyRequest): boolean {
  const { url } = request;
  return (
    isPath(url, '/graphql') ||
    isPath(url, '/oauth/introspect') ||
    url.startsWith('/scim/') ||
    isPath(url, '/metrics') ||
    isPath(url, '/readyz')
  );
}

/** Whether `url` is `path`, with or without a query string (without splitting it: this runs on every request). */
function isPath(url: string, path: string): boolean {
  return url.startsWith(path) && (url.length === path.length || url[path.length] === '?');
}

function isOAuth(request: FastifyRequest): boolean {
  return request.url.startsWith('/oauth/');
}

/** SCIM's error media type and shape (RFC 7644 §3.12). */
const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/**
 * The body of a 429: OAuth's `{error, error_description}` shape on `/oauth/*`
 * (RFC 6749 §5.2 style), GraphQL's error shape with `RATE_LIMITED` elsewhere.
 */
function tooManyRequestsBody(request: FastifyRequest, retryAfterSeconds: number): Record<string, unknown> {
  const message = `Too many requests; try again in ${retryAfterSeconds} s.`;
  if (isOAuth(request)) return { error: 'too_many_requests', error_description: message };
  if (request.url.startsWith('/scim/')) return { schemas: [SCIM_ERROR], status: '429', detail: message };
  return { errors: [{ message, extensions: { code: 'RATE_LIMITED', retryAfterSeconds } }] };
}

/** Answers 429 with `Retry-After`. */
export function tooManyRequests(request: FastifyRequest, reply: FastifyReply, retryAfterSeconds: number): FastifyReply {
  return reply.status(429).header('retry-after', String(retryAfterSeconds)).send(tooManyRequestsBody(request, retryAfterSeconds));
}

/**
 * Failed authentications per client IP, for every HTTP path that checks a
 * credential. Kept out of the authentication code on purpose: any 401 such a
 * path answers to a request that carried a credential counts, whoever
 * produced it. Once an address is over budget, each credential from it that
 * fails gets 429 instead of its 401, until the window ends. A credential that
 * verifies still passes: an office, a CI runner or an IPv6 /64 shares its
 * address with whoever guessed. The authentication code keeps the database
 * out of it (see `AuthenticateOptions.lookupUnknown`).
 */
export function limitFailedAuthentications(app: FastifyInstance, limits: RateLimits): void {
  // Runs on every request and is synchronous unless there is something to count.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (reply.statusCode !== 401 || request.headers.authorization === undefined || !checksCredentials(request)) {
      done(null, payload);
      return;
    }
    limits.authFailed(request.ip).then((verdict) => {
      if (verdict.allowed) {
        done(null, payload);
        return;
      }
      void reply
        .status(429)
        .header('retry-after', String(verdict.retryAfterSeconds))
        .removeHeader('www-authenticate')
        .header('content-type', 'application/json; charset=utf-8');
      done(null, JSON.stringify(tooManyRequestsBody(request, verdict.retryAfterSeconds)));
    }, done);
  });
}
