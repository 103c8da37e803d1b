import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261128000000_initial as PostgresInitial } from '../../migrations/postgresql/Migration20261128000000_initial.js';
import { Migration20261128010000_outbox as PostgresOutbox } from '../../migrations/postgresql/Migration20261128010000_outbox.js';
import { Migration20261128000000_initial as SqliteInitial } from '../../migrations/sqlite/Migration20261128000000_initial.js';
import { Migration20261128010000_outbox as SqliteOutbox } from '../../migrations/sqlite/Migration20261128010000_outbox.js';
import { Migration20261128020000_outbox_event_index as SqliteOutboxEventIndex } from '../../migrations/sqlite/Migration20261128020000_outbox_event_index.js';
import { Migration20261128020000_scim as PostgresScim } from '../../migrations/postgresql/Migration20261128020000_scim.js';
import { Migration20261128020000_scim as SqliteScim } from '../../migrations/sqlite/Migration20261128020000_scim.js';
import { Migration20261205000000_scale_indexes as PostgresScaleIndexes } from '../../migrations/postgresql/Migration20261205000000_scale_indexes.js';
import { Migration20261205000000_scale_indexes as SqliteScaleIndexes } from '../../migrations/sqlite/Migration20261205000000_scale_indexes.js';

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
  { name: 'Migration20261205000000_scale_indexes', class: SqliteScaleIndexes },
];

export const postgresMigrations: MigrationObject[] = [
  { name: 'Migration20261128000000_initial', class: PostgresInitial },
  { name: 'Migration20261128010000_outbox', class: PostgresOutbox },
  { name: 'Migration20261128020000_scim', class: PostgresScim },
  { name: 'Migration20261205000000_scale_indexes', class: PostgresScaleIndexes },
];
