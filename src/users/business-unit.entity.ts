import { randomUUID } from 'node:crypto';
import { OptionalProps } from '@mikro-orm/core';
import { Entity, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Organization } from './organization.entity.js';

@Entity({ tableName: 'business_units' })
@Unique({ properties: ['organization', 'name'] })
export class BusinessUnit {
  [OptionalProps]?: 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => Organization, { deleteRule: 'cascade', updateRule: 'cascade' })
  organization!: Organization;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Property({ type: Date })
  createdAt!: Date;

  /** When it was last renamed or its members changed (`meta.lastModified`); null: never since creation. */
  @Property({ type: Date, nullable: true })
  updatedAt: Date | null = null;
}
