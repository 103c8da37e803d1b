import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { TOKEN_EVENT_KINDS, type TokenEventKind } from '../audit/event-rules.js';
import type { TokenEventMessage } from './token-event.js';

/** The GraphQL enum, derived from the one list of token event kinds; each value described. */
export const ApiTokenEventKind = Object.fromEntries(TOKEN_EVENT_KINDS.map((kind) => [kind, kind])) as {
  readonly [K in TokenEventKind]: K;
};
export type ApiTokenEventKind = TokenEventKind;
const KIND_DESCRIPTIONS: { readonly [K in TokenEventKind]: { readonly description: string } } = {
  GENERATED: { description: 'A token was generated (also the second half of a regenerate).' },
  EXPIRY_WARNING: { description: 'The token expires soon: see `daysLeft` and `threshold`.' },
  REVOKED: {
    description:
      'The token was revoked, by its user, the token itself, support or an admin, or because it leaked; `actor` says who, `reason` why.',
  },
  EXPIRED: { description: 'The token reached `expiresAt` and was deleted.' },
  ACCESS_DISABLED: { description: 'Support or an admin turned API tokens off for the user (revoking any token).' },
  ACCESS_ENABLED: { description: 'Support or an admin turned API tokens back on for the user.' },
};
registerEnumType(ApiTokenEventKind, {
  name: 'ApiTokenEventKind',
  description: 'What happened to an API token.',
  valuesConfig: KIND_DESCRIPTIONS,
});

@ObjectType({ description: 'Something that happened to your API token.' })
export class ApiTokenEvent {
  @Field(() => ID, { description: 'Increases with every event; pass the last one you saw as `after` to resume.' })
  id!: string;

  @Field(() => ApiTokenEventKind, { description: 'What happened.' })
  kind!: ApiTokenEventKind;

  @Field(() => ID, { nullable: true, description: 'The token concerned; null for access changes without a token.' })
  tokenId!: string | null;

  @Field({ description: 'When it happened.' })
  occurredAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the token expires (or expired).' })
  expiresAt!: Date | null;

  @Field(() => Int, { nullable: true, description: 'Whole days of life left, rounded up (EXPIRY_WARNING).' })
  daysLeft!: number | null;

  @Field(() => String, { nullable: true, description: 'ISO-8601 duration of the warning that fired, e.g. P7D.' })
  threshold!: string | null;

  @Field(() => String, { nullable: true, description: 'Email of whoever caused the event, or `system`.' })
  actor!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "Why, when a reason was given: support's or an admin's, or, for a leaked token, where it was found.",
  })
  reason!: string | null;

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
      reason: message.reason ?? null,
    });
  }
}
