import { isObject, type Json } from './values.js';

/** Returned whatever `attributes` or `excludedAttributes` say (RFC 7643 §7, `returned: always`). */
const ALWAYS = new Set(['id', 'schemas']);

/** An attribute path split at its schema URN: `[key, subAttribute?]`, the key as the resource spells it. */
function pathOf(resource: Json, raw: string, schemas: readonly string[]): [string, string | null] | null {
  const text = raw.trim();
  let rest = text;
  for (const schema of schemas) {
    const lower = text.toLowerCase();
    const urn = schema.toLowerCase();
    if (lower === urn) return [schema, null];
    if (lower.startsWith(`${urn}:`)) {
      // A core schema's attribute stands at the top; an extension's sits in the extension's object.
      const inner = text.slice(urn.length + 1);
      if (isObject(resource[schema])) return [schema, inner];
      rest = inner;
      break;
    }
  }
  const [top, sub] = rest.split('.', 2) as [string, string | undefined];
  const key = Object.keys(resource).find((each) => each.toLowerCase() === top.toLowerCase());
  return key === undefined ? null : [key, sub ?? null];
}

function listOf(parameter: unknown): string[] {
  return typeof parameter === 'string' ? parameter.split(',').filter((each) => each.trim() !== '') : [];
}

function pick(value: unknown, sub: string): unknown {
  const one = (object: unknown) => {
    if (!isObject(object)) return object;
    const key = Object.keys(object).find((each) => each.toLowerCase() === sub.toLowerCase());
    return key === undefined ? {} : { [key]: object[key] };
  };
  return Array.isArray(value) ? value.map(one) : one(value);
}

function drop(value: unknown, sub: string): unknown {
  const one = (object: unknown) => {
    if (!isObject(object)) return object;
    return Object.fromEntries(Object.entries(object).filter(([key]) => key.toLowerCase() !== sub.toLowerCase()));
  };
  return Array.isArray(value) ? value.map(one) : one(value);
}

/**
 * `attributes` / `excludedAttributes` (RFC 7644 §3.9, §3.4.2.5) applied to a
 * resource: names are case-insensitive, may carry their schema URN, and may
 * name a sub-attribute (`name.givenName`, `emails.value`). `id` and
 * `schemas` are always returned. An attribute the resource does not have is
 * nothing to return or leave out.
 */
export function project(resource: Json, query: Json): Json {
  const schemas = Array.isArray(resource['schemas']) ? resource['schemas'].map(String) : [];
  const wanted = listOf(query['attributes']);
  const excluded = listOf(query['excludedAttributes']);
  let out: Json = resource;
  if (wanted.length) {
    out = Object.fromEntries(Object.entries(resource).filter(([key]) => ALWAYS.has(key)));
    for (const raw of wanted) {
      const path = pathOf(resource, raw, schemas);
      if (!path) continue;
      const [key, sub] = path;
      if (sub === null) out[key] = resource[key];
      else {
        const picked = pick(resource[key], sub);
        const before = out[key];
        out[key] = isObject(before) && isObject(picked) ? { ...before, ...picked } : picked;
      }
    }
  }
  for (const raw of excluded) {
    const path = pathOf(out, raw, schemas);
    if (!path || ALWAYS.has(path[0])) continue;
    const [key, sub] = path;
    if (sub === null) {
      const { [key]: _dropped, ...rest } = out;
      out = rest;
    } else out = { ...out, [key]: drop(out[key], sub) };
  }
  return out;
}
