import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261128000000_initial as PostgresInitial } from '../../migrations/postgresql/Migration20261128000000_initial.js';
import { Migration20261128010000_outbox as PostgresOutbox } from '../../migrations/postgresql/Migration20261128010000_outbox.js';
import { Migration20261128000000_initial as SqliteInitial } from '../../migrations/sqlite/Migration20261128000000_initial.js';
import { Migration20261128010000_outbox as SqliteOutbox } from '../../migrations/sqlite/Migration20261128010000_outbox.js';
import { Migration20261128020000_outbox_event_index as SqliteOutboxEventIndex } from '../../migrations/sqlite/Migration20261128020000_outbox_event_index.js';
import { Migration20261128020000_scim as PostgresScim } from '../../migrations/postgresql/Migration20261128020000_scim.js';
import { Migration20261128020000_scim as SqliteScim } from '../../migrations/sqlite/Migration20261128020000_scim.js';
import { Migration20261205000000_credentials_valid_after as PostgresCredentialsValidAfter } from '../../migrations/postgresql/Migration20261205000000_credentials_valid_after.js';
import { Migration20261205000000_credentials_valid_after as SqliteCredentialsValidAfter } from '../../migrations/sqlite/Migration20261205000000_credentials_valid_after.js';
import { Migration20261205000000_last_used_address as PostgresLastUsedAddress } from '../../migrations/postgresql/Migration20261205000000_last_used_address.js';
import { Migration20261205000000_last_used_address as SqliteLastUsedAddress } from '../../migrations/sqlite/Migration20261205000000_last_used_address.js';
import { Migration20261205000000_last_modified as PostgresLastModified } from '../../migrations/postgresql/Migration20261205000000_last_modified.js';
import { Migration20261205000000_last_modified as SqliteLastModified } from '../../migrations/sqlite/Migration20261205000000_last_modified.js';
import { Migration20261205010000_organization_domains as PostgresDomains } from '../../migrations/postgresql/Migration20261205010000_organization_domains.js';
import { Migration20261205010000_organization_domains as SqliteDomains } from '../../migrations/sqlite/Migration20261205010000_organization_domains.js';
import { Migration20261205020000_scale_indexes as PostgresScaleIndexes } from '../../migrations/postgresql/Migration20261205020000_scale_indexes.js';
import { Migration20261205020000_scale_indexes as SqliteScaleIndexes } from '../../migrations/sqlite/Migration20261205020000_scale_indexes.js';
import { Migration20261206000000_outbox_rendered_at_send as PostgresOutboxRenderedAtSend } from '../../migrations/postgresql/Migration20261206000000_outbox_rendered_at_send.js';
import { Migration20261206000000_outbox_rendered_at_send as SqliteOutboxRenderedAtSend } from '../../migrations/sqlite/Migration20261206000000_outbox_rendered_at_send.js';
import { Migration20261206010000_outbox_claim_index as PostgresOutboxClaimIndex } from '../../migrations/postgresql/Migration20261206010000_outbox_claim_index.js';
import { Migration20261206010000_outbox_claim_index as SqliteOutboxClaimIndex } from '../../migrations/sqlite/Migration20261206010000_outbox_claim_index.js';
import { Migration20261206020000_outbox_priority as PostgresOutboxPriority } from '../../migrations/postgresql/Migration20261206020000_outbox_priority.js';
import { Migration20261206020000_outbox_priority as SqliteOutboxPriority } from '../../migrations/sqlite/Migration20261206020000_outbox_priority.js';

/**
 * Applied in this order; append new migrations (`npm run migration:create`
 * writes them and prints the lines to add here), never edit applied ones.
 * `test/db/schema-drift.test.ts` fails when these and the entities disagree.
 */
export const sqliteMigrations: MigrationObject[] = [
  { name: 'Migration20261128000000_initial', class: SqliteInitial },
  { name: 'Migration20261128010000_outbox', class: SqliteOutbox },
  { name: 'Migration20261128020000_outbox_event_index', class: SqliteOutboxEventIndex },
  { name: 'Migration20261128020000_scim', class: SqliteScim },
  { name: 'Migration20261205000000_credentials_valid_after', class: SqliteCredentialsValidAfter },
  { name: 'Migration20261205000000_last_used_address', class: SqliteLastUsedAddress },
  { name: 'Migration20261205000000_last_modified', class: SqliteLastModified },
  { name: 'Migration20261205010000_organization_domains', class: SqliteDomains },
  { name: 'Migration20261205020000_scale_indexes', class: SqliteScaleIndexes },
  { name: 'Migration20261206000000_outbox_rendered_at_send', class: SqliteOutboxRenderedAtSend },
  { name: 'Migration20261206010000_outbox_claim_index', class: SqliteOutboxClaimIndex },
  { name: 'Migration20261206020000_outbox_priority', class: SqliteOutboxPriority },
];

export const postgresMigrations: MigrationObject[] = [
  { name: 'Migration20261128000000_initial', class: PostgresInitial },
  { name: 'Migration20261128010000_outbox', class: PostgresOutbox },
  { name: 'Migration20261128020000_scim', class: PostgresScim },
  { name: 'Migration20261205000000_credentials_valid_after', class: PostgresCredentialsValidAfter },
  { name: 'Migration20261205000000_last_used_address', class: PostgresLastUsedAddress },
  { name: 'Migration20261205000000_last_modified', class: PostgresLastModified },
  { name: 'Migration20261205010000_organization_domains', class: PostgresDomains },
  { name: 'Migration20261205020000_scale_indexes', class: PostgresScaleIndexes },
  { name: 'Migration20261206000000_outbox_rendered_at_send', class: PostgresOutboxRenderedAtSend },
  { name: 'Migration20261206010000_outbox_claim_index', class: PostgresOutboxClaimIndex },
  { name: 'Migration20261206020000_outbox_priority', class: PostgresOutboxPriority },
];
