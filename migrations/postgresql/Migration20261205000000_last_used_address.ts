import { Migration } from '@mikro-orm/migrations';

/** Where a token was last used from, written with `last_used_at` (issue 16). */
export class Migration20261205000000_last_used_address extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table "api_tokens" add column "last_used_address" varchar(45) null');
  }
}
