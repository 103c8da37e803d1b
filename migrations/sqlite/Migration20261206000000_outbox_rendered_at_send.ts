import { Migration } from '@mikro-orm/migrations';

const COLUMNS =
  '"id", "created_at", "kind", "recipient", "subject", "text", "html", "status", "attempts", "next_attempt_at", "locked_until", "last_error", "sent_at", "audit_event_id"';

/**
 * The outbox names what to send and the worker renders it when sending:
 * new rows carry the recipient's name and no rendered text; rows queued
 * before keep theirs. SQLite cannot drop a NOT NULL, so the table is
 * rebuilt: same rows, same ids, and the id sequence goes on where it was
 * (a reused id would repeat an earlier email's Message-ID).
 */
export class Migration20261206000000_outbox_rendered_at_send extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table "outbox_messages_new" ("id" integer not null primary key autoincrement, "created_at" datetime not null, "kind" text not null, "recipient" text not null, "recipient_name" text null, "subject" text null, "text" text null, "html" text null, "status" text not null default \'PENDING\', "attempts" integer not null default 0, "next_attempt_at" datetime not null, "locked_until" datetime null, "last_error" text null, "sent_at" datetime null, "audit_event_id" bigint null)',
    );
    this.addSql(`insert into "outbox_messages_new" (${COLUMNS}) select ${COLUMNS} from "outbox_messages"`);
    this.addSql(`delete from "sqlite_sequence" where "name" = 'outbox_messages_new'`);
    this.addSql(
      `insert into "sqlite_sequence" ("name", "seq") select 'outbox_messages_new', "seq" from "sqlite_sequence" where "name" = 'outbox_messages'`,
    );
    this.addSql('drop table "outbox_messages"');
    this.addSql('alter table "outbox_messages_new" rename to "outbox_messages"');
    this.addSql('create index "outbox_messages_status_next_attempt_at_index" on "outbox_messages" ("status", "next_attempt_at")');
    this.addSql('create index "outbox_messages_audit_event_id_index" on "outbox_messages" ("audit_event_id")');
  }
}
