import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { openDatabase } from '../db/orm.js';
import { seedDemo } from '../users/seed.js';

/**
 * Opens and migrates the database, and seeds the demo organisations outside
 * production. Apart from the app, so that a CLI which needs only the database
 * (`npm run -s session`) does not load the server too: half its start-up time.
 */
export async function prepareDatabase(config: Config, clock: Clock, logger: Logger): Promise<MikroORM> {
  const orm = await openDatabase(config.databaseUrl, logger);
  if (config.env !== 'production' && (await seedDemo(orm, clock.now()))) {
    logger.info('seeded the demo organisations Acme and Globex');
  }
  return orm;
}
