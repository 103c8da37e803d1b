import type { MikroORM } from '@mikro-orm/core';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AuditLog } from './audit/audit-log.js';
import { Changes } from './audit/changes.js';
import { PrincipalResolver } from './auth/principal-resolver.js';
import { SessionVerifier, sessionSecret } from './auth/session.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { databaseKind, openDatabase } from './db/orm.js';
import { ruleOf } from './events/event-rules.js';
import { inProcessHub, redisHub, type TokenEventHub } from './events/event-hub.js';
import { publishTokenEvents } from './events/publish.js';
import { TokenEventService } from './events/token-event.service.js';
import { Sweeper } from './expiry/sweeper.js';
import type { Services } from './auth/context.js';
import { buildAppSchema } from './schema.js';
import { createHttpServer } from './http/server.js';
import { createWebSocketServer } from './http/websocket.js';
import { createLogger } from './logger.js';
import { createMail, type Mail } from './mail/mail.js';
import { TokenService } from './tokens/token.service.js';
import { TokenUsage } from './tokens/token-usage.js';
import { createAdminServices } from './admin/admin-services.js';
import { seedDemo } from './users/seed.js';
import { UserService } from './users/user.service.js';

export interface AppDeps {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** False: the sweeper runs only when `sweeper.sweep()` is called (tests that move a ManualClock). */
  readonly autoSweep?: boolean;
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

/** Builds the service. Nothing happens until `start()`: no ports, timers or connections. */
export function createApp(config: Config, deps: AppDeps = {}): App {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger(config.logLevel);
  let running: Running | null = null;
  const closers: (() => Promise<unknown>)[] = [];

  async function start(): Promise<Running> {
    if (running) return running;
    try {
      const orm = await prepareDatabase(config, clock, logger);
      closers.unshift(() => orm.close());
      const events = config.redisUrl ? redisHub(config.redisUrl, logger) : inProcessHub(logger);
      closers.unshift(() => events.close());
      const kind = databaseKind(config.databaseUrl);
      const usage = new TokenUsage({ orm, region: config.region, databaseKind: kind, logger });
      usage.start();
      closers.unshift(() => usage.stop());
      const sessions = new SessionVerifier(sessionSecret(config), config.session);
      const principals = new PrincipalResolver({ orm, sessions, usage, clock, cacheable: () => events.healthy() });
      // Registered first, so every other watcher of the hub already sees the user's current state.
      events.onMessage((message) => {
        if (ruleOf(message.kind).invalidates) principals.invalidateUser(message.userId);
      });
      events.onResync(() => principals.clear());
      const audit = new AuditLog(config.region);
      const mail = createMail({ config, orm, audit, clock, logger });
      closers.unshift(() => mail.stop());
      const changes = new Changes(orm, audit, (recorded) => {
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
      };
      const schema = await buildAppSchema();

      const { app: http } = await createHttpServer({
        config,
        logger,
        schema,
        authenticator: principals,
        services,
        ready: async () => {
          await orm.em.getConnection().execute('select 1');
          // Without the hub, revocations from other instances cannot reach this one's sockets.
          if (!events.healthy()) throw new Error('token events cannot flow: Redis is unreachable');
          return { region: config.region, mail: await mail.status() };
        },
      });
      closers.unshift(() => http.close());
      const websockets = createWebSocketServer({ server: http.server, schema, principals, services, hub: events, clock, logger });
      closers.unshift(() => websockets.close());
      await http.listen({ host: config.host, port: config.port });
      mail.start();
      const sweeper = new Sweeper({ changes, tokens, clock, config, logger, lockRows: kind === 'postgresql' });
      if (deps.autoSweep !== false) sweeper.start();
      closers.unshift(() => sweeper.stop());
      const address = http.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
      running = { url: `http://${host}:${port}/graphql`, port, orm, services, sessions, events, sweeper, http, mail, principals, usage };
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
