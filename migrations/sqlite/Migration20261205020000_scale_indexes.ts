import { Migration } from '@mikro-orm/migrations';

/**
 * Indexes that keep every listing and the sweep flat as the tables grow
 * (issue 17): admin listings page by user id within an organisation or a
 * business unit, SCIM by creation within an organisation, the sweeper claims
 * in `(expires_at, id)` order, and an admin scoped to units reads their
 * organisation's own events without the members' ones.
 */
export class Migration20261205020000_scale_indexes extends Migration {
  override async up(): Promise<void> {
    this.addSql('create index "users_organization_id_id_index" on "users" ("organization_id", "id")');
    this.addSql('create index "users_organization_id_created_at_id_index" on "users" ("organization_id", "created_at", "id")');
    this.addSql(
      'create index "user_business_units_business_unit_id_user_id_index" on "user_business_units" ("business_unit_id", "user_id")',
    );
    this.addSql('drop index "api_tokens_expires_at_index"');
    this.addSql('create index "api_tokens_expires_at_id_index" on "api_tokens" ("expires_at", "id")');
    this.addSql(
      'create index "audit_events_organization_id_subject_user_id_id_index" on "audit_events" ("organization_id", "subject_user_id", "id")',
    );
  }
}
