import { invalidFilter } from './scim-errors.js';

/** The one filter form identity providers send to find a resource: `attribute eq "value"`. */
export interface EqualityFilter {
  /** As supported by the endpoint, in the case the endpoint declared it. */
  readonly attribute: string;
  readonly value: string;
}

const EQ = /^\s*([A-Za-z][\w.:$-]*(?:\[[^\]]*\])?(?:\.[A-Za-z]\w*)?)\s+eq\s+("(?:[^"\\]|\\.)*")\s*$/i;

/**
 * Parses `filter` for an endpoint that supports equality on `attributes`
 * (matched case-insensitively, RFC 7644 §3.4.2.2). Okta and Entra ID look
 * resources up with exactly this form; any other operator, a logical
 * expression or an attribute not in the list is a 400 `invalidFilter`, so a
 * client never mistakes an unsupported filter for an empty result.
 */
export function parseEqualityFilter(filter: string, attributes: readonly string[]): EqualityFilter {
  const match = EQ.exec(filter);
  const path = match?.[1];
  const literal = match?.[2];
  if (!path || !literal) {
    throw invalidFilter(`Only filters of the form: attribute eq "value" are supported (${attributes.join(', ')}).`);
  }
  const attribute = attributes.find((candidate) => normalise(candidate) === normalise(path));
  if (!attribute) throw invalidFilter(`Filtering on "${path}" is not supported; use one of ${attributes.join(', ')}.`);
  let value: unknown;
  try {
    value = JSON.parse(literal);
  } catch {
    throw invalidFilter('The filter value is not a valid string.');
  }
  if (typeof value !== 'string') throw invalidFilter('The filter value must be a string.');
  // No stored value has one, and PostgreSQL refuses NUL in a text comparison.
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalidFilter('The filter value cannot contain control characters.');
  return { attribute, value };
}

/** Case and the quotes around a sub-attribute filter's value do not matter: `emails[type eq "work"].value`. */
function normalise(path: string): string {
  return path.toLowerCase().replace(/\s+/g, ' ').replace(/'/g, '"');
}
