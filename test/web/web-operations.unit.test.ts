import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { generate, GENERATED, OPERATIONS, SCHEMA } from '../../web/codegen.mjs';

/**
 * The page's operations are typed from schema.graphql by web/codegen.mjs. A
 * schema change that breaks one fails here (validation), and so does a stale
 * operations.generated.ts, so the types tsc checks the page against are the
 * schema's.
 */
describe('the profile page operations', () => {
  it('are valid against schema.graphql, and operations.generated.ts is fresh (else run `npm run web:types`)', async () => {
    const [schema, operations, committed] = await Promise.all([SCHEMA, OPERATIONS, GENERATED].map((url) => readFile(url, 'utf8')));
    const current = generate(schema ?? '', operations ?? '');
    expect(committed, 'web/src/operations.generated.ts is stale: run `npm run web:types` and commit it').toBe(current);
  });

  it('refuses an operation that asks for a field the schema does not have', async () => {
    const schema = await readFile(SCHEMA, 'utf8');
    expect(() => generate(schema, 'query Broken { myApiToken { secret } }')).toThrow(/Cannot query field "secret"/);
  });
});
