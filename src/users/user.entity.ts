import { randomUUID } from 'node:crypto';
import { Collection, Entity, Enum, Index, ManyToMany, ManyToOne, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { BusinessUnit } from './business-unit.entity.js';
import { Organization } from './organization.entity.js';
import { Role } from './role.js';
import { UserBusinessUnit } from './user-business-unit.entity.js';

@Entity({ tableName: 'users' })
@Index({ properties: ['organization', 'externalId'] })
// An organisation's users in id order: admin listings page on it (keyset by user id).
@Index({ properties: ['organization', 'id'] })
// SCIM lists an organisation's users by creation, paged by offset over this index alone.
@Index({ properties: ['organization', 'createdAt', 'id'] })
export class User {
  [OptionalProps]?: 'active' | 'apiTokensEnabled' | 'apiTokensDisabledReason' | 'externalId';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => Organization, { deleteRule: 'cascade' })
  organization!: Organization;

  /** Stored lower-cased, so `Alice@Example.com` and `alice@example.com` are one user. */
  @Property({ type: 'string', length: 320, unique: true })
  email!: string;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Enum({ items: () => Role })
  role!: Role;

  @ManyToMany({ entity: () => BusinessUnit, pivotEntity: () => UserBusinessUnit })
  businessUnits = new Collection<BusinessUnit>(this);

  /** A deactivated user cannot sign in and their token stops working. */
  @Property({ type: 'boolean' })
  active: boolean = true;

  /** Support or an admin can turn API tokens off for a user. */
  @Property({ type: 'boolean' })
  apiTokensEnabled: boolean = true;

  @Property({ type: 'text', nullable: true })
  apiTokensDisabledReason: string | null = null;

  @Property({ type: Date })
  createdAt!: Date;

  /**
   * The identity provider's id for this user (SCIM `externalId`), so a
   * directory can look up the users it created (`filter=externalId eq "…"`).
   */
  @Property({ type: 'string', length: 200, nullable: true })
  externalId: string | null = null;
}
