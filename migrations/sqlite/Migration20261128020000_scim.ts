import { Migration } from '@mikro-orm/migrations';

/** SCIM: one bearer token digest per organisation, and the identity provider's id for a user. */
export class Migration20261128020000_scim extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table "scim_tokens" ("id" text not null, "organization_id" text not null, "digest" text not null, "created_at" datetime not null, constraint "scim_tokens_organization_id_foreign" foreign key("organization_id") references "organizations"("id") on delete cascade on update cascade, primary key ("id"))',
    );
    this.addSql('create unique index "scim_tokens_organization_id_unique" on "scim_tokens" ("organization_id")');
    this.addSql('create unique index "scim_tokens_digest_unique" on "scim_tokens" ("digest")');
    this.addSql('alter table "users" add column "external_id" text null');
    this.addSql('create index "users_organization_id_external_id_index" on "users" ("organization_id", "external_id")');
  }
}
