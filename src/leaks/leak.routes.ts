import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Actor } from '../audit/actor.js';
import type { RateLimits } from '../http/rate-limits.js';
import { ipAddressOrNull } from '../http/client-ip.js';
import { sha256 } from '../sha256.js';
import type { LeakResponder } from './leak-responder.js';
import { parseCredentialReport, parseGitHubAlerts } from './leak-payloads.js';
import { ScanningKeys } from './scanning-keys.js';

export interface LeakRoutesOptions {
  readonly responder: LeakResponder;
  readonly limits: RateLimits;
  readonly logger: Logger;
  /** `SECRET_SCANNING_KEYS`; null: `/secret-scanning/github` is not served (404). */
  readonly secretScanningKeys: string | null;
}

/** The largest body either endpoint reads: a GitHub batch of 1,000 alerts with long URLs. */
const LEAK_BODY_LIMIT = 1024 * 1024;

const GITHUB_KEY_IDENTIFIER = 'github-public-key-identifier';
const GITHUB_KEY_SIGNATURE = 'github-public-key-signature';

/** What `/credentials/revoke` answers to every well-formed request, whatever it named. */
const ACCEPTED = { status: 'accepted', message: 'Any of these that were live API tokens are now revoked.' };

const GITHUB_ACTOR: Actor = { kind: 'leak', userId: null, label: 'github-secret-scanning' };

/**
 * `POST /secret-scanning/github` (GitHub's secret scanning partner alerts)
 * and `POST /credentials/revoke` (anyone who found tokens). Both revoke every
 * reported live token at once through `LeakResponder`. Errors have the OAuth
 * shape `{"error", "error_description"}`, as on `/oauth/*`.
 */
export async function leakRoutes(app: FastifyInstance, options: LeakRoutesOptions): Promise<void> {
  const { responder, limits, logger } = options;
  // The signature covers the exact bytes, so bodies are kept raw and parsed here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: LEAK_BODY_LIMIT }, (_request, body, done) => done(null, body));
  app.setErrorHandler(leakErrorHandler);
  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('cache-control', 'no-store');
    done(null, payload);
  });

  const keys = options.secretScanningKeys ? new ScanningKeys({ source: options.secretScanningKeys, logger }) : null;
  if (keys) {
    app.post('/secret-scanning/github', { bodyLimit: LEAK_BODY_LIMIT }, async (request, reply) => {
      const body = rawBody(request);
      const identifier = header(request, GITHUB_KEY_IDENTIFIER);
      const signature = header(request, GITHUB_KEY_SIGNATURE);
      // Nothing is read from an unsigned body, so a forged alert cannot even tell whether its tokens exist.
      if (!identifier || !signature || !(await keys.verify(identifier, signature, body))) {
        return leakError(reply, 401, 'invalid_signature', 'The request is not signed with a current secret scanning key.');
      }
      const alerts = parseGitHubAlerts(body);
      if (typeof alerts === 'string') return leakError(reply, 400, 'invalid_request', alerts);
      const live = await responder.revoke(
        alerts.map((alert) => ({ secret: alert.token, reason: `found in public at ${alert.url}` })),
        GITHUB_ACTOR,
      );
      // GitHub's feedback format: the token's SHA-256, never the token.
      return reply.status(200).send(
        alerts.map((alert) => {
          const tokenHash = sha256(alert.token, 'hex');
          return { token_hash: tokenHash, token_type: alert.type, label: live.has(tokenHash) ? 'true_positive' : 'false_positive' };
        }),
      );
    });
  }

  // Anyone may call it, so it is budgeted per client address before the body is read.
  const reportBudget = async (request: FastifyRequest, reply: FastifyReply) => {
    const verdict = await limits.takeCredentialReport(request.ip);
    if (verdict.allowed) return;
    void reply.header('retry-after', String(verdict.retryAfterSeconds));
    return leakError(reply, 429, 'too_many_requests', `Too many requests; try again in ${verdict.retryAfterSeconds} s.`);
  };
  app.post('/credentials/revoke', { onRequest: reportBudget, bodyLimit: LEAK_BODY_LIMIT }, async (request, reply) => {
    if (!isJson(request)) return leakError(reply, 415, 'invalid_request', 'The body must be application/json.');
    const credentials = parseCredentialReport(rawBody(request));
    if (typeof credentials === 'string') return leakError(reply, 400, 'invalid_request', credentials);
    // The audit trail keeps who reported (an address the caller may write itself behind a proxy, so only if it is one);
    // the answer is the same whether anything existed.
    const actor: Actor = { kind: 'leak', userId: null, label: `report from ${ipAddressOrNull(request.ip) ?? 'an unknown address'}` };
    await responder.revoke(
      credentials.map((secret) => ({ secret, reason: 'reported as exposed' })),
      actor,
    );
    return reply.status(202).send(ACCEPTED);
  });
}

function rawBody(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

function header(request: FastifyRequest, name: string): string | null {
  const value = request.headers[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

function isJson(request: FastifyRequest): boolean {
  const mediaType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  return mediaType === 'application/json';
}

type LeakErrorCode = 'invalid_request' | 'invalid_signature' | 'too_many_requests' | 'server_error';

function leakError(reply: FastifyReply, status: number, error: LeakErrorCode, description: string): FastifyReply {
  return reply.status(status).send({ error, error_description: description });
}

/** Bodies Fastify refuses before the handler (too large, malformed) are client errors, never 500s. */
function leakErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = error.statusCode ?? 500;
  if (status >= 500) {
    request.log.error({ err: error }, 'internal error in a leak endpoint');
    return leakError(reply, 500, 'server_error', 'Internal server error.');
  }
  if (status === 413) return leakError(reply, 413, 'invalid_request', 'The request body is too large.');
  return leakError(reply, 400, 'invalid_request', 'The request is malformed.');
}
