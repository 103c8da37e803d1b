import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { MigrationObject, Options } from '@mikro-orm/core';
import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig as definePostgres } from '@mikro-orm/postgresql';
import { defineConfig as defineSqlite } from '@mikro-orm/sqlite';
import type { Logger } from 'pino';
import { entities } from '../entities.js';
import { postgresMigrations, sqliteMigrations } from './migrations.js';

export type DatabaseKind = 'sqlite' | 'postgresql';

export function databaseKind(url: string): DatabaseKind {
  return url.startsWith('sqlite:') ? 'sqlite' : 'postgresql';
}

/** Where each kind's migration files live; `npm run migration:create` writes new ones there. */
export const MIGRATIONS_DIR: Record<DatabaseKind, string> = {
  sqlite: 'migrations/sqlite',
  postgresql: 'migrations/postgresql',
};

const MIGRATIONS: Record<DatabaseKind, MigrationObject[]> = {
  sqlite: sqliteMigrations,
  postgresql: postgresMigrations,
};

/**
 * The one MikroORM configuration, for the service, the tests and the
 * migration generator alike. Entities and migrations are listed in code (not
 * discovered on disk), so the same build runs from `src/` under the tests and
 * from `dist/` in production.
 */
export function ormConfig(url: string, logger?: Logger): Partial<Options> {
  const kind = databaseKind(url);
  const common = {
    entities,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    forceUtcTimezone: true,
    allowGlobalContext: false,
    debug: false,
    logger: (message: string) => logger?.debug({ orm: message }),
    discovery: { warnWhenNoEntities: false },
    migrations: {
      migrationsList: MIGRATIONS[kind],
      path: MIGRATIONS_DIR[kind],
      transactional: true,
      snapshot: false,
      emit: 'ts' as const,
    },
  };
  if (kind === 'sqlite') {
    const file = resolve(url.slice('sqlite:'.length));
    mkdirSync(dirname(file), { recursive: true });
    return defineSqlite({ ...common, dbName: file });
  }
  return definePostgres({ ...common, clientUrl: url, pool: { min: 0, max: 10 } });
}
