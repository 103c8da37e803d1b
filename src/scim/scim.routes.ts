import type { MikroORM } from '@mikro-orm/core';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AdminServices } from '../admin/admin-services.js';
import { bearerCredential } from '../auth/bearer.js';
import type { Principal } from '../auth/principal.js';
import { RESOURCE_TYPES, SCHEMAS, SERVICE_PROVIDER_CONFIG } from './discovery.js';
import { ScimError, invalidSyntax, toScimError } from './scim-errors.js';
import { scimPrincipal, type ScimCredentials } from './scim-credentials.js';
import { ScimGroups } from './scim-groups.js';
import type { RateLimits } from '../http/rate-limits.js';
import { invalidTokenChallenge } from '../http/challenge.js';
import type { CredentialOutcome } from '../credential-outcome.js';
import { ScimUsers } from './scim-users.js';
import { bodyObject, type Json } from './values.js';

export interface ScimRoutesOptions {
  readonly orm: MikroORM;
  readonly admin: AdminServices;
  readonly credentials: ScimCredentials;
  readonly logger: Logger;
  /** The per-organisation request budget (shared by the instances when Redis is configured). */
  readonly limits: Pick<RateLimits, 'takeScim' | 'authBlocked'>;
  /**
   * `PUBLIC_URL`: where clients reach this service. `Location`, `meta.location`
   * and `$ref` are built from it, never from the request's Host header (which
   * the client chooses). Null (unset, in development): the address the
   * server listens on.
   */
  readonly publicUrl: string | null;
  /** Told of each SCIM credential check that had a credential to check (metrics). */
  readonly onAuthentication?: (outcome: CredentialOutcome) => void;
  /** Called once per SCIM request with its resource, method and status (metrics). */
  readonly onOperation?: (resource: string, method: string, status: number) => void;
}

const SCIM_CONTENT_TYPE = 'application/scim+json';

type IdParams = { Params: { id: string } };

/**
 * SCIM 2.0 (RFC 7643, RFC 7644) under `/scim/v2`, one organisation per
 * bearer token. Registered as an encapsulated plugin: its own body parser
 * (`application/scim+json` and `application/json`), error shape (RFC 7644
 * §3.12) and 404s.
 */
export async function scimRoutes(app: FastifyInstance, options: ScimRoutesOptions): Promise<void> {
  const users = new ScimUsers(options.orm, options.admin);
  const groups = new ScimGroups(options.orm, options.admin);
  const principals = new WeakMap<FastifyRequest, Principal>();

  // SCIM bodies are JSON; Fastify's text/plain parser would hand a string to the handlers.
  // An empty body is no body: many clients send a Content-Type on every request, a DELETE included.
  const json = app.getDefaultJsonParser('error', 'error');
  const jsonOrNothing: typeof json = (request, body, done) => (body.trim() === '' ? done(null, undefined) : json(request, body, done));
  app.removeContentTypeParser(['text/plain', 'application/json']);
  app.addContentTypeParser([SCIM_CONTENT_TYPE, 'application/json'], { parseAs: 'string' }, jsonOrNothing);
  app.setErrorHandler((error: FastifyError, request, reply) => sendError(reply, request, error, options.logger));
  app.setNotFoundHandler((request, reply) => sendError(reply, request, ScimError.notFound('resource'), options.logger));

  // Before the body is read: a caller without the organisation's token learns nothing.
  app.addHook('onRequest', async (request, reply) => {
    const credential = bearerCredential(request.headers.authorization);
    // From a blocked address, only a token known lately is worth a query (see rate-limit-hooks.ts).
    const lookupUnknown = options.limits.authBlocked(request.ip) === null;
    const answer = credential === null ? null : await options.credentials.verify(credential, { lookupUnknown });
    if (answer) options.onAuthentication?.(answer.outcome);
    if (answer?.outcome !== 'OK') {
      // RFC 6750 §3.1: no error code for a request that sent no credential.
      void reply.header('www-authenticate', answer ? invalidTokenChallenge(answer.outcome, 'scim') : 'Bearer realm="scim"');
      return sendError(
        reply,
        request,
        new ScimError(401, null, 'Send the organisation’s SCIM token as Authorization: Bearer <token>.'),
        options.logger,
      );
    }
    // The one place SCIM is rate limited, after authentication: nobody spends another organisation's budget.
    const tenant = answer.value;
    const verdict = await options.limits.takeScim(tenant.organizationId);
    if (!verdict.allowed) {
      void reply.header('retry-after', String(verdict.retryAfterSeconds));
      const message = `Too many SCIM requests for this organisation; retry in ${verdict.retryAfterSeconds} s.`;
      return sendError(reply, request, new ScimError(429, null, message), options.logger);
    }
    principals.set(request, scimPrincipal(tenant));
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    const type = String(reply.getHeader('content-type') ?? '');
    if (type === '' || type.startsWith('application/json')) void reply.type(`${SCIM_CONTENT_TYPE}; charset=utf-8`);
    return payload;
  });
  if (options.onOperation) {
    const record = options.onOperation;
    app.addHook('onResponse', async (request, reply) => {
      // From the matched route, never the raw URL: made-up paths must not mint new label values.
      const resource = /^\/scim\/v2\/(\w+)/.exec(request.routeOptions.url ?? '')?.[1] ?? 'unknown';
      record(resource, request.method, reply.statusCode);
    });
  }

  const principal = (request: FastifyRequest): Principal => {
    const found = principals.get(request);
    // The onRequest hook answered 401 for every request without one.
    if (!found) throw new ScimError(401, null, 'Not authenticated.');
    return found;
  };
  const base = scimBase(app, options.publicUrl);
  const query = (request: FastifyRequest) => request.query as Json;
  const withMembers = (request: FastifyRequest) => !excludes(query(request), 'members');

  app.get('/ServiceProviderConfig', async () => SERVICE_PROVIDER_CONFIG);
  app.get('/ResourceTypes', async () => listOf(RESOURCE_TYPES));
  app.get<IdParams>('/ResourceTypes/:id', async (request) => byId(RESOURCE_TYPES, request.params.id));
  app.get('/Schemas', async () => listOf(SCHEMAS));
  app.get<IdParams>('/Schemas/:id', async (request) => byId(SCHEMAS, request.params.id));

  app.get('/Users', async (request) => users.list(principal(request), query(request), base()));
  // RFC 7644 §3.4.3: the same query in a body, so a filter stays out of URLs and logs.
  app.post('/Users/.search', async (request) => users.list(principal(request), searchQuery(request.body), base()));
  app.get<IdParams>('/Users/:id', async (request) => users.get(principal(request), request.params.id, base(), query(request)));
  app.post('/Users', async (request, reply) => created(reply, await users.create(principal(request), request.body, base())));
  app.put<IdParams>('/Users/:id', async (request) => users.replace(principal(request), request.params.id, request.body, base()));
  app.patch<IdParams>('/Users/:id', async (request) => users.patch(principal(request), request.params.id, request.body, base()));
  app.delete<IdParams>('/Users/:id', async (request, reply) => {
    await users.delete(principal(request), request.params.id);
    return reply.status(204).send();
  });

  app.post('/Groups/.search', async (request) => {
    const search = searchQuery(request.body);
    return groups.list(principal(request), search, base(), !excludes(search, 'members'));
  });
  app.get('/Groups', async (request) => groups.list(principal(request), query(request), base(), withMembers(request)));
  app.get<IdParams>('/Groups/:id', async (request) => groups.get(principal(request), request.params.id, base(), withMembers(request)));
  app.post('/Groups', async (request, reply) => created(reply, await groups.create(principal(request), request.body, base())));
  app.put<IdParams>('/Groups/:id', async (request) => groups.replace(principal(request), request.params.id, request.body, base()));
  app.patch<IdParams>('/Groups/:id', async (request) => groups.patch(principal(request), request.params.id, request.body, base()));
  app.delete<IdParams>('/Groups/:id', async (request, reply) => {
    await groups.delete(principal(request), request.params.id);
    return reply.status(204).send();
  });
}

