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
      expect(await orm.migrator.getPending()).toEqual([]);
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
      await generated.schema.create();
      expect(await sqliteSchema(migrated)).toEqual(await sqliteSchema(generated));
    } finally {
      await migrated.close();
      await generated.close();
    }
  });
});

/**
 * Every table's columns, keys, foreign keys, indexes and CHECK constraints, read
 * from SQLite's own catalogue rather than compared as DDL text: the generator's
 * wording changes between MikroORM versions (`primary key ("id")` at the end
 * or inline), while what the database enforces does not. A foreign key's ON
 * UPDATE rule is left out: every key is a UUID or a sequence that never changes.
 */
async function sqliteSchema(orm: MikroORM): Promise<string[]> {
  const connection = orm.em.getConnection();
  const all = <T>(sql: string): Promise<T[]> => connection.execute(sql, [], 'all');
  const tables = await all<{ name: string; sql: string }>(
    "select name, sql from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'mikro_orm_%'",
  );
  const lines: string[] = [];
  for (const { name, sql } of tables) {
    for (const c of await all<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number }>(
      `pragma table_info("${name}")`,
    )) {
      lines.push(`${name} column ${c.name} ${c.type.toLowerCase()} notnull=${c.notnull} default=${c.dflt_value ?? ''} pk=${c.pk}`);
    }
    for (const f of await all<{ table: string; from: string; to: string; on_delete: string }>(`pragma foreign_key_list("${name}")`)) {
      lines.push(`${name} foreign key ${f.from} -> ${f.table}.${f.to} on delete ${f.on_delete.toLowerCase()}`);
    }
    for (const index of await all<{ name: string; unique: number; origin: string }>(`pragma index_list("${name}")`)) {
      if (index.origin === 'pk') continue;
      const columns = await all<{ name: string }>(`pragma index_info("${index.name}")`);
      lines.push(`${name} ${index.unique ? 'unique ' : ''}index (${columns.map((c) => c.name).join(', ')})`);
    }
    for (const check of sql.matchAll(/check \((?:[^()]|\([^()]*\))*\)/gi))
      lines.push(`${name} ${check[0].replace(/[`"]/g, '').replace(/\s+/g, ' ')}`);
  }
  return lines.sort();
}
