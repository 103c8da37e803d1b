import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Compiles the service with tsc into its own folder under
 * `node_modules/.cache` (so packages resolve, and no other test's `dist/` is
 * touched), for tests that need the real `main.ts` in its own process.
 */
export async function buildServer(): Promise<{ main: string; remove(): Promise<void> }> {
  const outDir = join(ROOT, 'node_modules', '.cache', `api-tokens-build-${randomBytes(6).toString('hex')}`);
  await mkdir(outDir, { recursive: true });
  // Under node_modules no package.json of ours applies: say the output is ES modules.
  await writeFile(join(outDir, 'package.json'), '{"type":"module"}\n');
  await promisify(execFile)(
    join(ROOT, 'node_modules', '.bin', 'tsc'),
    ['-p', 'tsconfig.build.json', '--outDir', outDir, '--incremental', 'false', '--sourceMap', 'false'],
    { cwd: ROOT },
  );
  return { main: join(outDir, 'src', 'main.js'), remove: () => rm(outDir, { recursive: true, force: true }) };
}

export interface ServerProcess {
  readonly child: ChildProcess;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  readonly output: () => string;
}

/** Starts `node main` with `env` and waits until `/healthz` answers. */
export async function startServerProcess(main: string, env: Record<string, string>, baseUrl: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
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