/**
 * The base of every URL a resource names. From `PUBLIC_URL` when set;
 * otherwise the address the server listens on (read at the first request, as
 * port 0 picks one at listen).
 */
function scimBase(app: FastifyInstance, publicUrl: string | null): () => string {
  if (publicUrl !== null) {
    const fixed = new URL('scim/v2', publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`).href;
    return () => fixed;
  }
  let listening: string | null = null;
  return () => {
    if (listening === null) {
      const address = app.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 80;
      const host =
        typeof address === 'object' && address !== null && !['0.0.0.0', '::'].includes(address.address) ? address.address : 'localhost';
      listening = `http://${host.includes(':') ? `[${host}]` : host}:${port}/scim/v2`;
    }
    return listening;
  };
}

/** The query of a `POST /.search` body (RFC 7644 §3.4.3), in the shape of a GET's query string. */
function searchQuery(body: unknown): Json {
  const object = bodyObject(body);
  const out: Json = {};
  for (const [key, value] of Object.entries(object)) {
    const lower = key.toLowerCase();
    if (lower === 'schemas') continue;
    if (Array.isArray(value) && (lower === 'attributes' || lower === 'excludedattributes')) out[key] = value.map(String).join(',');
    else if (typeof value === 'number') out[key] = String(value);
    else out[key] = value;
  }
  return out;
}

/** Whether `excludedAttributes` names `attribute`. */
function excludes(query: Json, attribute: string): boolean {
  const excluded = query['excludedAttributes'];
  return typeof excluded === 'string' && excluded.split(',').some((name) => name.trim().toLowerCase() === attribute);
}

function created(reply: FastifyReply, resource: Json): FastifyReply {
  const meta = resource['meta'] as { location?: string } | undefined;
  if (meta?.location) void reply.header('location', meta.location);
  return reply.status(201).send(resource);
}

function listOf(resources: readonly Json[]): Json {
  return {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
    totalResults: resources.length,
    itemsPerPage: resources.length,
    startIndex: 1,
    Resources: resources,
  };
}

function byId(resources: readonly Json[], id: string): Json {
  const found = resources.find((resource) => resource['id'] === id);
  if (!found) throw ScimError.notFound('resource');
  return found;
}

/** Every error leaves in the RFC 7644 §3.12 shape; what is not a client's mistake is logged and masked. */
function sendError(reply: FastifyReply, request: FastifyRequest, error: unknown, logger: Logger): FastifyReply {
  let scim = toScimError(error);
  if (!scim) {
    const status = (error as Partial<FastifyError>).statusCode ?? 500;
    if (status === 413) scim = new ScimError(413, null, 'The request body is too large.');
    else if (status === 415) scim = new ScimError(415, null, `Send the body as ${SCIM_CONTENT_TYPE} or application/json.`);
    else if (status >= 400 && status < 500) scim = invalidSyntax('The request body is not valid JSON.');
    else {
      logger.error({ err: error, method: request.method, url: request.url }, 'internal error in a SCIM request');
      scim = new ScimError(500, null, 'Internal server error.');
    }
  }
  return reply.status(scim.status).type(`${SCIM_CONTENT_TYPE}; charset=utf-8`).send(scim.body());
}
