import { readFile } from 'node:fs/promises';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { sources } from '../../web/src/operations.js';

/**
 * The profile page's operations are hand-typed; this keeps them honest
 * against the committed schema, so a renamed or removed field fails here and
 * not in a user's browser.
 */
describe('the profile page operations', () => {
  it.each(Object.entries(sources))('%s is valid against schema.graphql', async (_name, source) => {
    const schema = buildSchema(await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8'));
    expect(validate(schema, parse(source)).map((error) => error.message)).toEqual([]);
  });
});
