import { createServer } from 'node:net';

/** Below Linux's ephemeral range (32768-60999): no bind(0) and no outgoing connection is given these. */
const FIRST_PORT = 20_000;
/** Each vitest worker probes its own block, so two test files never pick the same port. */
const BLOCK = 1_000;
const WORKERS = 10;

let offset = 0;

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port nothing listens on now, for a process a test starts with its own PORT.
 * Not a bind(0) port: that one is ephemeral, and between the probe's close and
 * the process's bind another file's `listen(0)` or any outgoing connection could
 * be given it (a local run, 2026-12-06: `npm start`'s port went to another file's listener,
 * which then held both tests for 30 s).
 */
export async function freePort(): Promise<number> {
  const worker = Number(process.env['VITEST_POOL_ID'] ?? '1');
  const first = FIRST_PORT + ((Math.max(worker, 1) - 1) % WORKERS) * BLOCK;
  for (let tried = 0; tried < BLOCK; tried++) {
    const port = first + (offset++ % BLOCK);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${first}-${first + BLOCK - 1}`);
}
