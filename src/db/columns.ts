import {
  ReferenceKind,
  type EntityData,
  type EntityManager,
  type EntityName,
  type EntityProperty,
  type MetadataStorage,
  type Platform,
} from '@mikro-orm/core';
import { PostgreSqlPlatform } from '@mikro-orm/postgresql';

/** Where an entity lives in SQL, read from MikroORM's metadata rather than written out by hand. */
export interface SqlNames<T> {
  readonly table: string;
  /** The column of a scalar or many-to-one property (its foreign key). */
  column(property: keyof T & string): string;
  /** The pivot table of a many-to-many property, with its owner and target columns. */
  pivot(property: keyof T & string): { readonly table: string; readonly owner: string; readonly target: string };
}

/** `from`: the ORM, or an entity manager (inside a transaction). */
export function sqlNames<T extends object>(from: { getMetadata(): MetadataStorage }, entity: EntityName<T>): SqlNames<T> {
  const meta = from.getMetadata().get<T>(entity);
  const property = (name: string) => {
    const prop = (meta.properties as Record<string, EntityProperty<T> | undefined>)[name];
    if (!prop) throw new Error(`${meta.className} has no property ${name}`);
    return prop;
  };
  const only = (columns: readonly string[] | undefined, what: string): string => {
    if (columns?.length !== 1 || columns[0] === undefined) throw new Error(`${meta.className}.${what} is not one column`);
    return columns[0];
  };
  return {
    table: meta.tableName,
    column: (name) => only(property(name).fieldNames, name),
    pivot: (name) => {
      const prop = property(name);
      return {
        table: prop.pivotTable,
        owner: only(prop.joinColumns, `${name} (owner column)`),
        target: only(prop.inverseJoinColumns, `${name} (target column)`),
      };
    },
  };
}

/** SQLite keeps datetimes as epoch milliseconds; PostgreSQL's driver (as MikroORM sets it up) answers text. */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  const date = new Date(typeof value === 'number' || typeof value === 'string' ? value : Number.NaN);
  if (Number.isNaN(date.getTime())) throw new Error(`Unreadable datetime from the database: ${String(value)}`);
  return date;
}

/** One `?` per value, for a raw query's `in (...)` list. */
export function marks(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

/** A date as the database stores it, for a raw query's parameter (MikroORM's own mapping: epoch milliseconds on SQLite). */
export function sqlDate(from: { getPlatform(): Platform }, date: Date): unknown {
  return from.getPlatform().processDateProperty(date);
}

/**
 * Inserts rows of an entity with an auto-increment `id` in one statement,
 * past the unit of work, and answers their ids in the rows' order.
 * (`em.insertMany` answers only the first id when the database returns them
 * as rows, as PostgreSQL and SQLite do.) On PostgreSQL the rows go as one
 * array per column (see `insertByColumns`).
 */
export async function insertReturningIds<T extends { id: number }>(
  em: EntityManager,
  entity: EntityName<T>,
  rows: readonly EntityData<T>[],
): Promise<number[]> {
  if (rows.length === 0) return [];
  let ids: number[];
  if (em.getPlatform() instanceof PostgreSqlPlatform) {
    ids = await insertByColumns(em, entity, rows);
  } else {
    // The transaction's context is untyped in MikroORM's API.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
    const result = await em.getDriver().nativeInsertMany(entity, [...rows], { ctx: em.getTransactionContext() });
    ids = (result.rows ?? []).map((row) => Number(row['id']));
  }
  if (ids.length !== rows.length || ids.some((id) => !Number.isSafeInteger(id))) {
    throw new Error(`Inserted ${rows.length} rows but the database returned ${ids.length} ids`);
  }
  return ids;
}

/**
 * PostgreSQL: `insert ... select * from unnest(<one array per column>)`.
 * A `values` list of 500 rows is 7,000 expressions for PostgreSQL to parse
 * and plan; the same rows as 14 arrays took it a quarter of the time
 * (bench/REPORT.md), and a sweep writes 500 audit events a batch. The rows
 * are inserted, and their ids returned, in the arrays' order.
 */
async function insertByColumns<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  rows: readonly EntityData<T>[],
): Promise<number[]> {
  const meta = em.getMetadata().get<T>(entity);
  const [first] = rows;
  const columns = Object.keys(first ?? {}).map((key) => {
    const prop = (meta.properties as Record<string, EntityProperty<T> | undefined>)[key];
    const [name] = prop?.fieldNames ?? [];
    const [type] = prop?.columnTypes ?? [];
    if (!prop || prop.kind !== ReferenceKind.SCALAR || !name || !type) throw new Error(`${meta.className}.${key} is not one scalar column`);
    // `varchar(32)[]` and `varchar[]` are the same array type; the column checks the length.
    return { key, name, type: type.replace(/\(.*\)$/, '') };
  });
  const quote = (name: string) => em.getPlatform().quoteIdentifier(name);
  const sql = `insert into ${quote(meta.tableName)} (${columns.map(({ name }) => quote(name)).join(', ')})
               select * from unnest(${columns.map(({ type }) => `?::${type}[]`).join(', ')}) returning ${quote('id')}`;
  const params = columns.map(({ key }) => arrayLiteral(rows.map((row) => (row as Record<string, unknown>)[key])));
  // Raw SQL comes back untyped.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
  const result: { id: unknown }[] = await em.getConnection().execute(sql, params, 'all', em.getTransactionContext());
  return result.map((row) => Number(row.id));
}

/**
 * A PostgreSQL array literal of `values`: every element double-quoted, with
 * `"` and `\\` escaped, so that commas, braces, spaces, quotes and the word
 * NULL in a value stay that value; `null` and `undefined` are NULL; a date is
 * its ISO instant, a number, bigint or boolean its text, anything else its JSON.
 */
export function arrayLiteral(values: readonly unknown[]): string {
  const element = (value: unknown): string => {
    if (value === null || value === undefined) return 'NULL';
    const text =
      value instanceof Date
        ? value.toISOString()
        : typeof value === 'string'
          ? value
          : typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean'
            ? String(value)
            : JSON.stringify(value);
    return `"${text.replace(/["\\]/g, '\\$&')}"`;
  };
  return `{${values.map(element).join(',')}}`;
}
