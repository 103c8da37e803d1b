import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { TEST_BUILD_DIR } from './test-build.js';

/**
 * The service as `npm start` runs it, from the suite's own build (`dist-test/`,
 * which test/support/global-setup.ts built once for this run), for tests that need
 * the real `main.ts` in its own process.
 */
export function builtServer(): { main: string } {
  return { main: join(TEST_BUILD_DIR, 'src', 'main.js') };
}

export interface ServerProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  readonly output: () => string;
}

function compileCache(): Record<string, string> {
  const dir = process.env['NODE_COMPILE_CACHE'];
  return dir ? { NODE_COMPILE_CACHE: dir } : {};
}

/** Starts `node main` with `env` and waits until `/healthz` answers. */
export async function startServerProcess(main: string, env: Record<string, string>, baseUrl: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, [main], {
    // Only PATH from the suite's environment (and Node's compile cache, scripts/test.mjs): the test says the rest.
    env: { PATH: process.env['PATH'] ?? '', ...compileCache(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited at start: ${output}`);
    try {
      if ((await fetch(new URL('/healthz', baseUrl))).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`server did not start: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, exited, output: () => output };
}
