import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtServer } from '../support/built-server.js';

/** A newcomer's second `npm start` while the first still runs. */
describe('a port already in use', () => {
  let blocker: Server;
  let port = 0;
  let dataDir = '';
  beforeAll(async () => {
    // It answers nothing and drops whoever connects, so closing it never waits on a client.
    blocker = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    port = typeof address === 'object' && address ? address.port : 0;
    dataDir = await mkdtemp(join(tmpdir(), 'api-tokens-port-'));
  });
  afterAll(async () => {
    await new Promise((resolve) => blocker.close(resolve));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('says "port N is in use; set PORT" once, with no stack trace, and exits non-zero', async () => {
    const child = spawn(process.execPath, [builtServer().main], {
      env: {
        PATH: process.env['PATH'] ?? '',
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: dataDir,
        LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(output.split(`port ${port} is in use; set PORT`).length - 1).toBe(1);
    expect(output).not.toMatch(/websocket server error|EADDRINUSE|\n\s+at /);
  }, 30_000);
});
