import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** A raw TCP connection to the app, with everything it receives and when it closed. */
async function rawConnection(t: TestApp): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const { hostname, port } = new URL(t.url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => text, closed };
}

describe('a request body trickling in', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ HTTP_REQUEST_TIMEOUT: 'PT1S' });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('is cut off with 408 once HTTP_REQUEST_TIMEOUT has passed, while other clients are served', async () => {
    const slow = await rawConnection(t);
    slow.socket.write('POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{');
    // One byte every 100 ms: never idle, never done.
    const trickle = setInterval(() => slow.socket.write(' '), 100);
    try {
      const health = await fetch(new URL('/healthz', t.url));
      expect(health.status).toBe(200);
      await slow.closed;
    } finally {
      clearInterval(trickle);
    }
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
  }, 20_000);
});

describe('connections per address', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ HTTP_MAX_CONNECTIONS_PER_ADDRESS: '3' });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('are capped: one over the cap gets 429 and is closed, and a freed slot is usable again', async () => {
    const held = await Promise.all([rawConnection(t), rawConnection(t), rawConnection(t)]);
    const refused = await rawConnection(t);
    await refused.closed;
    expect(refused.received()).toMatch(/^HTTP\/1\.1 429 /);
    expect(refused.received()).toContain('"code":"RATE_LIMITED"');

    const first = held[0];
    if (!first) throw new Error('no connection');
    first.socket.destroy();
    await first.closed;
    const again = await rawConnection(t);
    again.socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    await again.closed;
    expect(again.received()).toMatch(/^HTTP\/1\.1 200 /);
    for (const connection of held) connection.socket.destroy();
  });

  it('default to a cap when reached directly, and to none behind a trusted proxy (which must cap)', () => {
    const config = (env: Record<string, string>) => loadConfig({ SESSION_SECRET: 'x'.repeat(32), ...env }).connections;
    expect(config({})).toEqual({ requestTimeout: { iso: 'PT30S', ms: 30_000 }, maxPerAddress: 64 });
    expect(config({ TRUST_PROXY: 'loopback' }).maxPerAddress).toBe(0);
    expect(config({ TRUST_PROXY: 'loopback', HTTP_MAX_CONNECTIONS_PER_ADDRESS: '500' }).maxPerAddress).toBe(500);
    expect(() => config({ HTTP_REQUEST_TIMEOUT: 'PT0.5S' })).toThrow(/HTTP_REQUEST_TIMEOUT must be at least PT1S/);
    expect(() => config({ HTTP_MAX_CONNECTIONS_PER_ADDRESS: '-1' })).toThrow(
      /HTTP_MAX_CONNECTIONS_PER_ADDRESS must be between 0 and 1000000/,
    );
  });
});
