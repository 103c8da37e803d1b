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
  await orm.getMigrator().up();
  return orm;
}
