import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MikroORM, ReflectMetadataProvider, type Options } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import type { Logger } from 'pino';
import { entities } from './entities.js';
import { postgresMigrations, sqliteMigrations } from './migrations.js';

export type DatabaseKind = 'sqlite' | 'postgresql';

export function databaseKind(url: string): DatabaseKind {
  return url.startsWith('sqlite:') ? 'sqlite' : 'postgresql';
}

/**
 * Opens the database named by `url` and brings its schema up to date.
 * Migrations are listed in code (not discovered on disk), so the same build
 * runs from `src/` under the tests and from `dist/` in production.
 */
export async function openDatabase(url: string, logger?: Logger): Promise<MikroORM> {
  const kind = databaseKind(url);
  const common: Options = {
    entities,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    forceUtcTimezone: true,
    allowGlobalContext: false,
    debug: false,
    logger: (message) => logger?.debug({ orm: message }),
    discovery: { warnWhenNoEntities: false },
  };
  let orm: MikroORM;
  if (kind === 'sqlite') {
    const file = resolve(url.slice('sqlite:'.length));
    mkdirSync(dirname(file), { recursive: true });
    const { SqliteDriver } = await import('@mikro-orm/sqlite');
    orm = await MikroORM.init({
      ...common,
      driver: SqliteDriver,
      dbName: file,
      migrations: { migrationsList: sqliteMigrations, transactional: true, snapshot: false },
    });
    const connection = orm.em.getConnection();
    // WAL lets the session CLI read while the server writes; busy_timeout makes
    // a second process wait for the lock instead of failing at once.
    await connection.execute('pragma journal_mode = wal');
    await connection.execute('pragma busy_timeout = 5000');
  } else {
    const { PostgreSqlDriver } = await import('@mikro-orm/postgresql');
    orm = await MikroORM.init({
      ...common,
      driver: PostgreSqlDriver,
      clientUrl: url,
      pool: { min: 0, max: 10 },
      migrations: { migrationsList: postgresMigrations, transactional: true, snapshot: false },
    });
  }
  try {
    await (kind === 'postgresql' ? migrateExclusively(orm) : migrateWithRetry(orm, logger));
  } catch (error) {
    await orm.close(true);
    throw error;
  }
  return orm;
}

/**
 * Any fixed 64-bit number, the same in every instance and release: the
 * PostgreSQL advisory lock that one instance at a time migrates under.
 */
const MIGRATION_LOCK_KEY = 4_815_162_342;

/**
 * Runs the migrations inside one transaction that first takes an advisory
 * lock. Instances starting together on an empty database otherwise race to
 * create the migrations table and the schema, and all but one die. Here the
 * others wait for the lock, then find nothing pending. The lock is released
 * at commit or rollback, so a crashed instance cannot leave it held.
 */
async function migrateExclusively(orm: MikroORM): Promise<void> {
  const connection = orm.em.getConnection();
  await connection.transactional(async (trx) => {
    await connection.execute('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY], 'all', trx);
    await orm.getMigrator().up({ transaction: trx });
  });
}

/**
 * SQLite serialises writers, but two processes starting on one new file can
 * still both try to create the migrations table; the loser sees "already
 * exists". Its migration transaction rolled back, so trying again finds the
 * schema the winner made. Not a lock: enough that neither process crashes.
 */
async function migrateWithRetry(orm: MikroORM, logger: Logger | undefined, attempts = 3): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await orm.getMigrator().up();
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
      logger?.warn({ err: error, attempt }, 'migration raced another process; trying again');
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}
