import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The suite's own build (git-ignored), never `dist/`: `npm test` while
 * `npm start` runs must not rebuild, empty or replace the files that server
 * serves. test/support/global-setup.ts builds it once per run.
 */
export const TEST_BUILD_DIR = join(ROOT, 'dist-test');

/** The profile page in the tests' build, served by every in-process test app. */
export const TEST_WEB_DIR = join(TEST_BUILD_DIR, 'web');

/** The sweep thread in the tests' build: a worker thread runs compiled code, not the sources vitest transforms. */
export const TEST_SWEEP_WORKER = pathToFileURL(join(TEST_BUILD_DIR, 'src/expiry/sweep-worker.js'));

/** The environment that makes `npm start` and the CLIs (scripts/run-built.mjs) use the tests' build. */
export const TEST_BUILD_ENV = { BUILD_DIR: TEST_BUILD_DIR } as const;
