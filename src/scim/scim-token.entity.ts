import { randomUUID } from 'node:crypto';
import { Entity, OneToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { Organization } from '../users/organization.entity.js';

/**
 * An organisation's one SCIM bearer token, as the digest of its secret. The
 * unique index on `organization` keeps it to one per organisation; rotating
 * replaces the digest in place, so the old secret stops working at commit.
 */
@Entity({ tableName: 'scim_tokens' })
export class ScimToken {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @OneToOne(() => Organization, { owner: true, unique: 'scim_tokens_organization_id_unique', deleteRule: 'cascade', updateRule: 'cascade' })
  organization!: Organization;

  /** SHA-256 of the secret, hex. */
  @Property({ type: 'string', length: 64, unique: true })
  digest!: string;

  @Property({ type: Date })
  createdAt!: Date;
}
