import { MikroORM } from '@mikro-orm/core';
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
  if (databaseKind(url) === 'sqlite') {
    const connection = orm.em.getConnection();
    // WAL lets the session CLI read while the server writes; busy_timeout makes
    // a second process wait for the lock instead of failing at once.
    await connection.execute('pragma journal_mode = wal');
    await connection.execute('pragma busy_timeout = 5000');
  }
  await orm.migrator.up();
  return orm;
}
