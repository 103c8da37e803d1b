import { LockWaitTimeoutException, MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import { databaseKind, ormConfig } from './mikro-orm.config.js';

/**
 * Row locks (`FOR UPDATE`, `SKIP LOCKED`) where the database has them. SQLite
 * runs one writer at a time, so it needs none (and has no syntax for them).
 */
export function locksRows(url: string): boolean {
  return databaseKind(url) === 'postgresql';
}

/** Opens the database named by `url` and brings its schema up to date. */
export async function openDatabase(url: string, logger?: Logger): Promise<MikroORM> {
  const orm = await MikroORM.init(ormConfig(url, logger));
  try {
    if (databaseKind(url) === 'sqlite') {
      const connection = orm.em.getConnection();
      // busy_timeout makes a second process wait for the lock instead of failing
      // at once; WAL lets the session CLI read while the server writes. Turning
      // WAL on needs the file to itself, so a process starting beside another
      // can still be told "busy": it tries again.
      await connection.execute('pragma busy_timeout = 5000');
      await retryWhileBusy(() => connection.execute('pragma journal_mode = wal'));
    }
    await (databaseKind(url) === 'postgresql' ? migrateExclusively(orm) : migrateWithRetry(orm, logger));
  } catch (error) {
    await orm.close(true);
    throw error;
  }
  return orm;
}

/**
 * Whether SQLite refused for a lock another connection holds. In WAL mode a
 * transaction that read before another process wrote is refused at once when
 * it starts writing, whatever busy_timeout says: it must start again.
 */
function isBusy(error: unknown): boolean {
  return error instanceof LockWaitTimeoutException || (error as { code?: unknown } | null)?.code === 'SQLITE_BUSY';
}

/**
 * Runs `work` again, after a short and growing pause, while SQLite answers
 * "busy"; any other failure, or the last attempt's, is thrown. `work` must be
 * safe to repeat: a whole transaction, never half of one.
 */
export async function retryWhileBusy<T>(work: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isBusy(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
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
    // MikroORM types the knex transaction it hands out as `any`.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
    await orm.migrator.up({ transaction: trx });
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
      await orm.migrator.up();
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
      logger?.warn({ err: error, attempt }, 'migration raced another process; trying again');
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}
