import type { MikroORM } from '@mikro-orm/core';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AuditLog } from './audit/audit-log.js';
import { Changes } from './audit/changes.js';
import { Authenticator } from './auth/authenticator.js';
import { SessionVerifier, sessionSecret } from './auth/session.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { databaseKind, openDatabase } from './db/orm.js';
import { inProcessHub, redisHub, type TokenEventHub } from './events/event-hub.js';
import { publishTokenEvents } from './events/publish.js';
import { TokenEventService } from './events/token-event.service.js';
import { Sweeper } from './expiry/sweeper.js';
import type { Services } from './http/context.js';
import { buildAppSchema } from './http/schema.js';
import { createHttpServer } from './http/server.js';
import { registerWeb } from './http/web.js';
import { createWebSocketServer } from './http/websocket.js';
import { createLogger } from './logger.js';
import { createMail, type Mail } from './mail/mail.js';
import { TokenService } from './tokens/token.service.js';
import { createAdminServices } from './users/admin-services.js';
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
      const audit = new AuditLog(config.region);
      const mail = createMail({ config, orm, audit, clock, logger });
      closers.unshift(() => mail.stop());
      const changes = new Changes(orm, audit, (recorded) => {
        publishTokenEvents(events, recorded);
        mail.nudge();
      });
      const users = new UserService(orm);
      const tokens = new TokenService(orm, changes, clock, config);
      const sessions = new SessionVerifier(sessionSecret(config), config.session);
      const services: Services = {
        config,
        clock,
        tokens,
        users,
        events: new TokenEventService(orm, events),
        admin: createAdminServices(orm, changes, clock, tokens),
      };
      const schema = await buildAppSchema();
      const authenticator = new Authenticator(sessions, tokens, users);

      const { app: http } = await createHttpServer({
        config,
        logger,
        schema,
        authenticator,
        services,
        ready: async () => {
          await orm.em.getConnection().execute('select 1');
          return { region: config.region, mail: await mail.status() };
        },
      });
      closers.unshift(() => http.close());
      await registerWeb(http, { config, sessions, users });
      const websockets = createWebSocketServer({ server: http.server, schema, authenticator, services, hub: events, logger });
      closers.unshift(() => websockets.close());
      await http.listen({ host: config.host, port: config.port });
      mail.start();
      const sweeper = new Sweeper({ changes, tokens, clock, config, logger, lockRows: databaseKind(config.databaseUrl) === 'postgresql' });
      if (deps.autoSweep !== false) sweeper.start();
      closers.unshift(() => sweeper.stop());
      const address = http.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
      running = { url: `http://${host}:${port}/graphql`, port, orm, services, sessions, events, sweeper, http, mail };
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
