import { Field, Float, ID, Int, ObjectType } from 'type-graphql';

/**
 * A token as GraphQL shows it: the entity's public columns and nothing else
 * (entities are never GraphQL types; each has a view, like `UserView`).
 */
@ObjectType('ApiToken', { description: 'Your API token, without its secret: that was shown once, at creation.' })
export class ApiTokenView {
  @Field(() => ID, { description: 'Stable identifier of the token; `revokeApiToken(id:)` takes it.' })
  id!: string;

  @Field({ description: 'The prefix and the last four characters, to recognise the token by.' })
  hint!: string;

  @Field({ description: 'When the token was generated.' })
  createdAt!: Date;

  @Field({ description: 'The token stops working at this instant, used or not.' })
  expiresAt!: Date;

  @Field(() => Date, { nullable: true, description: 'Last use, updated at most once a minute; null if never used.' })
  lastUsedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'The region of the last use.' })
  lastUsedRegion!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'The client address of the last use (behind proxies, as the service trusts them); an address you do not know may mean the token leaked. Null if never used.',
  })
  lastUsedAddress!: string | null;

  /** The public fields of a token (an entity has more, the digest among them). */
  static fieldsOf(token: ApiTokenView): ApiTokenView {
    const { id, hint, createdAt, expiresAt, lastUsedAt, lastUsedRegion, lastUsedAddress } = token;
    return { id, hint, createdAt, expiresAt, lastUsedAt, lastUsedRegion, lastUsedAddress };
  }
}

@ObjectType({ description: 'A new API token. `secret` is shown here once and can never be read again.' })
export class GeneratedApiToken {
  @Field({ description: 'Store it now, somewhere safe: it is not kept anywhere.' })
  secret!: string;

  @Field(() => ApiTokenView, { description: 'The new token’s metadata, as `myApiToken` will show it from now on.' })
  token!: ApiTokenView;
}

@ObjectType({ description: 'A token that was revoked: it no longer works in any region.' })
export class RevokedApiToken {
  @Field(() => ID, { description: 'The id the token had.' })
  tokenId!: string;

  @Field({ description: 'When it was revoked.' })
  revokedAt!: Date;
}

@ObjectType({ description: 'The rules that apply to your API token.' })
export class ApiTokenPolicy {
  @Field({ description: 'ISO-8601 duration from creation to expiry, e.g. P180D.' })
  lifetime!: string;

  @Field(() => Int, { description: 'The lifetime in whole days, rounded down (0 for a lifetime under a day).' })
  lifetimeDays!: number;

  @Field(() => [String], { description: 'Expiry warnings, as ISO-8601 durations before expiry, largest first.' })
  warnings!: string[];

  @Field(() => [Float], { description: 'The warnings in days before expiry, largest first; fractional below a day.' })
  warningDays!: number[];

  @Field(() => [String], { description: 'Regions a token works in.' })
  regions!: string[];

  @Field({ description: 'Whether you may hold an API token.' })
  tokensEnabled!: boolean;

  @Field(() => String, { nullable: true, description: 'Why API tokens are disabled for you, when they are.' })
  disabledReason!: string | null;
}
