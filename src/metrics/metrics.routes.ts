import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { bearerCredential } from '../auth/bearer.js';
import type { Metrics } from './metrics.js';
import { countAuthentication } from './instrumented.js';
import type { CredentialOutcome } from '../credential-outcome.js';
import { sha256 } from '../sha256.js';

export interface MetricsRouteOptions {
  readonly metrics: Metrics;
  /** `METRICS_TOKEN`; the route is not served at all without one. */
  readonly token: string;
}

/**
 * `GET /metrics` in Prometheus text format, for a scraper that sends
 * `Authorization: Bearer <METRICS_TOKEN>`. Compared as digests in constant
 * time, so the answer's timing says nothing about the token.
 */
export async function metricsRoute(app: FastifyInstance, options: MetricsRouteOptions): Promise<void> {
  const expected = sha256(options.token);
  app.get('/metrics', async (request, reply) => {
    const { authorization } = request.headers;
    const given = bearerCredential(authorization);
    const outcome: CredentialOutcome = given === null ? 'MALFORMED' : timingSafeEqual(sha256(given), expected) ? 'OK' : 'UNKNOWN';
    if (authorization !== undefined) countAuthentication(options.metrics, 'metrics_token', outcome);
    if (outcome !== 'OK') {
      return reply
        .status(401)
        .header('www-authenticate', 'Bearer realm="metrics"')
        .send({ errors: [{ message: 'Send Authorization: Bearer <METRICS_TOKEN>.', extensions: { code: 'UNAUTHENTICATED' } }] });
    }
    return reply
      .header('content-type', options.metrics.registry.contentType)
      .header('cache-control', 'no-store')
      .send(await options.metrics.registry.metrics());
  });
}
