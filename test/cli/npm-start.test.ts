import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/ports.js';
import { TEST_BUILD_ENV } from '../support/test-build.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `npm start`, the README's first command after `npm ci`, on the embedded default. */
describe('npm start', () => {
  let dataDir = '';
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the page and the GraphQL API, and stops on SIGTERM', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'api-tokens-start-'));
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...TEST_BUILD_ENV,
      NODE_ENV: 'development',
      DATA_DIR: dataDir,
      PORT: String(port),
      LOG_LEVEL: 'warn',
    };
    for (const name of ['SESSION_SECRET', 'DATABASE_URL', 'REDIS_URL']) delete env[name];
    // Its own process group: npm does not pass SIGTERM on to the service, so the test signals the whole group.
    const child = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const page = await eventually(
        `the page on port ${port} (output so far: ${output})`,
        () => {
          if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}: ${output}`);
          return fetch(`http://127.0.0.1:${port}/`).then(
            (res) => (res.ok ? res : undefined),
            () => undefined,
          );
        },
        60_000,
      );
      expect(page.headers.get('content-type')).toContain('text/html');
      await page.text();
      const api = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ apiTokenPolicy { lifetime } }' }),
      });
      expect(((await api.json()) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code).toBe(
        'UNAUTHENTICATED',
      );
    } finally {
      // As a process manager stops it: SIGTERM to npm and the service; the service shuts down gracefully.
      // The group may be gone already (npm start failed): that failure, not ESRCH, is what to report.
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
    }
    expect([0, null]).toContain(await exited);
    // The service itself stopped, not only npm.
    await eventually('the service to stop listening', () =>
      fetch(`http://127.0.0.1:${port}/healthz`).then(
        () => undefined,
        () => true,
      ),
    );
    expect(output).not.toMatch(/Error:|ENOTDIR/);
  }, 90_000);
});
