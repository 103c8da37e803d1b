import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:unit`: the tests named `*.unit.test.ts`, in their feature folders,
 * which need no server build, PostgreSQL, Redis
 * or browser (pure rules, formats, parsers), in seconds. `npm test` runs them
 * too, with everything else.
 */
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/**/*.unit.test.ts'],
    globalSetup: [],
    maxWorkers: 2,
    isolate: false,
  },
});
