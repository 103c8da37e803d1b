import type { EntityManager } from '@mikro-orm/core';
import type { Actor } from './actor.js';
import { insertReturningIds } from '../db/columns.js';
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

/** A user as a record's subject needs them: a loaded entity, or a row a sweep read. */
export interface SubjectUser {
  readonly id: string;
  readonly organization: { readonly id: string };
}

/** The subject of a record about `user`'s token. */
export function subjectOf(user: SubjectUser): AuditRecord['subject'] {
  return { id: user.id, organizationId: user.organization.id };
}

/**
 * Runs inside the transaction that records events, e.g. to queue the emails
 * that report them, so an email exists if and only if its change committed.
 * It gets one event from `record`, and a whole batch from `recordMany`,
 * already stored (with ids), to write its own rows in one statement too.
 */
export type AuditHook = (em: EntityManager, events: readonly AuditEvent[]) => void | Promise<void>;

/** Writes audit events inside the caller's transaction. */
export class AuditLog {
  /** `hooks` run, in order, inside the transaction of every event recorded. */
  constructor(
    private readonly region: string,
    private readonly hooks: readonly AuditHook[] = [],
  ) {}

  /** Queues one event in the unit of work: it is inserted with the rest of the change, at commit. */
  async record(em: EntityManager, record: AuditRecord): Promise<AuditEvent> {
    const event = em.create(AuditEvent, this.fieldsOf(record));
    em.persist(event);
    for (const hook of this.hooks) await hook(em, [event]);
    return event;
  }

  /**
   * Inserts many events at once, past the unit of work: one statement for
   * the batch, and the events come back with their ids, unmanaged (the
   * sweeper's 500 expiries a transaction; entities for each cost more than
   * the inserts themselves, see bench/REPORT.md).
   */
  async recordMany(em: EntityManager, records: readonly AuditRecord[]): Promise<AuditEvent[]> {
    if (records.length === 0) return [];
    const fields = records.map((record) => this.fieldsOf(record));
    const ids = await insertReturningIds(em, AuditEvent, fields);
    // Plain objects: an entity instance costs a setter call per property (a sweep makes 100,000 of them).
    const events = fields.map((row, i): AuditEvent => ({ ...row, id: ids[i] ?? Number.NaN }));
    for (const hook of this.hooks) await hook(em, events);
    return events;
  }

  private fieldsOf(record: AuditRecord): Omit<AuditEvent, 'id'> {
    return {
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
    };
  }
}
