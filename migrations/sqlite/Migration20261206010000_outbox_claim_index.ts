import { Migration } from '@mikro-orm/migrations';

/**
 * The mail worker claims due rows in id order among the pending ones: an
 * index on `(status, id)` hands it the first few without sorting the whole
 * queue (a sweep of 100,000 expiries queues 100,000 emails; each claim of 20
 * sorted all of them). The readiness check's oldest pending row reads it too.
 */
export class Migration20261206010000_outbox_claim_index extends Migration {
  override async up(): Promise<void> {
    this.addSql('drop index "outbox_messages_status_next_attempt_at_index"');
    this.addSql('create index "outbox_messages_status_id_index" on "outbox_messages" ("status", "id")');
  }
}
