import { Migration } from '@mikro-orm/migrations';

/**
 * Emails about a change someone made (a token created, revoked, disabled)
 * go before the sweep's (expiry warnings and notices): the worker sends at
 * most `MAIL_MAX_RATE` a second, and a queue of 100,000 expiry notices would
 * otherwise hold a revocation's confirmation for an hour. The worker claims
 * in `(priority, id)` order, off an index of that order.
 */
export class Migration20261206020000_outbox_priority extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table "outbox_messages" add column "priority" smallint not null default 0');
    this.addSql(`update "outbox_messages" set "priority" = 1 where "kind" in ('EXPIRED', 'EXPIRY_WARNING')`);
    this.addSql('drop index "outbox_messages_status_id_index"');
    this.addSql('create index "outbox_messages_status_priority_id_index" on "outbox_messages" ("status", "priority", "id")');
  }
}
