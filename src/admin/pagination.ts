import { Field, ObjectType, type ClassType } from 'type-graphql';
import { BadUserInputError } from '../errors.js';

const DEFAULT_PAGE_SIZE = 20;
/** Larger pages are refused rather than silently shortened, so a client never mistakes a cut for the end. */
const MAX_PAGE_SIZE = 100;

@ObjectType({ description: 'Relay-style paging state.' })
export class PageInfo {
  @Field({ description: 'Whether there are more items after this page.' })
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Pass as `after` to get the next page.' })
  endCursor!: string | null;
}

/** How one kind of page describes itself in the schema. */
export interface ConnectionNames {
  /** The type names, e.g. `ApiTokenEdge` and `ApiTokenConnection`. */
  readonly edge: string;
  readonly connection: string;
  readonly description: string;
  readonly edgeDescription: string;
  readonly nodeDescription: string;
  readonly edgesDescription: string;
}

/** A Relay page of `itemClass` nodes: one generic pair of types instead of a hand-written copy per list. */
export function Connection<TItem extends object>(itemClass: ClassType<TItem>, names: ConnectionNames) {
  @ObjectType(names.edge, { description: names.edgeDescription })
  class Edge {
    @Field({ description: 'Opaque position of this item; pass as `after` to continue after it.' })
    cursor!: string;

    @Field(() => itemClass, { description: names.nodeDescription })
    node!: TItem;
  }

  @ObjectType(names.connection, { description: names.description })
  class Page {
    @Field(() => [Edge], { description: names.edgesDescription })
    edges!: Edge[];

    @Field(() => PageInfo, { description: 'Whether and how to get the next page.' })
    pageInfo!: PageInfo;
  }
  return Page;
}

export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new BadUserInputError(`first must be between 1 and ${MAX_PAGE_SIZE}.`, 'first');
  }
  return first;
}

/** Cursors are opaque to clients: base64url of the row id. */
function encodeCursor(id: string | number): string {
  return Buffer.from(String(id), 'utf8').toString('base64url');
}

/**
 * The row id inside `after`, or null when there is none. Anything that is not
 * a cursor this service issued (wrong alphabet, not canonical, wrong id shape)
 * is refused, so a tampered cursor cannot reach the database.
 */
export function decodeCursor<T>(after: string | null | undefined, parseId: (raw: string) => T | null): T | null {
  if (after === null || after === undefined) return null;
  const raw = /^[A-Za-z0-9_-]{1,200}$/.test(after) ? Buffer.from(after, 'base64url').toString('utf8') : '';
  const id = raw !== '' && encodeCursor(raw) === after ? parseId(raw) : null;
  if (id === null) throw new BadUserInputError('after is not a cursor from this list.', 'after');
  return id;
}

/**
 * A page from the `first + 1` keys a keyset query read and the rows loaded
 * for them. A key whose row went away between the two reads (a token revoked
 * meanwhile) has no edge, but the page still ends, and the next one starts,
 * where the keys say.
 */
export function keyedPage<K extends string | number, T>(keys: readonly K[], first: number, rowOf: (key: K) => T | undefined) {
  const pageKeys = keys.slice(0, first);
  const edges = pageKeys.flatMap((key) => {
    const node = rowOf(key);
    return node === undefined ? [] : [{ cursor: encodeCursor(key), node }];
  });
  const last = pageKeys.at(-1);
  return { edges, pageInfo: { hasNextPage: keys.length > first, endCursor: last === undefined ? null : encodeCursor(last) } };
}
