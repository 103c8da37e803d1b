import { test } from 'vitest';
import { loadConfig } from '../src/config.js';
import { checkOperation } from '../src/http/operation-limits.js';
import { buildAppSchema } from '../src/schema.js';
import { doublingFragments } from '../test/limits/doubling.js';

/**
 * Parse and validate, with every operation limit, a document whose fragments
 * each spread the next twice. With the old hand-written field counter the time
 * doubled with each level (see REPORT.md); it should now grow with the
 * document's length only.
 */
const schema = await buildAppSchema();
const limits = loadConfig({}).operationLimits;

test('validation of doubling fragments (all limits)', async ({ bench }) => {
  await bench.compare(
    ...[16, 22, 27, 40].map((depth) => {
      const query = doublingFragments(depth);
      return bench(`${depth} levels`, () => {
        if (!checkOperation(limits, schema, query).errors) throw new Error('accepted a doubling document');
      });
    }),
  );
});
