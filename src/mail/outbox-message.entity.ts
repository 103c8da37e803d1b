import { BigIntType, OptionalProps } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { AuditEvent } from '../audit/audit-event.entity.js';

export type OutboxStatus = 'PENDING' | 'SENT' | 'FAILED';

/**
 * One email, written in the same transaction as the change it reports, so it
 * exists if and only if that change committed. The mail worker delivers it.
 *
 * The row says what to send, not the rendered text: the audit event it
 * reports (which records the change as it was and never changes) and the
 * recipient as they were when it was queued (address and name). The worker
 * renders it when it sends it, so queuing is a small row in the change's
 * transaction (a sweep queues thousands a second; rendered, they were half
 * of its cost, bench/REPORT.md). Rows queued by earlier releases carry their
 * rendered `subject`, `text` and `html` and are sent as they are. `lockedUntil` is a
 * lease: a worker claims a row by setting it with a compare-and-set, so
 * several instances never send the same row at once, and a crashed
 * instance's claim simply runs out.
 */
@Entity({ tableName: 'outbox_messages' })
// The worker claims pending rows in (priority, id) order: this index hands it the first few without sorting the queue.
@Index({ properties: ['status', 'priority', 'id'] })
export class OutboxMessage {
  [OptionalProps]?:
    | 'status'
    | 'priority'
    | 'attempts'
    | 'lockedUntil'
    | 'lastError'
    | 'sentAt'
    | 'auditEvent'
    | 'recipientName'
    | 'subject'
    | 'text'
    | 'html';

  @PrimaryKey({ type: new BigIntType('number'), autoincrement: true })
  id!: number;

  @Property({ type: Date })
  createdAt!: Date;

  /** The audit action the message reports, e.g. `REVOKED`. */
  @Property({ type: 'string', length: 32 })
  kind!: string;

  @Property({ type: 'string', length: 320 })
  recipient!: string;

  /** Whom the greeting names: the recipient's name when the message was queued (null in rows queued rendered). */
  @Property({ type: 'string', length: 200, nullable: true })
  recipientName: string | null = null;

  /** The rendered message, in rows queued by earlier releases; null: rendered at sending from `auditEvent`. */
  @Property({ type: 'string', length: 300, nullable: true })
  subject: string | null = null;

  @Property({ type: 'text', nullable: true })
  text: string | null = null;

  @Property({ type: 'text', nullable: true })
  html: string | null = null;

  @Property({ type: 'string', length: 16 })
  status: OutboxStatus = 'PENDING';

  /** Sent before every row of a higher number (then oldest first): `mailPriority(kind)`. */
  @Property({ type: 'smallint' })
  priority: number = 0;

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
