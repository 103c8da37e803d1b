import { readFile } from 'node:fs/promises';
import { printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildAppSchema } from '../src/schema.js';

const COMMITTED = new URL('../schema.graphql', import.meta.url);

describe('schema.graphql', () => {
  it('is the schema the code builds (run `npm run schema` and commit it when this fails)', async () => {
    // Built exactly as src/cli/print-schema.ts (what `npm run schema` runs) builds it.
    const current = printSchema(await buildAppSchema()).trimEnd();
    const committed = await readFile(COMMITTED, 'utf8').then(
      (text) => text.trimEnd(),
      () => null,
    );
    if (committed === null) expect.fail('schema.graphql is missing. Run `npm run schema` and commit schema.graphql.');
    if (current !== committed) {
      expect.fail(
        'schema.graphql is stale: the schema built from the code differs from the committed file. ' +
          'Run `npm run schema` and commit schema.graphql.\n\n' +
          firstDifference(committed, current),
      );
    }
  });
});

/** The first differing line, so the failure says where without dumping both schemas. */
function firstDifference(committed: string, current: string): string {
  const a = committed.split('\n');
  const b = current.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return `line ${i + 1}:\n  schema.graphql: ${a[i] ?? '(end of file)'}\n  code:           ${b[i] ?? '(end of file)'}`;
    }
  }
  return '';
}
