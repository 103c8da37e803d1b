import { randomUUID } from 'node:crypto';
import { Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { Organization } from './organization.entity.js';

/**
 * An email domain the operator verified as an organisation's (admin CLI
 * `add-domain`). A domain belongs to one organisation at most: its users are
 * created only there.
 */
@Entity({ tableName: 'organization_domains' })
export class OrganizationDomain {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => Organization, { deleteRule: 'cascade', updateRule: 'cascade', index: true })
  organization!: Organization;

  /** Lower-cased host name, matched exactly (a subdomain is a domain of its own). */
  @Property({ type: 'string', length: 253, unique: true })
  domain!: string;

  @Property({ type: Date })
  createdAt!: Date;
}
