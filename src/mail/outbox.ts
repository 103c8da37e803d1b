import type { EntityManager, RequiredEntityData } from '@mikro-orm/core';
import type { AuditEvent } from '../audit/audit-event.entity.js';
import type { AuditHook } from '../audit/audit-log.js';
import type { Config } from '../config.js';
import { ruleOf } from '../audit/event-rules.js';
import { User } from '../users/user.entity.js';
import { OutboxMessage } from './outbox-message.entity.js';
import { marks, sqlNames } from '../db/columns.js';
import { renderMail, type Recipient } from './templates.js';

/**
 * The audit hook that queues the emails reporting events, inside the
 * transaction that records them: an email is sent if and only if its change
 * committed. Events users are not mailed about (admin actions) queue nothing.
 * A batch already stored (the sweeper's) gets its emails in inserts of
 * `insertPart`; a single event still in the unit of work, with it at commit.
 */
export function queueMailFor(config: Pick<Config, 'appUrl'>, { insertPart = 100 } = {}): AuditHook {
  return async (em: EntityManager, events: readonly AuditEvent[]) => {
    // Admin actions (USER_CREATED …) are not mailed and not worth a lookup.
    const mailed = events.filter((event) => event.subjectUserId !== null && ruleOf(event.action).mailed);
    if (mailed.length === 0) return;
    const recipients = await recipientsOf(em, mailed);
    if (!mailed.every(isStored)) {
      for (const message of render(mailed, recipients, config)) em.persist(em.create(OutboxMessage, message));
      return;
    }
    // Rendered and inserted a part at a time: each part is a short stretch of the event
    // loop (a sweep's 500 emails in one insert were about 600 KB of SQL built at once).
    for (let from = 0; from < mailed.length; from += insertPart) {
      const messages = render(mailed.slice(from, from + insertPart), recipients, config);
      if (messages.length === 0) continue;
      await em.insertMany(
        OutboxMessage,
        messages.map((message) => ({ ...message, auditEvent: message.auditEvent.id })),
      );
    }
  };
}

/** An email to queue, with the event it reports. */
type QueuedMail = RequiredEntityData<OutboxMessage> & { auditEvent: AuditEvent };

/** The events' emails, for those whose user has an address and whose action has a template. */
function render(events: readonly AuditEvent[], recipients: ReadonlyMap<string, Recipient>, config: Pick<Config, 'appUrl'>): QueuedMail[] {
  const messages: QueuedMail[] = [];
  for (const event of events) {
    const to = recipients.get(event.subjectUserId ?? '');
    const content = to ? renderMail(event, to, config) : null;
    if (!to || !content) continue;
    messages.push({
      createdAt: event.occurredAt,
      kind: event.action,
      recipient: to.email,
      subject: content.subject,
      text: content.text,
      html: content.html,
      nextAttemptAt: event.occurredAt,
      auditEvent: event,
    });
  }
  return messages;
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
  const oldest = pending
    ? await em.findOne(OutboxMessage, { status: 'PENDING' }, { orderBy: { id: 'asc' }, fields: ['id', 'createdAt'] })
    : null;
  return { pending, failed, oldestPendingAt: oldest?.createdAt.toISOString() ?? null };
}
