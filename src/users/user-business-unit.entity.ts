import type { Rel } from '@mikro-orm/core';
import { Entity, Index, ManyToOne } from '@mikro-orm/decorators/legacy';
import { BusinessUnit } from './business-unit.entity.js';
import { User } from './user.entity.js';

/**
 * The pivot of `User.businessUnits`, declared only so it can carry an index:
 * its primary key `(user_id, business_unit_id)` answers "the units of a user",
 * and `(business_unit_id, user_id)` answers "the members of a unit, in user id
 * order", which unit-scoped listings page on (keyset by user id).
 */
@Entity({ tableName: 'user_business_units' })
@Index({ properties: ['businessUnit', 'user'] })
export class UserBusinessUnit {
  @ManyToOne(() => User, { primary: true, deleteRule: 'cascade', updateRule: 'cascade' })
  // `Rel` keeps decorator metadata from naming User, which imports this module.
  user!: Rel<User>;

  @ManyToOne(() => BusinessUnit, { primary: true, deleteRule: 'cascade', updateRule: 'cascade' })
  businessUnit!: BusinessUnit;
}
