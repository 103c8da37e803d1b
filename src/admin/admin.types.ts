import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { AuditEvent } from '../audit/audit-event.entity.js';
import type { ApiToken } from '../tokens/api-token.entity.js';
import { PageInfo } from './pagination.js';
import { UserView } from '../users/user.types.js';

@ObjectType({ description: 'An API token’s metadata with its user, as admins and support see it. Never the secret.' })
export class ManagedApiToken {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'The prefix and the last four characters.' })
  hint!: string;

  @Field()
  createdAt!: Date;

  @Field()
  expiresAt!: Date;

  @Field(() => Date, { nullable: true })
  lastUsedAt!: Date | null;

  @Field(() => String, { nullable: true })
  lastUsedRegion!: string | null;

  @Field(() => UserView)
  user!: UserView;

  /** From a token whose user's business units are loaded. */
  static of(token: ApiToken): ManagedApiToken {
    return Object.assign(new ManagedApiToken(), {
      id: token.id,
      hint: token.hint,
      createdAt: token.createdAt,
      expiresAt: token.expiresAt,
      lastUsedAt: token.lastUsedAt,
      lastUsedRegion: token.lastUsedRegion,
      user: UserView.of(token.user),
    });
  }
}

@ObjectType()
export class ApiTokenEdge {
  @Field()
  cursor!: string;

  @Field(() => ManagedApiToken)
  node!: ManagedApiToken;
}

@ObjectType()
export class ApiTokenConnection {
  @Field(() => [ApiTokenEdge])
  edges!: ApiTokenEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@ObjectType('AuditEvent', { description: 'One entry of the append-only audit trail.' })
export class AuditEntry {
  @Field(() => ID)
  id!: string;

  @Field()
  occurredAt!: Date;

  @Field({ description: 'A token event kind (GENERATED, REVOKED, ACCESS_DISABLED, ...) or an admin action (USER_CREATED, ...).' })
  action!: string;

  @Field({ description: 'session, token or system.' })
  actorKind!: string;

  @Field(() => ID, { nullable: true })
  actorUserId!: string | null;

  @Field({ description: 'The actor’s email at the time, or system.' })
  actor!: string;

  @Field(() => ID, { nullable: true, description: 'The user the event is about.' })
  subjectUserId!: string | null;

  @Field(() => ID, { nullable: true })
  organizationId!: string | null;

  @Field(() => ID, { nullable: true })
  tokenId!: string | null;

  @Field(() => String, { nullable: true })
  tokenHint!: string | null;

  @Field(() => String, { nullable: true, description: 'Why, as the actor gave it; for updates, what changed.' })
  reason!: string | null;

  @Field({ description: 'The region that recorded the event.' })
  region!: string;

  @Field(() => Int, { nullable: true })
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

@ObjectType('AuditEventEdge')
export class AuditEntryEdge {
  @Field()
  cursor!: string;

  @Field(() => AuditEntry)
  node!: AuditEntry;
}

@ObjectType()
export class AuditEventConnection {
  @Field(() => [AuditEntryEdge])
  edges!: AuditEntryEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
