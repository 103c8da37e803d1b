import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { MIGRATIONS_DIR, type DatabaseKind } from '../db/mikro-orm.config.js';
import { openDatabase } from '../db/orm.js';

/**
 * `npm run migration:create -- <name>`: migrates a scratch database of each
 * kind to the current head, then lets MikroORM's migrator write the
 * difference between it and the entities as a new migration file per kind.
 * Review each file (MikroORM's SQLite diff can propose needless table
 * rebuilds), list it in `src/db/migrations.ts`, and run
 * `test/db/schema-drift.test.ts`.
 */
async function main(name: string | undefined): Promise<number> {
  if (!name || !/^[a-z0-9_]+$/.test(name)) {
    process.stderr.write('usage: npm run migration:create -- <name in snake_case>\n');
    return 2;
  }
  for (const kind of ['sqlite', 'postgresql'] as const) {
    const scratch = await scratchDatabase(kind);
    try {
      const orm = await openDatabase(scratch.url);
      try {
        const result = await orm.migrator.create(MIGRATIONS_DIR[kind], false, false, name);
        process.stdout.write(
          result.fileName
            ? `${kind}: wrote ${MIGRATIONS_DIR[kind]}/${result.fileName}; add it to src/db/migrations.ts\n`
            : `${kind}: the entities and the migrations agree; nothing to write\n`,
        );
      } finally {
        await orm.close();
      }
    } finally {
      await scratch.drop();
    }
  }
  return 0;
}

interface Scratch {
  readonly url: string;
  drop(): Promise<void>;
}

/** A throwaway database: a temporary SQLite file, or a new database on `MIGRATION_POSTGRES_URL`'s server. */
async function scratchDatabase(kind: DatabaseKind): Promise<Scratch> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'migration-create-'));
    return {
      url: `sqlite:${join(dir, 'scratch.sqlite')}`,
      drop: () => {
        rmSync(dir, { recursive: true, force: true });
        return Promise.resolve();
      },
    };
  }
  const admin = process.env['MIGRATION_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const database = `migration_scratch_${randomBytes(4).toString('hex')}`;
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`create database ${database}`);
  const url = new URL(admin);
  url.pathname = `/${database}`;
  return { url: url.toString(), drop: () => run(`drop database if exists ${database} with (force)`) };
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
