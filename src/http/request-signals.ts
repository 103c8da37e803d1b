import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Metrics } from '../metrics/metrics.js';

/**
 * Distinct GraphQL operation names kept as metric labels. Names come from
 * clients, so past this many the rest count as `other`: a client cannot grow
 * the metrics without bound. Only callers whose credential verified name a
 * label: anyone else's operations count as `graphql`, so an anonymous caller
 * cannot fill the slots with made-up names and push real ones into `other`.
 */
const MAX_OPERATION_NAMES = 100;
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
const NAMED_OPERATION = /^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/;

/**
 * One log line and one metric sample per request, when its response is done
 * (Fastify's own two lines per request are turned off). The line carries the
 * request through the logger's `req` serializer, so whatever that redacts
 * from URLs stays redacted here.
 */
export function requestSignals(app: FastifyInstance, metrics: Pick<Metrics, 'requests' | 'requestDuration'> | null): void {
  const names = new Set<string>();
  const operationOf = (request: FastifyRequest): string => {
    const route = request.routeOptions.url;
    if (route !== '/graphql') return route ?? 'not_found';
    if (request.principal === null) return 'graphql';
    const name = graphqlOperationName(request);
    if (name === null) return 'graphql';
    if (names.has(name) || names.size < MAX_OPERATION_NAMES) {
      names.add(name);
      return name;
    }
    return 'other';
  };

  app.addHook('onResponse', (request, reply, done) => {
    const operation = operationOf(request);
    const status = reply.statusCode;
    const outcome = status < 400 ? 'ok' : status < 500 ? 'client_error' : 'server_error';
    metrics?.requests.inc({ operation, outcome });
    metrics?.requestDuration.observe({ operation, outcome }, reply.elapsedTime / 1000);
    request.log.info({ req: request, res: reply, responseTime: Math.round(reply.elapsedTime * 100) / 100, operation }, 'request completed');
    done();
  });
}

/** `operationName` from the body (or query string), else the first named operation of the document. */
function graphqlOperationName(request: FastifyRequest): string | null {
  const source = (request.method === 'GET' ? request.query : request.body) as Record<string, unknown> | null | undefined;
  if (typeof source !== 'object' || source === null) return null;
  const given = source['operationName'];
  if (typeof given === 'string') return OPERATION_NAME.test(given) ? given : null;
  const query = source['query'];
  return typeof query === 'string' ? (NAMED_OPERATION.exec(query)?.[1] ?? null) : null;
}
