import { Field, ID, InputType } from 'type-graphql';
import { Role } from '../auth/role.js';

@InputType({ description: 'A user to add to your organisation.' })
export class CreateUserInput {
  @Field({ description: 'Unique across the service; stored lower-cased.' })
  email!: string;

  @Field({ description: 'Full name, as shown to admins and in emails.' })
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

  @Field(() => String, { nullable: true, description: 'New full name.' })
  name?: string | null;
}

@InputType({ description: 'Narrows `apiTokens`; conditions given together must all hold.' })
export class ApiTokenFilter {
  @Field(() => String, {
    nullable: true,
    description: 'Only tokens that expire within this ISO-8601 duration from now, e.g. P7D.',
  })
  expiringWithin?: string | null;

  @Field(() => ID, { nullable: true, description: 'Only tokens of users in this business unit.' })
  businessUnitId?: string | null;
}
