import type { MikroORM } from '@mikro-orm/core';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AuditEvent } from './audit/audit-event.entity.js';
import { AuditLog } from './audit/audit-log.js';
import { Changes } from './audit/changes.js';
import { credentialKindOf, type PrincipalResolver } from './credentials/principal-resolver.js';
import type { SessionVerifier } from './auth/session.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { databaseKind } from './db/mikro-orm.config.js';
import { locksRows } from './db/orm.js';
import { ruleOf } from './audit/event-rules.js';
import type { TokenEventHub } from './events/event-hub.js';
import { publishTokenEvents } from './events/publish.js';
import { TokenEventService } from './events/token-event.service.js';
import { sweepSettings } from './expiry/sweep-protocol.js';
import { SweepThread } from './expiry/sweep-thread.js';
import { Sweeper } from './expiry/sweeper.js';
import type { Services } from './context.js';
import { registerRoutes } from './routes.js';
import type { ScimCredentials } from './scim/scim-credentials.js';
import { buildAppSchema } from './schema.js';
import { clientIpOf } from './http/client-ip.js';
import { RateLimits } from './http/rate-limits.js';
import { createHttpServer } from './http/server.js';
import { createWebSocketServer } from './http/websocket.js';
import { listenError } from './http/listen-error.js';
import { createLogger, prettyLogs } from './logger.js';
import { countAuthentication, measuredAuthenticator } from './metrics/instrumented.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { createMail, type Mail } from './mail/mail.js';
import { queueMailFor } from './mail/outbox.js';
import { TokenService } from './tokens/token.service.js';
import { TokenUsage } from './tokens/token-usage.js';
import { createAdminServices } from './admin/admin-services.js';
import { postureWarning } from './posture.js';
import { UserService } from './users/user.service.js';
import { createAuthority } from './wiring/authority.js';
import { prepareDatabase } from './wiring/database.js';
import { createEvents } from './wiring/events.js';
import { readinessOf } from './wiring/readiness.js';
import { connectSharedRedis } from './wiring/shared-redis.js';

export interface AppDeps {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** False: the sweeper runs only when `sweeper.sweep()` is called (tests that move a ManualClock). */
  readonly autoSweep?: boolean;
  /** Protocol timeouts, shortened by tests that wait for them to pass. */
  readonly timeouts?: Timeouts;
  /**
   * Called after a change committed, before anything else hears of it. Only
   * for fault injection in tests (see `main.ts`); nothing in production sets it.
   */
  readonly afterCommit?: (recorded: readonly AuditEvent[]) => void;
  /** Where the built profile page is (the tests' own build); default: see `registerWeb`. */
  readonly webDir?: string;
  /**
   * The compiled sweep thread (the tests' own build), or false to sweep on
   * this thread; default: `expiry/sweep-worker.js` beside this module.
   */
  readonly sweepWorker?: URL | false;
}

/** The sweep thread's module, beside this one in a build. */
const SWEEP_WORKER = new URL('./expiry/sweep-worker.js', import.meta.url);

export interface Timeouts {
  /**
   * A graphql-ws client that has not sent `connection_init` by then is closed (CONNECTION_INIT_TIMEOUT).
   * @default 3_000
   */
  readonly connectionInitMs?: number;
  /**
   * How long a subscriber waits for Redis to confirm its channel before failing (INTERNAL_SERVER_ERROR).
   * @default 5_000
   */
  readonly eventsReadyMs?: number;
}

/** What a running app exposes to its tests and CLIs. */
export interface Running {
  readonly url: string;
  readonly port: number;
  readonly orm: MikroORM;
  readonly services: Services;
  readonly sessions: SessionVerifier;
  readonly events: TokenEventHub;
  readonly sweeper: Sweeper;
  readonly http: FastifyInstance;
  readonly mail: Mail;
  /** Each organisation's SCIM bearer token. */
  readonly scim: ScimCredentials;
  /** This app's own metrics registry (served on `/metrics` when METRICS_TOKEN is set). */
  readonly metrics: Metrics;
  readonly principals: PrincipalResolver;
  /** Pending `lastUsedAt` writes; `flush()` writes them now. */
  readonly usage: TokenUsage;
}

export interface App {
  /** Opens the database (migrating it), seeds demo data outside production, and listens. */
  start(): Promise<Running>;
  /** Stops taking requests, lets running ones finish, and closes every connection. */
  stop(): Promise<void>;
}

