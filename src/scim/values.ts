import { invalidFilter, invalidSyntax, invalidValue } from './scim-errors.js';

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A request body must be a JSON object. */
export function bodyObject(body: unknown): Json {
  if (!isObject(body)) throw invalidSyntax('The request body must be a JSON object.');
  return body;
}

/**
 * A SCIM boolean. Entra ID sends `"True"` / `"False"` as strings in PATCH
 * (documented in its SCIM guidance), so those count too, in any case.
 */
export function booleanValue(value: unknown, attribute: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw invalidValue(`${attribute} must be true or false.`);
}

export function stringValue(value: unknown, attribute: string): string {
  if (typeof value !== 'string') throw invalidValue(`${attribute} must be a string.`);
  return value;
}

/** Attribute names are case-insensitive (RFC 7643 §2.1): the value of `name` in `object`, whatever its case. */
export function attributeOf(object: Json, name: string): unknown {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(object)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

/** The `filter` query parameter: null when absent or blank; given twice, it is refused rather than ignored. */
export function filterParameter(query: Json): string | null {
  const filter = query['filter'];
  if (filter === undefined) return null;
  if (typeof filter !== 'string') throw invalidFilter('Give one filter.');
  return filter.trim() === '' ? null : filter;
}

/** `startIndex` and `count` of a list request (RFC 7644 §3.4.2.4): 1-based; out-of-range values are clamped. */
export function paging(query: Json, maxPage: number): { startIndex: number; count: number } {
  const number = (name: string, fallback: number): number => {
    const raw = query[name];
    if (raw === undefined || raw === '') return fallback;
    const parsed = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(parsed)) throw invalidValue(`${name} must be a whole number.`);
    return parsed;
  };
  const startIndex = Math.max(1, number('startIndex', 1));
  const count = Math.min(maxPage, Math.max(0, number('count', maxPage)));
  return { startIndex, count };
}
