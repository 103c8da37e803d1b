import { Migration } from '@mikro-orm/migrations';

/** Organisations, business units, users, API tokens and the audit trail. */
export class Migration20261128000000_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table "audit_events" ("id" bigserial primary key, "occurred_at" timestamptz not null, "action" varchar(32) not null, "actor_kind" varchar(16) not null, "actor_user_id" uuid null, "actor_label" varchar(320) not null, "subject_user_id" uuid null, "organization_id" uuid null, "token_id" uuid null, "token_hint" varchar(16) null, "token_expires_at" timestamptz null, "threshold" varchar(32) null, "days_left" int null, "region" varchar(32) not null, "reason" text null)',
    );
    this.addSql('create index "audit_events_organization_id_id_index" on "audit_events" ("organization_id", "id")');
    this.addSql('create index "audit_events_subject_user_id_id_index" on "audit_events" ("subject_user_id", "id")');
    this.addSql(
      'create table "organizations" ("id" uuid not null, "name" varchar(200) not null, "created_at" timestamptz not null, constraint "organizations_pkey" primary key ("id"))',
    );
    this.addSql('alter table "organizations" add constraint "organizations_name_unique" unique ("name")');
    this.addSql(
      'create table "business_units" ("id" uuid not null, "organization_id" uuid not null, "name" varchar(200) not null, "created_at" timestamptz not null, constraint "business_units_pkey" primary key ("id"))',
    );
    this.addSql(
      'alter table "business_units" add constraint "business_units_organization_id_name_unique" unique ("organization_id", "name")',
    );
    this.addSql(
      'create table "users" ("id" uuid not null, "organization_id" uuid not null, "email" varchar(320) not null, "name" varchar(200) not null, "role" text check ("role" in (\'ADMIN\', \'USER\', \'SUPPORT\')) not null, "active" boolean not null default true, "api_tokens_enabled" boolean not null default true, "api_tokens_disabled_reason" text null, "created_at" timestamptz not null, constraint "users_pkey" primary key ("id"))',
    );
    this.addSql('alter table "users" add constraint "users_email_unique" unique ("email")');
    this.addSql(
      'create table "api_tokens" ("id" uuid not null, "user_id" uuid not null, "digest" varchar(64) not null, "hint" varchar(16) not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "created_region" varchar(32) not null, "last_used_at" timestamptz null, "last_used_region" varchar(32) null, "warned_threshold_ms" bigint null, constraint "api_tokens_pkey" primary key ("id"))',
    );
    this.addSql('alter table "api_tokens" add constraint "api_tokens_user_id_unique" unique ("user_id")');
    this.addSql('alter table "api_tokens" add constraint "api_tokens_digest_unique" unique ("digest")');
    this.addSql('create index "api_tokens_expires_at_index" on "api_tokens" ("expires_at")');
    this.addSql(
      'create table "user_business_units" ("user_id" uuid not null, "business_unit_id" uuid not null, constraint "user_business_units_pkey" primary key ("user_id", "business_unit_id"))',
    );
    this.addSql(
      'alter table "business_units" add constraint "business_units_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade',
    );
    this.addSql(
      'alter table "users" add constraint "users_organization_id_foreign" foreign key ("organization_id") references "organizations" ("id") on update cascade on delete cascade',
    );
    this.addSql(
      'alter table "api_tokens" add constraint "api_tokens_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade',
    );
    this.addSql(
      'alter table "user_business_units" add constraint "user_business_units_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade',
    );
    this.addSql(
      'alter table "user_business_units" add constraint "user_business_units_business_unit_id_foreign" foreign key ("business_unit_id") references "business_units" ("id") on update cascade on delete cascade',
    );
  }
}
