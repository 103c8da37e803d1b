import { Field, ID, ObjectType } from 'type-graphql';
import { Role } from '../auth/role.js';
import type { Principal } from '../auth/principal.js';
import type { User } from './user.entity.js';

@ObjectType('BusinessUnit', { description: 'A group of users in an organisation; it shapes what their role lets them see.' })
export class BusinessUnitView {
  @Field(() => ID, { description: 'Stable identifier of the business unit.' })
  id!: string;

  @Field({ description: 'Unique within the organisation.' })
  name!: string;
}

@ObjectType('User', { description: 'A person with access to the product, in one organisation.' })
export class UserView {
  @Field(() => ID, { description: 'Stable identifier of the user.' })
  id!: string;

  @Field({ description: 'Sign-in email, lower-cased; unique across the service.' })
  email!: string;

  @Field({ description: 'Full name.' })
  name!: string;

  @Field(() => Role, { description: 'What the user may do; read afresh at every request.' })
  role!: Role;

  @Field(() => [BusinessUnitView], { description: 'The business units the user belongs to.' })
  businessUnits!: BusinessUnitView[];

  @Field({ description: 'False once an admin deactivated the user: their sessions and token no longer work.' })
  active!: boolean;

  @Field({ description: 'False when support or an admin has disabled API tokens for this user.' })
  apiTokensEnabled!: boolean;

  /** From a user whose business units are loaded. */
  static of(user: User): UserView {
    return Object.assign(new UserView(), {
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      businessUnits: user.businessUnits.getItems().map((unit) => ({ id: unit.id, name: unit.name })),
      active: user.active,
      apiTokensEnabled: user.apiTokensEnabled,
    });
  }

  /** The caller: a principal only exists for an active user. */
  static ofPrincipal(principal: Principal): UserView {
    return Object.assign(new UserView(), {
      id: principal.userId,
      email: principal.email,
      name: principal.name,
      role: principal.role,
      businessUnits: principal.businessUnits.map((unit) => ({ id: unit.id, name: unit.name })),
      active: true,
      apiTokensEnabled: principal.apiTokensEnabled,
    });
  }
}
