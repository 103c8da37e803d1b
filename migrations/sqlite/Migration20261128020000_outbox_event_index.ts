import { Migration } from '@mikro-orm/migrations';

/**
 * The index that MikroORM gives the outbox's many-to-one `audit_event_id` on SQLite
 * (PostgreSQL gets none, as the relation has no foreign key); found by the schema-drift test.
 */
export class Migration20261128020000_outbox_event_index extends Migration {
  override async up(): Promise<void> {
    this.addSql('create index if not exists "outbox_messages_audit_event_id_index" on "outbox_messages" ("audit_event_id")');
  }
}
