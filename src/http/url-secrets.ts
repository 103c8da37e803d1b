import type { FastifyBaseLogger, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'fastify/types/logger.js';
import { HttpRequestError } from '../errors.js';
import { redactSecrets } from '../redact.js';

/**
 * Credentials never travel in URLs: a URL is written to access logs, proxies'
 * logs, browser history and Referer headers, where a bearer token outlives
 * any revocation check. RFC 6750 §2.3 allows `access_token` in the query
 * string only as a last resort and RFC 7009/7662 want `token` in the body;
 * this service accepts neither in the URL, and says so instead of silently
 * ignoring it, so the client learns to stop.
 */

/** Query parameters refused on every path we guard; `token` only on /oauth/* (elsewhere it may be innocent). */
function refusedParameter(path: string, search: URLSearchParams): string | null {
  const oauth = path.startsWith('/oauth/');
  for (const name of search.keys()) {
    const key = name.toLowerCase();
    if (key === 'access_token' || (oauth && key === 'token')) return name;
  }
  return null;
}

function split(url: string): { path: string; query: string | null } {
  const at = url.indexOf('?');
  return at === -1 ? { path: url, query: null } : { path: url.slice(0, at), query: url.slice(at + 1) };
}

/** The name of a credential parameter in the query string of `/graphql` or `/oauth/*`, if there is one. */
export function credentialInUrl(url: string): string | null {
  const { path, query } = split(url);
  if (query === null || !(path === '/graphql' || path.startsWith('/oauth/'))) return null;
  return refusedParameter(path, new URLSearchParams(query));
}

/**
 * Fastify `onRequest` hook: 400 TOKEN_IN_URL, before any body is read or
 * credential checked. Synchronous (every request passes here): an answer
 * ends the request, else `done` lets it go on.
 */
export function refuseTokensInUrls(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const name = credentialInUrl(request.url);
  if (name === null) {
    done();
    return;
  }
  const { path } = split(request.url);
  if (path.startsWith('/oauth/')) {
    void reply.status(400).send({
      error: 'invalid_request',
      error_description: `A token must not be sent in the URL ("${name}" parameter): send it as "token" in an application/x-www-form-urlencoded body.`,
    });
    return;
  }
  const error = new HttpRequestError(
    'TOKEN_IN_URL',
    400,
    `A credential must not be sent in the URL ("${name}" parameter): send it as Authorization: Bearer <token>, and revoke the one you sent, which may now sit in a log.`,
  );
  void reply.status(400).send({ errors: [{ message: error.message, extensions: { code: error.code } }] });
}

/**
 * The URL as it may be logged: without its query string on /oauth/* and
 * wherever a parameter name mentions a token, whatever the path; and without
 * any token-shaped string anywhere (`GET /anything/<token>`).
 */
export function loggableUrl(url: string): string {
  const { path, query } = split(url);
  const safePath = withoutSecrets(path);
  if (query === null) return safePath;
  if (path.startsWith('/oauth/') || /token/i.test(decodeSafely(query))) return `${safePath}?[redacted]`;
  return `${safePath}?${withoutSecrets(query)}`;
}

/** `text` as it was, unless it carries a token-shaped string, raw or percent-encoded: then decoded and redacted. */
function withoutSecrets(text: string): string {
  const decoded = decodeSafely(text);
  const redacted = redactSecrets(decoded);
  return redacted === decoded ? text : redacted;
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Fastify's request serializer, with the URL made loggable. */
function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: loggableUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket.remotePort,
  };
}

/**
 * Fastify `childLoggerFactory`: every request's logger serializes `req` with
 * the URL made loggable, whichever logger the app was given.
 */
export function childLoggerWithSafeUrls(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return logger.child(bindings, { ...options, serializers: { ...options.serializers, req: serializeRequest } });
}
