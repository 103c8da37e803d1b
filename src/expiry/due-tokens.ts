import type { EntityManager } from '@mikro-orm/core';
import { sqlDate, sqlNames, toDate } from '../db/columns.js';
import type { TokenTimes } from '../tokens/expiry-rules.js';
import type { ExpiringToken } from '../tokens/token.service.js';
import { ApiToken } from '../tokens/api-token.entity.js';
import { User } from '../users/user.entity.js';

/** A token a sweep has claimed: what expiring it or warning about it needs, as plain data. */
export interface DueToken extends ExpiringToken, TokenTimes {}

/** Where a sweep's walk along `(expires_at, id)` has got to: the last row claimed. */
export interface Position {
  readonly expiresAt: Date;
  readonly id: string;
}

/** Which tokens to claim: expiring at or before `expiresBy`, and whatever else is given. */
export interface DueQuery {
  readonly expiresBy: Date;
  /** And after this instant. */
  readonly expiresAfter?: Date;
  /** Only this token (a socket's timer at its `expiresAt`). */
  readonly id?: string;
  /** Not yet warned at this threshold or a nearer one (`warned_threshold_ms` null or larger). */
  readonly notWarnedAt?: number;
  /** After this row, in `(expires_at, id)` order. */
  readonly after: Position | null;
  readonly limit: number;
  /** Take row locks, skipping rows another sweeper holds (PostgreSQL); SQLite serialises writers by itself. */
  readonly lock: boolean;
}

/**
 * Claims up to `limit` tokens for the caller's transaction, in the order of
 * the `(expires_at, id)` index from `after` on, so a batch reads its rows
 * off the index without sorting the backlog; on PostgreSQL `FOR UPDATE SKIP
 * LOCKED`, so concurrent sweepers on other instances take different rows.
 *
 * Plain SQL, not entities: a sweep of 100,000 expired tokens spent most of
 * its time creating, tracking and flushing entities (bench/REPORT.md).
 */
export async function claimDueTokens(em: EntityManager, query: DueQuery): Promise<DueToken[]> {
  const t = sqlNames(em, ApiToken);
  const u = sqlNames(em, User);
  const expiresAt = `t.${t.column('expiresAt')}`;
  const id = `t.${t.column('id')}`;
  const where = [`${expiresAt} <= ?`];
  const params: unknown[] = [sqlDate(em, query.expiresBy)];
  if (query.expiresAfter) {
    where.push(`${expiresAt} > ?`);
    params.push(sqlDate(em, query.expiresAfter));
  }
  if (query.id !== undefined) {
    where.push(`${id} = ?`);
    params.push(query.id);
  }
  if (query.notWarnedAt !== undefined) {
    const warned = `t.${t.column('warnedThresholdMs')}`;
    where.push(`(${warned} is null or ${warned} > ?)`);
    params.push(query.notWarnedAt);
  }
  if (query.after) {
    // The first term bounds the index range; the second steps past the last row claimed.
    where.push(`${expiresAt} >= ? and (${expiresAt} > ? or ${id} > ?)`);
    const at = sqlDate(em, query.after.expiresAt);
    params.push(at, at, query.after.id);
  }
  params.push(query.limit);
  const sql = `select ${id} as id, t.${t.column('hint')} as hint, t.${t.column('createdAt')} as created_at,
                      ${expiresAt} as expires_at, t.${t.column('warnedThresholdMs')} as warned_threshold_ms,
                      t.${t.column('user')} as user_id, u.${u.column('organization')} as organization_id
                 from ${t.table} t join ${u.table} u on u.${u.column('id')} = t.${t.column('user')}
                where ${where.join(' and ')}
                order by ${expiresAt}, ${id}
                limit ?${query.lock ? ' for update of t skip locked' : ''}`;
  // Raw SQL comes back untyped; `Row` is the shape of what this query selects.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
  const rows: Row[] = await em.getConnection().execute(sql, params, 'all', em.getTransactionContext());
  return rows.map((row) => ({
    id: row.id,
    hint: row.hint,
    createdAt: toDate(row.created_at),
    expiresAt: toDate(row.expires_at),
    warnedThresholdMs: row.warned_threshold_ms === null ? null : Number(row.warned_threshold_ms),
    user: { id: row.user_id, organization: { id: row.organization_id } },
  }));
}

interface Row {
  id: string;
  hint: string;
  created_at: unknown;
  expires_at: unknown;
  warned_threshold_ms: number | string | null;
  user_id: string;
  organization_id: string;
}
