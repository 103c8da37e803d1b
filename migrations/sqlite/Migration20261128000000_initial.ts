import { Migration } from '@mikro-orm/migrations';

/** Organisations, business units, users, API tokens and the audit trail. */
export class Migration20261128000000_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table "audit_events" ("id" integer not null primary key autoincrement, "occurred_at" datetime not null, "action" text not null, "actor_kind" text not null, "actor_user_id" text null, "actor_label" text not null, "subject_user_id" text null, "organization_id" text null, "token_id" text null, "token_hint" text null, "token_expires_at" datetime null, "threshold" text null, "days_left" integer null, "region" text not null, "reason" text null)',
    );
    this.addSql('create index "audit_events_organization_id_id_index" on "audit_events" ("organization_id", "id")');
    this.addSql('create index "audit_events_subject_user_id_id_index" on "audit_events" ("subject_user_id", "id")');
    this.addSql(
      'create table "organizations" ("id" text not null, "name" text not null, "created_at" datetime not null, primary key ("id"))',
    );
    this.addSql('create unique index "organizations_name_unique" on "organizations" ("name")');
    this.addSql(
      'create table "business_units" ("id" text not null, "organization_id" text not null, "name" text not null, "created_at" datetime not null, constraint "business_units_organization_id_foreign" foreign key("organization_id") references "organizations"("id") on delete cascade on update cascade, primary key ("id"))',
    );
    this.addSql('create index "business_units_organization_id_index" on "business_units" ("organization_id")');
    this.addSql('create unique index "business_units_organization_id_name_unique" on "business_units" ("organization_id", "name")');
    this.addSql(
      'create table "users" ("id" text not null, "organization_id" text not null, "email" text not null, "name" text not null, "role" text check ("role" in (\'ADMIN\', \'USER\', \'SUPPORT\')) not null, "active" integer not null default true, "api_tokens_enabled" integer not null default true, "api_tokens_disabled_reason" text null, "created_at" datetime not null, constraint "users_organization_id_foreign" foreign key("organization_id") references "organizations"("id") on delete cascade on update cascade, primary key ("id"))',
    );
    this.addSql('create index "users_organization_id_index" on "users" ("organization_id")');
    this.addSql('create unique index "users_email_unique" on "users" ("email")');
    this.addSql(
      'create table "api_tokens" ("id" text not null, "user_id" text not null, "digest" text not null, "hint" text not null, "created_at" datetime not null, "expires_at" datetime not null, "created_region" text not null, "last_used_at" datetime null, "last_used_region" text null, "warned_threshold_ms" bigint null, constraint "api_tokens_user_id_foreign" foreign key("user_id") references "users"("id") on delete cascade on update cascade, primary key ("id"))',
    );
    this.addSql('create unique index "api_tokens_user_id_unique" on "api_tokens" ("user_id")');
    this.addSql('create unique index "api_tokens_digest_unique" on "api_tokens" ("digest")');
    this.addSql('create index "api_tokens_expires_at_index" on "api_tokens" ("expires_at")');
    this.addSql(
      'create table "user_business_units" ("user_id" text not null, "business_unit_id" text not null, constraint "user_business_units_user_id_foreign" foreign key("user_id") references "users"("id") on delete cascade on update cascade, constraint "user_business_units_business_unit_id_foreign" foreign key("business_unit_id") references "business_units"("id") on delete cascade on update cascade, primary key ("user_id", "business_unit_id"))',
    );
    this.addSql('create index "user_business_units_user_id_index" on "user_business_units" ("user_id")');
    this.addSql('create index "user_business_units_business_unit_id_index" on "user_business_units" ("business_unit_id")');
  }
}
