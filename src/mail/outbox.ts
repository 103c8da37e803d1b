import type { EntityManager } from '@mikro-orm/core';
import { AuditEvent } from '../audit/audit-event.entity.js';
import type { AuditHook } from '../audit/audit-log.js';
import { ruleOf } from '../audit/event-rules.js';
import { User } from '../users/user.entity.js';
import { OutboxMessage } from './outbox-message.entity.js';
import { marks, sqlNames } from '../db/columns.js';
import { MAIL_PRIORITIES, mailPriority, SWEEP_MAIL_KINDS } from './delivery-rules.js';
import { renderMail, type MailContent, type Recipient, type TemplateConfig } from './templates.js';

/** Stored events per insert: well within every database's limit on parameters. */
const QUEUE_PART = 1_000;

/**
 * The audit hook that queues the emails reporting events, inside the
 * transaction that records them: an email is sent if and only if its change
 * committed. Events users are not mailed about (admin actions) queue nothing.
 * A row names its event and recipient; the worker renders it when it sends
 * it (see `OutboxMessage`). A batch already stored (the sweeper's) gets its
 * rows in one insert from the stored events; a single event still in the
 * unit of work, with it at commit.
 */
export function queueMailFor({ queuePart = QUEUE_PART } = {}): AuditHook {
  return async (em: EntityManager, events: readonly AuditEvent[]) => {
    // Admin actions (USER_CREATED …) are not mailed and not worth a lookup.
    const mailed = events.filter((event) => event.subjectUserId !== null && ruleOf(event.action).mailed);
    if (mailed.length === 0) return;
    if (mailed.every(isStored)) {
      await queueStored(em, mailed, queuePart);
      return;
    }
    const recipients = await recipientsOf(em, mailed);
    for (const event of mailed) {
      const to = recipients.get(event.subjectUserId ?? '');
      if (!to) continue;
      em.persist(
        em.create(OutboxMessage, {
          createdAt: event.occurredAt,
          kind: event.action,
          recipient: to.email,
          recipientName: to.name,
          nextAttemptAt: event.occurredAt,
          priority: mailPriority(event.action),
          auditEvent: event,
        }),
      );
    }
  };
}

/**
 * One email per stored event, each to its user as they are now (in this
 * transaction), written by the database from the rows already there: a
 * sweep's batch is one short statement, not hundreds of rows built here.
 */
async function queueStored(em: EntityManager, events: readonly AuditEvent[], part: number): Promise<void> {
  const o = sqlNames(em, OutboxMessage);
  const a = sqlNames(em, AuditEvent);
  const u = sqlNames(em, User);
  const columns = (
    ['createdAt', 'kind', 'recipient', 'recipientName', 'status', 'priority', 'attempts', 'nextAttemptAt', 'auditEvent'] as const
  )
    .map((name) => o.column(name))
    .join(', ');
  for (let from = 0; from < events.length; from += part) {
    const ids = events.slice(from, from + part).map((event) => event.id);
    await em.getConnection().execute(
      `insert into ${o.table} (${columns})
       select a.${a.column('occurredAt')}, a.${a.column('action')}, u.${u.column('email')}, u.${u.column('name')}, 'PENDING',
              case when a.${a.column('action')} in (${marks(SWEEP_MAIL_KINDS)}) then 1 else 0 end, 0,
              a.${a.column('occurredAt')}, a.${a.column('id')}
         from ${a.table} a join ${u.table} u on u.${u.column('id')} = a.${a.column('subjectUserId')}
        where a.${a.column('id')} in (${marks(ids)})
        order by a.${a.column('id')}`,
      [...SWEEP_MAIL_KINDS, ...ids],
      'run',
      em.getTransactionContext(),
    );
  }
}

/** Why a queued row cannot be sent at all. */
export interface Unsendable {
  readonly unsendable: string;
}

/**
 * What a queued row sends: its own rendering (a row queued by an earlier
 * release), or `event`, the audit event it reports, rendered now for the
 * recipient it was queued for; why it cannot be sent when neither is there.
 */
export function contentOf(row: OutboxMessage, event: AuditEvent | undefined, templates: TemplateConfig): MailContent | Unsendable {
  if (row.text !== null) return { subject: row.subject ?? '', text: row.text, html: row.html ?? '' };
  if (!event) return { unsendable: 'the audit event it reports is not in the database' };
  const to = { email: row.recipient, name: row.recipientName ?? row.recipient };
  return renderMail(event, to, templates) ?? { unsendable: `no email template for ${event.action}` };
}

/** Whether an event is in the table already (`recordMany`), rather than waiting in the unit of work for the commit. */
function isStored(event: AuditEvent): boolean {
  return (event.id as number | undefined) !== undefined;
}

/**
 * The addressees of the events' users: those the transaction has loaded
 * already (a revoke has its user) from the identity map, the rest (a batch of
 * expiries) in one query.
 */
async function recipientsOf(em: EntityManager, events: readonly AuditEvent[]): Promise<Map<string, Recipient>> {
  const recipients = new Map<string, Recipient>();
  const missing = new Set<string>();
  for (const { subjectUserId: id } of events) {
    if (id === null || recipients.has(id)) continue;
    const user = em.getUnitOfWork().getById(User, id);
    if (user) recipients.set(id, { email: user.email, name: user.name });
    else missing.add(id);
  }
  if (missing.size > 0) {
    const u = sqlNames(em, User);
    const ids = [...missing];
    // Raw SQL comes back untyped; the row is what this query selects.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
    const rows: { id: string; email: string; name: string }[] = await em.getConnection().execute(
      `select ${u.column('id')} as id, ${u.column('email')} as email, ${u.column('name')} as name
           from ${u.table} where ${u.column('id')} in (${marks(ids)})`,
      ids,
      'all',
      em.getTransactionContext(),
    );
    for (const row of rows) recipients.set(row.id, { email: row.email, name: row.name });
  }
  return recipients;
}

export interface OutboxCounts {
  /** Queued and not yet sent, including those waiting for a retry. */
  readonly pending: number;
  /** Given up on after the maximum number of attempts. */
  readonly failed: number;
  /** When the oldest pending message was queued; a stuck queue shows here first. */
  readonly oldestPendingAt: string | null;
}

/** What operators see on `/readyz`. */
export async function outboxCounts(em: EntityManager): Promise<OutboxCounts> {
  const pending = await em.count(OutboxMessage, { status: 'PENDING' });
  const failed = await em.count(OutboxMessage, { status: 'FAILED' });
  // The oldest row of each priority, each the first entry of its part of the `(status, priority, id)` index.
  const oldest: Date[] = [];
  for (const priority of pending ? MAIL_PRIORITIES : []) {
    const row = await em.findOne(OutboxMessage, { status: 'PENDING', priority }, { orderBy: { id: 'asc' }, fields: ['id', 'createdAt'] });
    if (row) oldest.push(row.createdAt);
  }
  const oldestPendingAt = oldest.length ? new Date(Math.min(...oldest.map((at) => at.getTime()))).toISOString() : null;
  return { pending, failed, oldestPendingAt };
}
