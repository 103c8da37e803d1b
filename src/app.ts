import type { MikroORM } from '@mikro-orm/core';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AuditEvent } from './audit/audit-event.entity.js';
import { AuditLog } from './audit/audit-log.js';
import { Changes } from './audit/changes.js';
import { credentialKindOf, PrincipalResolver } from './credentials/principal-resolver.js';
import { SessionVerifier, sessionConfigWarnings, sessionSecret } from './auth/session.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { databaseKind } from './db/mikro-orm.config.js';
import { locksRows, openDatabase } from './db/orm.js';
import { ruleOf } from './audit/event-rules.js';
import { inProcessHub, redisHub, type TokenEventHub } from './events/event-hub.js';
import { LogFollower } from './events/log-follower.js';
import { publishTokenEvents } from './events/publish.js';
import { TokenEventService } from './events/token-event.service.js';
import { Sweeper } from './expiry/sweeper.js';
import type { Services } from './context.js';
import { registerRoutes } from './routes.js';
import type { ScimCredentials } from './scim/scim-credentials.js';
import { ScimTokenCache } from './scim/scim-token-cache.js';
import { buildAppSchema } from './schema.js';
import { Redis } from 'ioredis';
import { clientIpOf } from './http/client-ip.js';
import { RateLimits } from './http/rate-limits.js';
import { createHttpServer } from './http/server.js';
import { createWebSocketServer } from './http/websocket.js';
import { listenError } from './http/listen-error.js';
import { createLogger, prettyLogs } from './logger.js';
import { countAuthentication, countingHub, measuredAuthenticator } from './metrics/instrumented.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { createMail, type Mail } from './mail/mail.js';
import { queueMailFor } from './mail/outbox.js';
import { TokenService } from './tokens/token.service.js';
import { TokenUsage } from './tokens/token-usage.js';
import { createAdminServices } from './admin/admin-services.js';
import { postureWarning } from './posture.js';
import { seedDemo } from './users/seed.js';
import { UserService } from './users/user.service.js';

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
}

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

/** Opens and migrates the database, and seeds the demo organisations outside production. */
export async function prepareDatabase(config: Config, clock: Clock, logger: Logger): Promise<MikroORM> {
  const orm = await openDatabase(config.databaseUrl, logger);
  if (config.env !== 'production' && (await seedDemo(orm, clock.now()))) {
    logger.info('seeded the demo organisations Acme and Globex');
  }
  return orm;
}

/**
 * The connection for rate-limit counters and the readiness PING. Commands
 * fail at once while it is down (no offline queue, one retry), so a limiter
 * falls back to memory and `/readyz` answers, instead of both waiting.
 */
function sharedRedis(url: string): Redis {
  return new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
}

/**
 * Waits briefly for Redis, so a freshly started instance counts in the shared
 * budgets and reports ready at once. It starts without Redis all the same:
 * limits then count in memory and `/readyz` says 503 until Redis is back.
 */
async function connected(redis: Redis, logger: Logger): Promise<void> {
  if (redis.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    new Promise<string>((resolve) => redis.once('ready', () => resolve('ready'))),
    new Promise<string>((resolve) => redis.once('error', () => resolve('error'))),
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve('timeout'), 2_000))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') logger.warn('redis is not reachable at start: rate limits count in memory until it is');
}

