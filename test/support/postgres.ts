import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server CI and this machine run; override with TEST_POSTGRES_URL. */
const POSTGRES_ADMIN_URL = process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Names the suite's databases: `api_tokens_test_pool_0`, `_1`, … */
const POOL_PREFIX = 'api_tokens_test_pool_';
/** The first key of the advisory lock that lends slot n (the second key): any fixed number. */
const POOL_LOCK = 0x70_6f_6f_6c;
/** Far more than run at once (3 workers, at most two databases a file); past it something leaked. */
const POOL_SLOTS = 32;

export interface TestDatabase {
  readonly url: string;
  /** Gives the database back, closing whatever is still connected to it. */
  drop(): Promise<void>;
}

/**
 * An empty PostgreSQL database for one test file, its own until `drop()`.
 *
 * The suite keeps a few databases (`api_tokens_test_pool_<n>`) and lends them:
 * a session advisory lock on the lending connection makes slot n one file's,
 * and is released when the file gives it back or its process dies. A borrowed
 * database is emptied first (every connection to it closed, its schemas
 * dropped, an empty `public` made), so a test sees what a new database shows.
 * Creating and dropping a database for each file instead copied and deleted
 * its ~300 catalog files each time: about 0.2 CPU-s of PostgreSQL a file.
 *
 * `throwaway`: a database of its own name instead, dropped by `drop()`, for a
 * benchmark's million rows, which must not stay on disk until the next test run.
 */
export async function createTestDatabase(options: { firstSlot?: number; throwaway?: boolean } = {}): Promise<TestDatabase> {
  if (options.throwaway) return throwawayDatabase();
  const lender = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await lender.connect();
  try {
    const slot = await claimSlot(lender, options.firstSlot ?? 0);
    const name = `${POOL_PREFIX}${slot}`;
    const exists = await lender.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) await lender.query(`create database ${name}`);
    else await empty(lender, name);
    return {
      url: databaseUrl(name),
      drop: async () => {
        try {
          await closeConnections(lender, name);
        } finally {
          await lender.end();
        }
      },
    };
  } catch (error) {
    await lender.end();
    throw error;
  }
}

async function throwawayDatabase(): Promise<TestDatabase> {
  const name = `api_tokens_throwaway_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  return { url: databaseUrl(name), drop: () => adminQuery(`drop database if exists ${name} with (force)`) };
}

function databaseUrl(name: string): string {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs `work` on a connection of its own to `url`, closed after. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function adminQuery(sql: string): Promise<void> {
  await withClient(POSTGRES_ADMIN_URL, (client) => client.query(sql));
}

/** The first free slot from `first` on (a test of the pool starts high, clear of the files running beside it). */
async function claimSlot(lender: pg.Client, first: number): Promise<number> {
  for (let slot = first; slot < POOL_SLOTS; slot++) {
    const { rows } = await lender.query<{ claimed: boolean }>('select pg_try_advisory_lock($1, $2) as claimed', [POOL_LOCK, slot]);
    if (rows[0]?.claimed) return slot;
  }
  throw new Error(`all ${POOL_SLOTS} test databases are lent: a test file did not drop() its own`);
}

/** Ends every other session on `name`: a test's own (an instance it killed), or one left by a crashed run. */
async function closeConnections(lender: pg.Client, name: string): Promise<void> {
  await lender.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
}

/** Drops everything a test made in `name`, leaving it as `create database` would. */
async function empty(lender: pg.Client, name: string): Promise<void> {
  await closeConnections(lender, name);
  await withClient(databaseUrl(name), async (db) => {
    const { rows } = await db.query<{ name: string }>(
      "select nspname as name from pg_namespace where nspname <> 'information_schema' and nspname not like 'pg\\_%'",
    );
    const drops = rows.map((schema) => `drop schema ${pg.escapeIdentifier(schema.name)} cascade;`).join('\n');
    // As in a new database: `public` owned by pg_database_owner, open to every role (PostgreSQL 15's default).
    await db.query(`${drops}\ncreate schema public authorization pg_database_owner;\ngrant usage on schema public to public;`);
  });
}
