import type { EntityManager } from '@mikro-orm/core';
import type { AuditEvent } from '../audit/audit-event.entity.js';
import type { AuditHook } from '../audit/audit-log.js';
import type { Config } from '../config.js';
import { ruleOf } from '../audit/event-rules.js';
import { User } from '../users/user.entity.js';
import { OutboxMessage } from './outbox-message.entity.js';
import { renderMail } from './templates.js';

/**
 * The audit hook that queues the email reporting an event, inside the
 * transaction that records it: the email is sent if and only if the change
 * committed. Events users are not mailed about (admin actions) queue nothing.
 */
export function queueMailFor(config: Pick<Config, 'appUrl'>): AuditHook {
  return async (em: EntityManager, event: AuditEvent) => {
    // Admin actions (USER_CREATED …) are not mailed and not worth a lookup.
    if (!event.subjectUserId || !ruleOf(event.action).mailed) return;
    const user = await em.findOne(User, event.subjectUserId);
    if (!user) return;
    const content = renderMail(event, { email: user.email, name: user.name }, config);
    if (!content) return;
    em.persist(
      em.create(OutboxMessage, {
        createdAt: event.occurredAt,
        kind: event.action,
        recipient: user.email,
        subject: content.subject,
        text: content.text,
        html: content.html,
        nextAttemptAt: event.occurredAt,
        auditEvent: event,
      }),
    );
  };
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
