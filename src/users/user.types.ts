import { Field, ID, ObjectType } from 'type-graphql';
import { Role } from './role.js';
import type { Principal } from '../auth/principal.js';
import type { User } from './user.entity.js';

@ObjectType('BusinessUnit')
export class BusinessUnitView {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;
}

@ObjectType('User')
export class UserView {
  @Field(() => ID)
  id!: string;

  @Field()
  email!: string;

  @Field()
  name!: string;

  @Field(() => Role)
  role!: Role;

  @Field(() => [BusinessUnitView])
  businessUnits!: BusinessUnitView[];

  @Field()
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
