import { randomUUID } from 'node:crypto';
import { Collection, OptionalProps } from '@mikro-orm/core';
import { Entity, Enum, Index, ManyToMany, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { BusinessUnit } from './business-unit.entity.js';
import { Organization } from './organization.entity.js';
import { Role } from '../auth/role.js';
import { UserBusinessUnit } from './user-business-unit.entity.js';

@Entity({ tableName: 'users' })
@Index({ properties: ['organization', 'externalId'] })
// An organisation's users in id order: admin listings page on it (keyset by user id).
@Index({ properties: ['organization', 'id'] })
// SCIM lists an organisation's users by creation, paged by offset over this index alone.
@Index({ properties: ['organization', 'createdAt', 'id'] })
export class User {
  [OptionalProps]?: 'active' | 'apiTokensEnabled' | 'apiTokensDisabledReason' | 'externalId' | 'credentialsValidAfter' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => Organization, { deleteRule: 'cascade', updateRule: 'cascade' })
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

  /**
   * Session JWTs issued (`iat`) before this instant never authenticate again;
   * every deactivation moves it (see `credentialsValidAfter` in
   * src/auth/credentials-valid-after.ts). Null: the user was never deactivated.
   */
  @Property({ type: Date, nullable: true })
  credentialsValidAfter: Date | null = null;

  /** When an admin or the directory last changed what SCIM shows of the user (`meta.lastModified`); null: never since creation. */
  @Property({ type: Date, nullable: true })
  updatedAt: Date | null = null;
}
