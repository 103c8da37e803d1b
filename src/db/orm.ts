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
 * Runs `work` again, after a short, growing and jittered pause, while SQLite
 * answers "busy"; any other failure, or the last attempt's, is thrown. `work`
 * must be safe to repeat: a whole transaction, never half of one. Ten attempts
 * wait about 3 s in all: the other writer's transaction may take that long on
 * a loaded machine, and two processes that collided must not collide again in
 * step.
 */
export async function retryWhileBusy<T>(work: () => Promise<T>, attempts = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isBusy(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(10 * 2 ** attempt, 500) * (0.5 + Math.random())));
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
 * SQLite serialises writers, but two processes starting on one new file race:
 * both may try to create the migrations table (the loser sees "already
 * exists"), and a migration transaction reads (which migrations ran) before it
 * writes, so in WAL mode it is refused at once with SQLITE_BUSY when the other
 * process holds or has just released the write lock; busy_timeout does not
 * apply to that upgrade. Each refused attempt rolled back, so trying again
 * finds the schema the winner made. It tries again for as long as the other
 * process may plausibly take (under load, seconds), with growing, jittered
 * pauses, and only for those two refusals: anything else fails at once.
 */
async function migrateWithRetry(orm: MikroORM, logger: Logger | undefined, patienceMs = 60_000): Promise<void> {
  const deadline = Date.now() + patienceMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await orm.migrator.up();
      return;
    } catch (error) {
      if (!racedAnotherProcess(error) || Date.now() >= deadline) throw error;
      if (attempt === 3) logger?.warn({ err: error, attempt }, 'migration raced another process; still trying');
      await new Promise((resolve) => setTimeout(resolve, Math.min(25 * 2 ** attempt, 1_000) * (0.5 + Math.random())));
    }
  }
}

/** Busy or "already exists", here or in a cause (MikroORM wraps a migration's error in a MigrationError). */
function racedAnotherProcess(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    if (isBusy(current)) return true;
    const message = current instanceof Error ? current.message : '';
    if (/SQLITE_BUSY|database is locked|already exists/i.test(message)) return true;
  }
  return false;
}
