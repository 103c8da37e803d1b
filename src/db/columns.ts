import type { EntityName, EntityProperty, MikroORM } from '@mikro-orm/core';

/** Where an entity lives in SQL, read from MikroORM's metadata rather than written out by hand. */
export interface SqlNames<T> {
  readonly table: string;
  /** The column of a scalar or many-to-one property (its foreign key). */
  column(property: keyof T & string): string;
  /** The pivot table of a many-to-many property, with its owner and target columns. */
  pivot(property: keyof T & string): { readonly table: string; readonly owner: string; readonly target: string };
}

export function sqlNames<T extends object>(orm: MikroORM, entity: EntityName<T>): SqlNames<T> {
  const meta = orm.getMetadata().get<T>(entity);
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
