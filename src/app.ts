import type { MikroORM } from '@mikro-orm/core';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AuditLog } from './audit/audit-log.js';
import { Changes } from './audit/changes.js';
import { Authenticator } from './auth/authenticator.js';
import { SessionVerifier, sessionSecret } from './auth/session.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { openDatabase } from './db/orm.js';
import { createTokenPubSub, publishTokenEvents, type TokenPubSub } from './events/event-bus.js';
import type { Services } from './http/context.js';
import { buildAppSchema } from './http/schema.js';
import { createHttpServer } from './http/server.js';
import { createLogger } from './logger.js';
import { TokenService } from './tokens/token.service.js';
import { seedDemo } from './users/seed.js';
import { UserService } from './users/user.service.js';

export interface AppDeps {
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** What a running app exposes to its tests and CLIs. */
export interface Running {
  readonly url: string;
  readonly port: number;
  readonly orm: MikroORM;
  readonly services: Services;
  readonly sessions: SessionVerifier;
  readonly pubSub: TokenPubSub;
  readonly http: FastifyInstance;
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
      const pubSub = createTokenPubSub();
      const audit = new AuditLog(config.region);
      const changes = new Changes(orm, audit, (events) => publishTokenEvents(pubSub, events));
      const users = new UserService(orm);
      const tokens = new TokenService(orm, changes, clock, config);
      const sessions = new SessionVerifier(sessionSecret(config), config.session);
      const services: Services = { config, clock, tokens, users };

      const { app: http } = await createHttpServer({
        config,
        logger,
        schema: await buildAppSchema(pubSub),
        authenticator: new Authenticator(sessions, tokens, users),
        services,
        ready: async () => {
          await orm.em.getConnection().execute('select 1');
          return { region: config.region };
        },
      });
      closers.unshift(() => http.close());
      await http.listen({ host: config.host, port: config.port });
      const address = http.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
      running = { url: `http://${host}:${port}/graphql`, port, orm, services, sessions, pubSub, http };
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
