import type { MikroORM } from '@mikro-orm/core';
import { AuditEvent } from '../audit/audit-event.entity.js';
import type { AuditAction } from '../audit/event-rules.js';
import { marks, sqlNames, toDate } from '../db/columns.js';
import type { StoredEvent } from './token-event.js';

/** The audit trail as the log follower reads it, by id. */
export interface StoredLog {
  /** The newest row's id (0: none). */
  newestId(): Promise<number>;
  /** Up to `limit` rows after `cursor`, and those of `gaps` (ids below it not seen yet), in id order. */
  after(cursor: number, gaps: readonly number[], limit: number): Promise<StoredEvent[]>;
}

/**
 * Reads the rows as plain data, not entities: every row a change writes is
 * read here on every instance (100,000 of them after a sweep of a backlog),
 * and hydrating entities was most of what a page cost, in one stretch of the
 * event loop (about 200-300 ms for 500 rows on the scale bench's server).
 */
export function storedLog(orm: MikroORM): StoredLog {
  const a = sqlNames(orm, AuditEvent);
  const id = a.column('id');
  const columns = [
    `${id} as id`,
    `${a.column('action')} as action`,
    `${a.column('subjectUserId')} as subject_user_id`,
    `${a.column('organizationId')} as organization_id`,
    `${a.column('tokenId')} as token_id`,
    `${a.column('occurredAt')} as occurred_at`,
    `${a.column('tokenExpiresAt')} as token_expires_at`,
    `${a.column('daysLeft')} as days_left`,
    `${a.column('threshold')} as threshold`,
    `${a.column('actorLabel')} as actor_label`,
    `${a.column('reason')} as reason`,
  ].join(', ');
  return {
    async newestId() {
      const [newest] = await orm.em.fork().find(AuditEvent, {}, { orderBy: { id: 'desc' }, limit: 1, fields: ['id'] });
      return newest?.id ?? 0;
    },
    async after(cursor, gaps, limit) {
      const sql = `select ${columns} from ${a.table}
                    where ${id} > ?${gaps.length ? ` or ${id} in (${marks(gaps)})` : ''}
                    order by ${id} limit ?`;
      // Raw SQL comes back untyped; `Row` is the shape of what this query selects.
      // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
      const rows: Row[] = await orm.em.getConnection().execute(sql, [cursor, ...gaps, limit]);
      return rows.map((row) => ({
        id: Number(row.id),
        action: row.action,
        subjectUserId: row.subject_user_id,
        organizationId: row.organization_id,
        tokenId: row.token_id,
        occurredAt: toDate(row.occurred_at),
        tokenExpiresAt: row.token_expires_at === null ? null : toDate(row.token_expires_at),
        daysLeft: row.days_left === null ? null : Number(row.days_left),
        threshold: row.threshold,
        actorLabel: row.actor_label,
        reason: row.reason,
      }));
    },
  };
}

interface Row {
  id: number | string;
  action: AuditAction;
  subject_user_id: string | null;
  organization_id: string | null;
  token_id: string | null;
  occurred_at: unknown;
  token_expires_at: unknown;
  days_left: number | string | null;
  threshold: string | null;
  actor_label: string;
  reason: string | null;
}
