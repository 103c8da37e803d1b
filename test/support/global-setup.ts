import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'vite';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Builds once per run, before any test file starts, the two at once:
 * - `dist/`, so the tests that run the service or a CLI as a developer does
 *   (`npm start`, `npm run -s session`) find an up-to-date build instead of
 *   each compiling the project;
 * - the profile page into `dist/web`, so the browser tests load exactly the
 *   files the service serves.
 */
export default async function buildOnce(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await Promise.all([
    promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT }),
    build({ configFile: new URL('../../web/vite.config.ts', import.meta.url).pathname, logLevel: 'error' }),
  ]);
}
