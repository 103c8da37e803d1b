import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:unit`: the tests named `*.unit.test.ts`, in their feature
 * folders, which need no build, PostgreSQL, Redis or browser (pure rules,
 * formats, parsers): seconds. `npm test` runs them too, with everything else.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/**/*.unit.test.ts'],
    globalSetup: [],
    maxWorkers: 2,
  },
});
