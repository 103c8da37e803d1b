import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { TOKEN_EVENT_KINDS, type TokenEventKind } from './event-rules.js';
import type { TokenEventMessage } from './token-event.js';

/** The GraphQL enum, derived from the one list of token event kinds. */
export const ApiTokenEventKind = Object.fromEntries(TOKEN_EVENT_KINDS.map((kind) => [kind, kind])) as {
  readonly [K in TokenEventKind]: K;
};
export type ApiTokenEventKind = TokenEventKind;
registerEnumType(ApiTokenEventKind, { name: 'ApiTokenEventKind' });

@ObjectType({ description: 'Something that happened to your API token.' })
export class ApiTokenEvent {
  @Field(() => ID, { description: 'Increases with every event; pass the last one you saw as `after` to resume.' })
  id!: string;

  @Field(() => ApiTokenEventKind)
  kind!: ApiTokenEventKind;

  @Field(() => ID, { nullable: true })
  tokenId!: string | null;

  @Field()
  occurredAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the token expires (or expired).' })
  expiresAt!: Date | null;

  @Field(() => Int, { nullable: true, description: 'Whole days of life left, rounded up (EXPIRY_WARNING).' })
  daysLeft!: number | null;

  @Field(() => String, { nullable: true, description: 'ISO-8601 duration of the warning that fired, e.g. P7D.' })
  threshold!: string | null;

  @Field(() => String, { nullable: true, description: 'Email of whoever caused the event, or `system`.' })
  actor!: string | null;

  static of(message: TokenEventMessage): ApiTokenEvent {
    return Object.assign(new ApiTokenEvent(), {
      id: message.id,
      kind: message.kind,
      tokenId: message.tokenId,
      occurredAt: new Date(message.occurredAt),
      expiresAt: message.expiresAt ? new Date(message.expiresAt) : null,
      daysLeft: message.daysLeft,
      threshold: message.threshold,
      actor: message.actor,
    });
  }
}
