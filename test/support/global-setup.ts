import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Builds `dist/` once per run, before any test file starts, so the tests that
 * run the CLIs as a developer does (`npm run -s session`) find an up-to-date
 * incremental build instead of each compiling the project.
 */
export default function buildOnce(): void {
  execFileSync(process.execPath, [createRequire(import.meta.url).resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}
