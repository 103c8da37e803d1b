import type { MikroORM } from '@mikro-orm/core';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Changes } from './audit/changes.js';
import type { SessionVerifier } from './auth/session.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Services } from './context.js';
import { registerWeb } from './http/web.js';
import { LeakResponder } from './leaks/leak-responder.js';
import { leakRoutes } from './leaks/leak.routes.js';
import { countAuthentication } from './metrics/instrumented.js';
import type { Metrics } from './metrics/metrics.js';
import { metricsRoute } from './metrics/metrics.routes.js';
import { oauthRoutes } from './oauth/oauth.routes.js';
import { ScimCredentials } from './scim/scim-credentials.js';
import { scimRoutes } from './scim/scim.routes.js';
import type { ScimTokenCache } from './scim/scim-token-cache.js';

export interface RouteDeps {
  readonly config: Config;
  readonly orm: MikroORM;
  readonly changes: Changes;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly services: Services;
  readonly sessions: SessionVerifier;
  /** Verified SCIM tokens, which the log follower invalidates. */
  readonly scimTokens: ScimTokenCache;
  /** Where the built profile page is (tests point it elsewhere). */
  readonly webDir?: string;
}

/**
 * Every route besides `/graphql` and the health checks (which the HTTP server
 * owns): OAuth introspection and revocation, SCIM, leak reports, the profile
 * page and `/metrics`. Each counts its credential checks by the verifier's
 * outcome. Returns the SCIM credentials, which the admin CLI and tests use.
 */
export async function registerRoutes(http: FastifyInstance, deps: RouteDeps): Promise<{ scim: ScimCredentials }> {
  const { config, orm, changes, clock, logger, metrics, services, sessions, scimTokens } = deps;
  const { limits, tokens, users } = services;
  await http.register(oauthRoutes, {
    services,
    logger,
    limits,
    onAuthentication: (outcome) => countAuthentication(metrics, 'introspection_client', outcome),
  });
  const scim = new ScimCredentials(orm, changes, clock, scimTokens);
  await http.register(scimRoutes, {
    prefix: '/scim/v2',
    orm,
    admin: services.admin,
    credentials: scim,
    publicUrl: config.publicUrl,
    limits,
    logger,
    onAuthentication: (outcome) => countAuthentication(metrics, 'scim_token', outcome),
    onOperation: (resource, method, status) => metrics.scimOperations.inc({ resource, method, status: String(status) }),
  });
  await http.register(leakRoutes, {
    responder: new LeakResponder(orm, changes, clock, tokens),
    limits,
    logger,
    secretScanningKeys: config.secretScanningKeys,
  });
  await registerWeb(http, { config, sessions, users, ...(deps.webDir ? { webDir: deps.webDir } : {}) });
  if (config.metricsToken) await http.register(metricsRoute, { metrics, token: config.metricsToken });
  return { scim };
}
