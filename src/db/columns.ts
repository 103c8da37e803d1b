import type { EntityData, EntityManager, EntityName, EntityProperty, MetadataStorage, Platform } from '@mikro-orm/core';

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
 * as rows, as PostgreSQL and SQLite do.)
 */
export async function insertReturningIds<T extends { id: number }>(
  em: EntityManager,
  entity: EntityName<T>,
  rows: readonly EntityData<T>[],
): Promise<number[]> {
  if (rows.length === 0) return [];
  // The transaction's context is untyped in MikroORM's API.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
  const result = await em.getDriver().nativeInsertMany(entity, [...rows], { ctx: em.getTransactionContext() });
  const ids = (result.rows ?? []).map((row) => Number(row['id']));
  if (ids.length !== rows.length || ids.some((id) => !Number.isSafeInteger(id))) {
    throw new Error(`Inserted ${rows.length} rows but the database returned ${ids.length} ids`);
  }
  return ids;
}
