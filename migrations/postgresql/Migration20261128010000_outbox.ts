import { Migration } from '@mikro-orm/migrations';

/** The transactional email outbox. */
export class Migration20261128010000_outbox extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table "outbox_messages" ("id" bigserial primary key, "created_at" timestamptz not null, "kind" varchar(32) not null, "recipient" varchar(320) not null, "subject" varchar(300) not null, "text" text not null, "html" text not null, "status" varchar(16) not null default \'PENDING\', "attempts" int not null default 0, "next_attempt_at" timestamptz not null, "locked_until" timestamptz null, "last_error" text null, "sent_at" timestamptz null, "audit_event_id" bigint null)',
    );
    this.addSql('create index "outbox_messages_status_next_attempt_at_index" on "outbox_messages" ("status", "next_attempt_at")');
  }
}
