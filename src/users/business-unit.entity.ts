import { randomUUID } from 'node:crypto';
import { Entity, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Organization } from './organization.entity.js';

@Entity({ tableName: 'business_units' })
@Unique({ properties: ['organization', 'name'] })
export class BusinessUnit {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => Organization, { deleteRule: 'cascade', updateRule: 'cascade' })
  organization!: Organization;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Property({ type: Date })
  createdAt!: Date;
}
