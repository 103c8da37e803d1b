import { Migration } from '@mikro-orm/migrations';

/** Sessions issued before a user's last deactivation stop authenticating. */
export class Migration20261205000000_credentials_valid_after extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table "users" add column "credentials_valid_after" datetime null');
  }
}
