import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { openDatabase } from '../../src/db/orm.js';
import { createTestDatabase, withClient, type TestDatabase } from '../support/postgres.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Databases made by the last release on MikroORM 6 (dumped by `sqlite3 .dump`
 * and `pg_dump --inserts` right after its first start and one generated
 * token each) must open under this release: no migration runs twice, the
 * data reads back, and a token issued then still authenticates.
 */
const FIXTURES = join(import.meta.dirname, 'fixtures');
/** The tokens those releases minted, on 2026-12-05, for alice@example.com. */
const V6_TOKENS = {
  sqlite: { secret: 'own_7VbBAHPliw5fsXzwpKcvPi8hOJlbKoFdcnbEy13fjhY1ShzRD', id: 'a521e6e2-6d4b-448e-8d98-bae6676e4f16' },
  postgresql: { secret: 'own_oGdjMPxii0JCjqNsMcovdkRmbCGEcg4uwVXmvjWkKDq0T2TWu', id: '090d3df2-e89a-405c-bb8b-ad674f267ebf' },
};
/** A day after the dumps were made: the fixture tokens are then live whatever today's date is. */
const clock = () => new ManualClock('2026-12-06T00:00:00.000Z');

describe('upgrading a database made by the MikroORM 6 release', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function checkUpgraded(url: string, token: { secret: string; id: string }): Promise<void> {
    const orm = await openDatabase(url);
    try {
      expect(await orm.migrator.getPending()).toEqual([]);
      const executed = (await orm.migrator.getExecuted()).map((row) => row.name);
      // Each migration ran once: the old release's rows were recognised, not run again.
      expect(new Set(executed).size).toBe(executed.length);
    } finally {
      await orm.close();
    }
    const app: TestApp = await startTestApp({ DATABASE_URL: url }, { clock: clock() });
    cleanups.push(() => app.stop());
    const read = await app.gql<{ me: { email: string }; myApiToken: { id: string } | null }>('{ me { email } myApiToken { id } }', {
      auth: token.secret,
    });
    expect(read.body.errors).toBeUndefined();
    expect(read.body.data).toEqual({ me: { email: 'alice@example.com' }, myApiToken: { id: token.id } });
    // The upgraded database takes writes: bob, who had no token, gets one.
    const generated = await app.gql<{ generateApiToken: { secret: string } }>('mutation { generateApiToken { secret } }', {
      auth: await app.session('bob@example.com'),
    });
    expect(generated.body.errors).toBeUndefined();
    expect(generated.body.data?.generateApiToken.secret).toMatch(/^own_/);
  }

  it('SQLite: the old file migrates, reads back and takes writes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'api-tokens-upgrade-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'v6.sqlite');
    const db = new DatabaseSync(file);
    db.exec(await readFile(join(FIXTURES, 'v6-sqlite.sql'), 'utf8'));
    db.close();
    await checkUpgraded(`sqlite:${file}`, V6_TOKENS.sqlite);
  });

  it('PostgreSQL: the old database migrates, reads back and takes writes', async () => {
    const database: TestDatabase = await createTestDatabase();
    cleanups.push(() => database.drop());
    const fixture = await readFile(join(FIXTURES, 'v6-postgresql.sql'), 'utf8');
    await withClient(database.url, (client) => client.query(fixture));
    await checkUpgraded(database.url, V6_TOKENS.postgresql);
  });
});
