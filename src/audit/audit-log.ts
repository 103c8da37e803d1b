import type { EntityManager } from '@mikro-orm/core';
import type { Actor } from './actor.js';
import { AuditEvent, type AuditAction } from './audit-event.entity.js';

export interface AuditRecord {
  readonly action: AuditAction;
  readonly actor: Actor;
  readonly occurredAt: Date;
  /** The user the event is about. */
  readonly subject?: { readonly id: string; readonly organizationId: string };
  /** For an event about an organisation rather than a user (a business unit created); ignored with `subject`. */
  readonly organizationId?: string;
  readonly token?: { readonly id: string; readonly hint: string; readonly expiresAt: Date };
  readonly threshold?: string;
  readonly daysLeft?: number;
  readonly reason?: string | null;
}

/** The subject of a record about `user`'s token. */
export function subjectOf(user: { id: string; organization: { id: string } }): AuditRecord['subject'] {
  return { id: user.id, organizationId: user.organization.id };
}

/**
 * Runs inside the transaction that records an event, e.g. to queue the email
 * that reports it, so the email exists if and only if the change committed.
 */
export type AuditHook = (em: EntityManager, event: AuditEvent) => void | Promise<void>;

/** Writes audit events inside the caller's transaction. */
export class AuditLog {
  /** `hooks` run, in order, inside the transaction of every event recorded. */
  constructor(
    private readonly region: string,
    private readonly hooks: readonly AuditHook[] = [],
  ) {}

  async record(em: EntityManager, record: AuditRecord): Promise<AuditEvent> {
    const event = em.create(AuditEvent, {
      occurredAt: record.occurredAt,
      action: record.action,
      actorKind: record.actor.kind,
      actorUserId: record.actor.userId,
      actorLabel: record.actor.label,
      subjectUserId: record.subject?.id ?? null,
      organizationId: record.subject?.organizationId ?? record.organizationId ?? null,
      tokenId: record.token?.id ?? null,
      tokenHint: record.token?.hint ?? null,
      tokenExpiresAt: record.token?.expiresAt ?? null,
      threshold: record.threshold ?? null,
      daysLeft: record.daysLeft ?? null,
      region: this.region,
      reason: record.reason ?? null,
    });
    em.persist(event);
    for (const hook of this.hooks) await hook(em, event);
    return event;
  }
}
