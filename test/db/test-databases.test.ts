import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, withClient } from '../support/postgres.js';

const query = <T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> =>
  withClient(url, async (client) => (await client.query<T>(sql)).rows);

/** The suite lends PostgreSQL databases from a pool (test/support/postgres.ts): each must look new. */
describe('test databases (PostgreSQL)', () => {
  it('are lent one to a borrower, and come back empty with whatever was left connected closed', async () => {
    // Slots far above the few the files running beside this one hold, so the same one is lent again below.
    const first = await createTestDatabase({ firstSlot: 28 });
    const second = await createTestDatabase({ firstSlot: 28 });
    expect(second.url).not.toBe(first.url);

    await query(first.url, 'create schema leftover; create table public.t (id int); create table leftover.u (id int)');
    const lingering = new pg.Client({ connectionString: first.url });
    await lingering.connect();
    const ended = new Promise<void>((resolve) => lingering.on('error', () => resolve()));
    await first.drop();
    await ended;
    await second.drop();

    // The lowest free slot is lent again: the database the first borrower left.
    const again = await createTestDatabase({ firstSlot: 28 });
    try {
      expect(again.url).toBe(first.url);
      const schemas = await query<{ nspname: string }>(
        again.url,
        "select nspname from pg_namespace where nspname <> 'information_schema' and nspname not like 'pg\\_%'",
      );
      expect(schemas.map((s) => s.nspname)).toEqual(['public']);
      expect(await query(again.url, "select 1 from pg_class where relnamespace = 'public'::regnamespace")).toEqual([]);
      // A new database lets any role use `public`, as PostgreSQL 15 makes it.
      const [usage] = await query<{ usable: boolean }>(again.url, "select has_schema_privilege('public', 'public', 'usage') as usable");
      expect(usage?.usable).toBe(true);
    } finally {
      await again.drop();
    }
  });
});
