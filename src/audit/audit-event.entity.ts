import { BigIntType } from '@mikro-orm/core';
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { AuditAction } from './event-rules.js';

// The kinds and what they mean live in one module (./event-rules.ts).
export type { AuditAction } from './event-rules.js';

/**
 * Who caused an event: a signed-in person, a request made with the token
 * itself, the service, an organisation's identity provider over SCIM, or a
 * report that the token leaked (a secret scanner, or anyone who found it).
 */
export type ActorKind = 'session' | 'token' | 'system' | 'scim' | 'leak';

/**
 * The append-only audit trail, and the store behind subscription replay.
 *
 * Rows refer to users and tokens by id without foreign keys, so they outlive
 * the deleted token (and anything else) they describe. `id` only grows:
 * `apiTokenEvents(after: id)` replays a user's rows in id order.
 */
@Entity({ tableName: 'audit_events' })
@Index({ properties: ['subjectUserId', 'id'] })
@Index({ properties: ['organizationId', 'id'] })
// An organisation's own events (no subject user) in id order, for admins scoped to business units.
@Index({ properties: ['organizationId', 'subjectUserId', 'id'] })
export class AuditEvent {
  @PrimaryKey({ type: new BigIntType('number'), autoincrement: true })
  id!: number;

  @Property({ type: Date })
  occurredAt!: Date;

  @Property({ type: 'string', length: 32 })
  action!: AuditAction;

  @Property({ type: 'string', length: 16 })
  actorKind!: ActorKind;

  @Property({ type: 'uuid', nullable: true })
  actorUserId: string | null = null;

  /** The actor's email at the time, or `system`. */
  @Property({ type: 'string', length: 320 })
  actorLabel!: string;

  /** The user the event is about (whose token it is). */
  @Property({ type: 'uuid', nullable: true })
  subjectUserId: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  organizationId: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  tokenId: string | null = null;

  @Property({ type: 'string', length: 16, nullable: true })
  tokenHint: string | null = null;

  @Property({ type: Date, nullable: true })
  tokenExpiresAt: Date | null = null;

  /** ISO-8601 duration of the expiry warning that fired, e.g. `P7D`. */
  @Property({ type: 'string', length: 32, nullable: true })
  threshold: string | null = null;

  @Property({ type: 'integer', nullable: true })
  daysLeft: number | null = null;

  @Property({ type: 'string', length: 32 })
  region!: string;

  @Property({ type: 'text', nullable: true })
  reason: string | null = null;
}
