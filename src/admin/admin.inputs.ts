import { Field, ID, InputType } from 'type-graphql';
import { Role } from '../users/role.js';

@InputType()
export class CreateUserInput {
  @Field({ description: 'Unique across the service; stored lower-cased.' })
  email!: string;

  @Field()
  name!: string;

  @Field(() => Role, { nullable: true, description: 'ADMIN or USER; USER when omitted.' })
  role?: Role | null;

  @Field(() => [ID], { nullable: true, description: 'Business units of your organisation.' })
  businessUnitIds?: string[] | null;
}

@InputType({ description: 'Only the fields given are changed.' })
export class UpdateUserInput {
  @Field(() => Role, { nullable: true, description: 'ADMIN or USER. Takes effect at the next request.' })
  role?: Role | null;

  @Field(() => [ID], { nullable: true, description: 'Replaces the user’s business units; [] removes all.' })
  businessUnitIds?: string[] | null;

  @Field(() => String, { nullable: true })
  name?: string | null;
}

@InputType()
export class ApiTokenFilter {
  @Field(() => String, {
    nullable: true,
    description: 'Only tokens that expire within this ISO-8601 duration from now, e.g. P7D.',
  })
  expiringWithin?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only tokens of users in this business unit.' })
  businessUnitId?: string | null;
}
