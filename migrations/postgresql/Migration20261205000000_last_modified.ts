import { Migration } from '@mikro-orm/migrations';

/** SCIM `meta.lastModified`: when a user or a business unit last changed; null means never since creation. */
export class Migration20261205000000_last_modified extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table "users" add column "updated_at" timestamptz null');
    this.addSql('alter table "business_units" add column "updated_at" timestamptz null');
  }
}
