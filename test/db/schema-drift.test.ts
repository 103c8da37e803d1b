import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { ormConfig } from '../../src/db/mikro-orm.config.js';
import { openDatabase } from '../../src/db/orm.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

/**
 * The entities are the one source of the schema: after every migration has
 * run, the database must be exactly what the entities describe. A column or
 * index without a migration, or a migration that drifts from its entity,
 * fails here with the difference.
 */
describe('migrations against the entities', () => {
  let db: TestDatabase | null = null;
  let dir: string | null = null;

  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('on PostgreSQL: MikroORM finds nothing to change after migrating', async () => {
    db = await createTestDatabase();
    const orm = await openDatabase(db.url);
    try {
      expect(await orm.migrator.getPendingMigrations()).toEqual([]);
      expect((await orm.schema.getUpdateSchemaSQL({ wrap: false })).trim()).toBe('');
    } finally {
      await orm.close();
    }
  });

  // MikroORM's SQLite comparator proposes rebuilding some tables even on a
  // database it created itself, so on SQLite the migrated schema is compared
  // with the one the schema generator creates from the entities.
  it('on SQLite: the migrated schema equals the one generated from the entities', async () => {
    dir = await mkdtemp(join(tmpdir(), 'api-tokens-drift-'));
    const migrated = await openDatabase(`sqlite:${join(dir, 'migrated.sqlite')}`);
    const generated = await MikroORM.init(ormConfig(`sqlite:${join(dir, 'generated.sqlite')}`));
    try {
      await generated.schema.createSchema();
      expect(await sqliteSchema(migrated)).toEqual(await sqliteSchema(generated));
    } finally {
      await migrated.close();
      await generated.close();
    }
  });
});

/** Every table and index, as normalised DDL, without the migrator's own bookkeeping table. */
async function sqliteSchema(orm: MikroORM): Promise<string[]> {
  const rows: { sql: string | null }[] = await orm.em
    .getConnection()
    .execute("select sql from sqlite_master where name not like 'sqlite_%' and name not like 'mikro_orm_%' and sql is not null", [], 'all');
  return rows
    .map((row) => (row.sql ?? '').replaceAll('`', '"').replace(/\bif not exists /i, '').replace(/\s+/g, ' ').trim())
    .sort();
}
