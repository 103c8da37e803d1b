import { execFile } from 'node:child_process';
import { utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'vite';
import type { TestProject } from 'vitest/node';
import { TEST_BUILD_DIR, TEST_WEB_DIR } from './test-build.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    /** When this run began (ms since the epoch), before anything was built. */
    runStartedAt: number;
  }
}

/**
 * Builds once per run, before any test file starts, the two at once, into the
 * suite's own folder (`dist-test/`, never the `dist/` that `npm start` serves):
 * - the service, so the tests that run it or a CLI as a developer does
 *   (`npm start`, `npm run -s session`, with BUILD_DIR pointing here) find an
 *   up-to-date build instead of each compiling the project;
 * - the profile page, so the browser tests load exactly the files the service serves.
 */
export default async function buildOnce(project: TestProject): Promise<void> {
  project.provide('runStartedAt', Date.now());
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const buildInfo = join(TEST_BUILD_DIR, '.tsbuildinfo');
  await Promise.all([
    promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', TEST_BUILD_DIR, '--tsBuildInfoFile', buildInfo], {
      cwd: ROOT,
    }).then(() => {
      // tsc leaves the build info alone when no TypeScript changed (after an edit of package.json, say), and
      // scripts/run-built.mjs, which the CLI tests run, would then build again, saying so on stderr: mark it current.
      const now = new Date();
      utimesSync(buildInfo, now, now);
    }),
    build({
      configFile: new URL('../../web/vite.config.ts', import.meta.url).pathname,
      logLevel: 'error',
      build: { outDir: TEST_WEB_DIR, emptyOutDir: true },
    }),
  ]);
}