/** Builds the service. Nothing happens until `start()`: no ports, timers or connections. */
export function createApp(config: Config, deps: AppDeps = {}): App {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger(config.logLevel, { pretty: prettyLogs(config) });
  let running: Running | null = null;
  const closers: (() => Promise<unknown>)[] = [];
  /** Registers what `stop()` closes: last opened, first closed. */
  const defer = (close: () => Promise<unknown>) => void closers.unshift(close);

  async function start(): Promise<Running> {
    if (running) return running;
    logger.warn({ posture: config.env }, postureWarning(config));
    try {
      const orm = await prepareDatabase(config, clock, logger);
      defer(() => orm.close());
      const metrics = createMetrics();
      const { events, follower, cacheable } = createEvents({
        config,
        orm,
        logger,
        metrics,
        readyTimeoutMs: deps.timeouts?.eventsReadyMs,
        // Called only once the follower has started, below, when `authority` exists.
        onOrganizationChange: (organizationId) => authority.scimTokens.invalidateOrganization(organizationId),
        onStop: defer,
      });
      const redis = config.redisUrl ? await connectSharedRedis(config.redisUrl, logger, defer) : null;
      const limits = new RateLimits({ limits: config.rateLimits, redis, keyPrefix: config.redisKeyPrefix, logger });
      const usage = new TokenUsage({ orm, region: config.region, databaseKind: databaseKind(config.databaseUrl), logger });
      usage.start();
      defer(() => usage.stop());
      const authority = createAuthority({ config, orm, clock, logger, usage, events, cacheable });
      const { sessions, principals, scimTokens } = authority;
      await follower.start();
      defer(() => follower.stop());
      // The outbox hook writes each event's email in the event's own transaction.
      const audit = new AuditLog(config.region, [queueMailFor()]);
      const mail = createMail({ config, orm, clock, logger, metrics });
      defer(() => mail.stop());
      /** What follows every commit, this thread's or the sweep thread's. */
      const published = (recorded: readonly AuditEvent[]) => {
        deps.afterCommit?.(recorded);
        // This instance applies its own changes at once, before any event crosses Redis.
        for (const event of recorded) {
          if (event.subjectUserId && ruleOf(event.action).invalidates) principals.invalidateUser(event.subjectUserId);
        }
        mail.nudge();
        return publishTokenEvents(events, recorded);
      };
      const changes = new Changes(orm, audit, published);
      const users = new UserService(orm);
      const tokens = new TokenService(orm, changes, clock, config, usage);
      const services: Services = {
        config,
        clock,
        tokens,
        principals,
        users,
        events: new TokenEventService(orm, events),
        admin: createAdminServices(orm, changes, clock, tokens),
        limits,
      };
      const schema = await buildAppSchema();
      const authenticator = measuredAuthenticator(metrics, principals);

      const { app: http, close: closeHttp } = await createHttpServer({
        config,
        logger,
        schema,
        authenticator,
        services,
        limits,
        metrics,
        readiness: readinessOf({ config, orm, redis, events, mail }),
      });
      defer(closeHttp);
      const { scim } = await registerRoutes(http, {
        config,
        orm,
        changes,
        clock,
        logger,
        metrics,
        services,
        sessions,
        scimTokens,
        ...(deps.webDir ? { webDir: deps.webDir } : {}),
      });
      const sweeper = new Sweeper({ changes, tokens, clock, config, logger, metrics, lockRows: locksRows(config.databaseUrl) });
      const websockets = createWebSocketServer({
        server: http.server,
        schema,
        principals,
        services,
        hub: events,
        clock,
        logger,
        connectionInitWaitTimeout: deps.timeouts?.connectionInitMs,
        limits,
        clientIp: clientIpOf(config.trustProxy),
        // No credential at all: the socket is refused, counted as a malformed `none`.
        onAuthentication: (authorization, outcome) =>
          countAuthentication(metrics, outcome === null ? 'none' : credentialKindOf(authorization), outcome ?? 'MALFORMED'),
        expireToken: (tokenId) => sweeper.expireToken(tokenId),
      });
      defer(() => websockets.close());
      await http.listen({ host: config.host, port: config.port }).catch((error: unknown) => {
        throw listenError(error, config.port);
      });
      mail.start();
      metrics.observe({
        sockets: () => websockets.stats(),
        outbox: () => mail.status(),
        lastSweepAt: () => (sweepThread ?? sweeper).lastCompletedAt,
        now: () => clock.now(),
      });
      // On PostgreSQL the periodic sweep runs on its own thread; SQLite has one writer, this process's.
      const sweepThread =
        deps.autoSweep !== false && locksRows(config.databaseUrl) && deps.sweepWorker !== false
          ? new SweepThread({
              workerUrl: deps.sweepWorker ?? SWEEP_WORKER,
              settings: sweepSettings(config),
              afterCommit: published,
              logger,
              metrics,
            })
          : null;
      if (sweepThread) sweepThread.start();
      else if (deps.autoSweep !== false) sweeper.start();
      defer(() => Promise.all([sweeper.stop(), sweepThread?.stop()]));
      const address = http.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
      running = {
        url: `http://${host}:${port}/graphql`,
        port,
        orm,
        services,
        sessions,
        events,
        sweeper,
        http,
        mail,
        scim,
        metrics,
        principals,
        usage,
      };
      return running;
    } catch (error) {
      await stop();
      throw error;
    }
  }

  async function stop(): Promise<void> {
    running = null;
    const pending = closers.splice(0);
    for (const close of pending) {
      try {
        await close();
      } catch (error) {
        logger.error({ err: error }, 'error while stopping');
      }
    }
  }

  return { start, stop };
}
