import { BigIntType, OptionalProps } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { AuditEvent } from '../audit/audit-event.entity.js';

export type OutboxStatus = 'PENDING' | 'SENT' | 'FAILED';

/**
 * One email, written in the same transaction as the change it reports, so it
 * exists if and only if that change committed. The mail worker delivers it.
 *
 * The message is rendered when queued: it reports the change as it was, and
 * a template change never alters mail already promised. `lockedUntil` is a
 * lease: a worker claims a row by setting it with a compare-and-set, so
 * several instances never send the same row at once, and a crashed
 * instance's claim simply runs out.
 */
@Entity({ tableName: 'outbox_messages' })
@Index({ properties: ['status', 'nextAttemptAt'] })
export class OutboxMessage {
  [OptionalProps]?: 'status' | 'attempts' | 'lockedUntil' | 'lastError' | 'sentAt' | 'auditEvent';

  @PrimaryKey({ type: new BigIntType('number'), autoincrement: true })
  id!: number;

  @Property({ type: Date })
  createdAt!: Date;

  /** The audit action the message reports, e.g. `REVOKED`. */
  @Property({ type: 'string', length: 32 })
  kind!: string;

  @Property({ type: 'string', length: 320 })
  recipient!: string;

  @Property({ type: 'string', length: 300 })
  subject!: string;

  @Property({ type: 'text' })
  text!: string;

  @Property({ type: 'text' })
  html!: string;

  @Property({ type: 'string', length: 16 })
  status: OutboxStatus = 'PENDING';

  /** Delivery attempts made so far, successful or not. */
  @Property({ type: 'integer' })
  attempts: number = 0;

  /** Not sent before this instant; moved forward by each failed attempt. */
  @Property({ type: Date })
  nextAttemptAt!: Date;

  /** A worker is sending this row until then; null when nobody holds it. */
  @Property({ type: Date, nullable: true })
  lockedUntil: Date | null = null;

  /** Why the last attempt failed: the transport's error, never the message. */
  @Property({ type: 'text', nullable: true })
  lastError: string | null = null;

  @Property({ type: Date, nullable: true })
  sentAt: Date | null = null;

  /**
   * The audit event this message reports. A relation rather than a plain id,
   * so the row can be queued before the event is inserted (no flush per
   * event); no foreign key, like the audit trail itself.
   */
  @ManyToOne(() => AuditEvent, { nullable: true, createForeignKeyConstraint: false, fieldName: 'audit_event_id' })
  auditEvent: AuditEvent | null = null;
}