/** Builds the service. Nothing happens until `start()`: no ports, timers or connections. */
export function createApp(config: Config, deps: AppDeps = {}): App {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger(config.logLevel, { pretty: prettyLogs(config) });
  let running: Running | null = null;
  const closers: (() => Promise<unknown>)[] = [];

  async function start(): Promise<Running> {
    if (running) return running;
    logger.warn({ posture: config.env }, postureWarning(config));
    try {
      const orm = await prepareDatabase(config, clock, logger);
      closers.unshift(() => orm.close());
      const metrics = createMetrics();
      const pollMs = config.eventPollInterval.ms;
      const hub = config.redisUrl
        ? redisHub(config.redisUrl, logger, {
            keyPrefix: config.redisKeyPrefix,
            // The follower's lease, and a little for the clocks' granularity.
            publishWaitMs: 3 * pollMs + 50,
            readyTimeoutMs: deps.timeouts?.eventsReadyMs,
            onPublishFailure: () => metrics.eventPublishFailures.inc(),
          })
        : inProcessHub(logger);
      closers.unshift(() => hub.close());
      // The stored log is the source of truth; Redis is the fast path (see LogFollower).
      // A SCIM token's issue, rotation or revocation comes from the admin CLI, which runs no hub: only the log brings it.
      const follower = new LogFollower({
        orm,
        hub,
        logger,
        intervalMs: pollMs,
        onOrganizationChange: (organizationId) => scimTokens.invalidateOrganization(organizationId),
      });
      const counted = countingHub(hub, metrics);
      // Events reach this instance while either path works.
      const events: TokenEventHub = { ...counted, healthy: () => counted.healthy() || follower.fresh() };
      const redis = config.redisUrl ? sharedRedis(config.redisUrl) : null;
      if (redis) {
        closers.unshift(async () => {
          if (redis.status === 'ready') await redis.quit();
          else redis.disconnect();
        });
        await connected(redis, logger);
      }
      const limits = new RateLimits({ limits: config.rateLimits, redis, keyPrefix: config.redisKeyPrefix, logger });
      const kind = databaseKind(config.databaseUrl);
      const usage = new TokenUsage({ orm, region: config.region, databaseKind: kind, logger });
      usage.start();
      closers.unshift(() => usage.stop());
      const sessions = new SessionVerifier(sessionSecret(config), config.session);
      for (const warning of sessionConfigWarnings(config)) logger.warn(warning);
      // With one instance nothing else changes what it cached (but the admin CLI, which the follower brings in).
      const cacheable = config.redisUrl ? () => follower.trusted() : () => true;
      const principals = new PrincipalResolver({ orm, sessions, usage, clock, cacheable, maxEntries: config.principalCacheSize });
      const scimTokens = new ScimTokenCache({ cacheable });
      // Registered first, so every other watcher of the hub already sees the user's current state.
      // After a Redis outage nothing is dropped wholesale: the follower delivered what Redis missed.
      events.onMessage((message) => {
        if (ruleOf(message.kind).invalidates) principals.invalidateUser(message.userId);
      });
      await follower.start();
      closers.unshift(() => follower.stop());
      // The outbox hook writes each event's email in the event's own transaction.
      const audit = new AuditLog(config.region, [queueMailFor(config)]);
      const mail = createMail({ config, orm, clock, logger, metrics });
      closers.unshift(() => mail.stop());
      const changes = new Changes(orm, audit, (recorded) => {
        deps.afterCommit?.(recorded);
        // This instance applies its own changes at once, before any event crosses Redis.
        for (const event of recorded) {
          if (event.subjectUserId && ruleOf(event.action).invalidates) principals.invalidateUser(event.subjectUserId);
        }
        mail.nudge();
        return publishTokenEvents(events, recorded);
      });
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
        readiness: {
          checks: {
            // Not a query: since MikroORM 7 a query reopens a closed connection (lazy connect), so
            // `select 1` answered even with the database gone. This asks the open connection only.
            database: async () => {
              const check = await orm.checkConnection();
              if (!check.ok) throw check.error ?? new Error(check.reason);
            },
            ...(redis ? { redis: () => redis.ping() } : {}),
            // Without the hub, revocations from other instances cannot reach this one's sockets.
            events: () => (events.healthy() ? Promise.resolve() : Promise.reject(new Error('token events cannot flow'))),
          },
          details: async () => ({ region: config.region, mail: await mail.status() }),
        },
      });
      closers.unshift(closeHttp);
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
      closers.unshift(() => websockets.close());
      await http.listen({ host: config.host, port: config.port }).catch((error: unknown) => {
        throw listenError(error, config.port);
      });
      mail.start();
      metrics.observe({
        sockets: () => websockets.stats(),
        outbox: () => mail.status(),
        lastSweepAt: () => sweeper.lastCompletedAt,
        now: () => clock.now(),
      });
      if (deps.autoSweep !== false) sweeper.start();
      closers.unshift(() => sweeper.stop());
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
