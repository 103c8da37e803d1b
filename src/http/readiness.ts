import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { sha256 } from '../sha256.js';

/** A dependency the service cannot serve without; resolves when it answers. */
export type ReadinessCheck = () => Promise<unknown>;

export interface ReadinessOptions {
  /** By name (`database`, `redis`); each must answer within `timeoutMs`. */
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
  /** Operational details (mail queue, region) for callers holding `metricsToken`. */
  readonly details: () => Promise<Record<string, unknown>>;
  /** Null: nobody sees details over HTTP; failures still go to the log. */
  readonly metricsToken: string | null;
  /** True once the instance is shutting down: a load balancer should stop sending it traffic. */
  readonly stopping: () => boolean;
  readonly logger: Logger;
  /** @default 2_000 */
  readonly timeoutMs?: number;
}

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `GET /readyz`: 200 `{status: "ready"}` when every dependency answers, 503
 * `{status: "unavailable"}` when one does not or the instance is stopping.
 * Anonymous callers learn nothing else: not which dependency failed, not its
 * name, address or error (those go to the log). A caller with
 * `Authorization: Bearer <METRICS_TOKEN>` also gets each check and the details;
 * one with a wrong credential gets 401 (counted against its address).
 */
export function registerReadiness(app: FastifyInstance, options: ReadinessOptions): void {
  const { checks, details, metricsToken, stopping, logger, timeoutMs = 2_000 } = options;
  const expected = metricsToken === null ? null : sha256(`Bearer ${metricsToken}`);
  const privileged = (authorization: string | undefined) =>
    expected !== null && authorization !== undefined && timingSafeEqual(sha256(authorization), expected);

  app.get('/readyz', async (request, reply) => {
    // A wrong METRICS_TOKEN is a 401, not a quiet "no details": so a guess
    // counts against the address as every failed credential does.
    const { authorization } = request.headers;
    if (expected !== null && authorization !== undefined && authorization.trim() !== '' && !privileged(authorization)) {
      return reply
        .status(401)
        .header('www-authenticate', 'Bearer realm="metrics"')
        .header('cache-control', 'no-store')
        .send({
          errors: [{ message: 'Send Authorization: Bearer <METRICS_TOKEN>, or no credential.', extensions: { code: 'UNAUTHENTICATED' } }],
        });
    }
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await within(check(), timeoutMs);
          return [name, 'ok'] as const;
        } catch (error) {
          logger.warn({ err: error, check: name }, 'readiness check failed');
          return [name, 'failed'] as const;
        }
      }),
    );
    const ready = !stopping() && results.every(([, result]) => result === 'ok');
    void reply.status(ready ? 200 : 503).header('cache-control', 'no-store');
    const status = ready ? 'ready' : 'unavailable';
    if (!privileged(request.headers.authorization)) return { status };
    let extra: Record<string, unknown>;
    try {
      extra = await within(details(), timeoutMs);
    } catch (error) {
      logger.warn({ err: error }, 'readiness details unavailable');
      extra = {};
    }
    return { status, stopping: stopping(), checks: Object.fromEntries(results), ...extra };
  });
}
