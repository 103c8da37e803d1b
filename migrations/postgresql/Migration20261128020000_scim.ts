import { Migration } from '@mikro-orm/migrations';

/** SCIM: one bearer token digest per organisation, and the identity provider's id for a user. */
export class Migration20261128020000_scim extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table "scim_tokens" ("id" uuid not null, "organization_id" uuid not null, "digest" varchar(64) not null, "created_at" timestamptz not null, constraint "scim_tokens_pkey" primary key ("id"))',
    );
    this.addSql('alter table "scim_tokens" add constraint "scim_tokens_organization_id_unique" unique ("organization_id")');
    this.addSql('alter table "scim_tokens" add constraint "scim_tokens_digest_unique" unique ("digest")');
    this.addSql(
      'alter table "scim_tokens" add constraint "scim_tokens_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade',
    );
    this.addSql('alter table "users" add column "external_id" varchar(200) null');
    this.addSql('create index "users_organization_id_external_id_index" on "users" ("organization_id", "external_id")');
  }
}
