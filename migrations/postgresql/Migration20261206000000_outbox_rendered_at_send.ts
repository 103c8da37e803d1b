import { Migration } from '@mikro-orm/migrations';

/**
 * The outbox names what to send and the worker renders it when sending:
 * new rows carry the recipient's name and no rendered text; rows queued
 * before keep theirs.
 */
export class Migration20261206000000_outbox_rendered_at_send extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table "outbox_messages" add column "recipient_name" varchar(200) null');
    this.addSql('alter table "outbox_messages" alter column "subject" drop not null');
    this.addSql('alter table "outbox_messages" alter column "text" drop not null');
    this.addSql('alter table "outbox_messages" alter column "html" drop not null');
  }
}
