import { Field, ID, Int, ObjectType } from 'type-graphql';
import { ActorKindEnum, AuditActionEnum } from '../audit/audit-enums.js';
import type { ActorKind, AuditAction, AuditEvent } from '../audit/audit-event.entity.js';
import type { ApiToken } from '../tokens/api-token.entity.js';
import { ApiTokenView } from '../tokens/api-token.types.js';
import { Connection } from './pagination.js';
import { UserView } from '../users/user.types.js';

@ObjectType({ description: 'An API token’s metadata with its user, as admins and support see it. Never the secret.' })
export class ManagedApiToken extends ApiTokenView {
  @Field(() => UserView, { description: 'Whose token it is.' })
  user!: UserView;

  /** From a token whose user's business units are loaded. */
  static of(token: ApiToken): ManagedApiToken {
    return Object.assign(new ManagedApiToken(), ApiTokenView.fieldsOf(token), { user: UserView.of(token.user) });
  }
}

export const ApiTokenConnection = Connection(ManagedApiToken, {
  edge: 'ApiTokenEdge',
  connection: 'ApiTokenConnection',
  description: 'A page of API tokens, Relay-style.',
  edgeDescription: 'One token in a page of `apiTokens`.',
  nodeDescription: 'The token.',
  edgesDescription: 'The tokens of this page, in the order of their owners’ user ids.',
});
export type ApiTokenConnection = InstanceType<typeof ApiTokenConnection>;

@ObjectType('AuditEvent', { description: 'One entry of the append-only audit trail.' })
export class AuditEntry {
  @Field(() => ID, { description: 'Increases with every entry.' })
  id!: string;

  @Field({ description: 'When it happened.' })
  occurredAt!: Date;

  @Field(() => AuditActionEnum, { description: 'What happened: a token event kind or an admin action.' })
  action!: AuditAction;

  @Field(() => ActorKindEnum, { description: 'Who caused it: a signed-in person, the token itself, or the service.' })
  actorKind!: ActorKind;

  @Field(() => ID, { nullable: true, description: 'The acting user; null when the service acted (system).' })
  actorUserId!: string | null;

  @Field({ description: 'The actor’s email at the time, or system.' })
  actor!: string;

  @Field(() => ID, { nullable: true, description: 'The user the event is about.' })
  subjectUserId!: string | null;

  @Field(() => ID, { nullable: true, description: 'The organisation of the user the event is about.' })
  organizationId!: string | null;

  @Field(() => ID, { nullable: true, description: 'The token concerned, for token events.' })
  tokenId!: string | null;

  @Field(() => String, { nullable: true, description: 'The hint of the token concerned, for token events.' })
  tokenHint!: string | null;

  @Field(() => String, { nullable: true, description: 'Why, as the actor gave it; for updates, what changed.' })
  reason!: string | null;

  @Field({ description: 'The region that recorded the event.' })
  region!: string;

  @Field(() => Int, { nullable: true, description: 'Whole days the token had left, for EXPIRY_WARNING.' })
  daysLeft!: number | null;

  static of(event: AuditEvent): AuditEntry {
    return Object.assign(new AuditEntry(), {
      id: String(event.id),
      occurredAt: event.occurredAt,
      action: event.action,
      actorKind: event.actorKind,
      actorUserId: event.actorUserId,
      actor: event.actorLabel,
      subjectUserId: event.subjectUserId,
      organizationId: event.organizationId,
      tokenId: event.tokenId,
      tokenHint: event.tokenHint,
      reason: event.reason,
      region: event.region,
      daysLeft: event.daysLeft,
    });
  }
}

export const AuditEventConnection = Connection(AuditEntry, {
  edge: 'AuditEventEdge',
  connection: 'AuditEventConnection',
  description: 'A page of the audit trail, Relay-style.',
  edgeDescription: 'One entry in a page of `auditEvents`.',
  nodeDescription: 'The audit entry.',
  edgesDescription: 'The entries of this page, newest first.',
});
export type AuditEventConnection = InstanceType<typeof AuditEventConnection>;
