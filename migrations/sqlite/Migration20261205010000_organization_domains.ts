import { Migration } from '@mikro-orm/migrations';

/** Email domains an operator verified as an organisation's; one organisation per domain. */
export class Migration20261205010000_organization_domains extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table "organization_domains" ("id" text not null, "organization_id" text not null, "domain" text not null, "created_at" datetime not null, constraint "organization_domains_organization_id_foreign" foreign key("organization_id") references "organizations"("id") on delete cascade on update cascade, primary key ("id"))',
    );
    this.addSql('create index "organization_domains_organization_id_index" on "organization_domains" ("organization_id")');
    this.addSql('create unique index "organization_domains_domain_unique" on "organization_domains" ("domain")');
  }
}
