import { Migration } from '@mikro-orm/migrations';

/** The transactional email outbox. */
export class Migration20261128010000_outbox extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table "outbox_messages" ("id" integer not null primary key autoincrement, "created_at" datetime not null, "kind" text not null, "recipient" text not null, "subject" text not null, "text" text not null, "html" text not null, "status" text not null default \'PENDING\', "attempts" integer not null default 0, "next_attempt_at" datetime not null, "locked_until" datetime null, "last_error" text null, "sent_at" datetime null, "audit_event_id" bigint null)',
    );
    this.addSql('create index "outbox_messages_status_next_attempt_at_index" on "outbox_messages" ("status", "next_attempt_at")');
  }
}
