import { Migration } from '@mikro-orm/migrations';

/** Email domains an operator verified as an organisation's; one organisation per domain. */
export class Migration20261205010000_organization_domains extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table "organization_domains" ("id" uuid not null, "organization_id" uuid not null, "domain" varchar(253) not null, "created_at" timestamptz not null, constraint "organization_domains_pkey" primary key ("id"))',
    );
    this.addSql('create index "organization_domains_organization_id_index" on "organization_domains" ("organization_id")');
    this.addSql('alter table "organization_domains" add constraint "organization_domains_domain_unique" unique ("domain")');
    this.addSql(
      'alter table "organization_domains" add constraint "organization_domains_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade',
    );
  }
}
