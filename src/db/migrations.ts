import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261128000000_initial as PostgresInitial } from '../../migrations/postgresql/Migration20261128000000_initial.js';
import { Migration20261128000000_initial as SqliteInitial } from '../../migrations/sqlite/Migration20261128000000_initial.js';

/** Applied in this order; append new migrations, never edit applied ones. */
export const sqliteMigrations: MigrationObject[] = [
  { name: 'Migration20261128000000_initial', class: SqliteInitial },
];

export const postgresMigrations: MigrationObject[] = [
  { name: 'Migration20261128000000_initial', class: PostgresInitial },
];
