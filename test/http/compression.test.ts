import { request } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { TEST_WEB_DIR } from '../support/test-build.js';

interface Raw {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The bytes as they came over the wire, not decoded. */
  readonly body: Buffer;
}

/** A GET with exactly these headers (fetch would add its own Accept-Encoding and decode the body). */
function get(url: string, headers: Record<string, string>): Promise<Raw> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

describe('static files are sent compressed', () => {
  let t: TestApp;
  let origin = '';
  beforeAll(async () => {
    t = await startTestApp();
    origin = new URL(t.url).origin;
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('sends the page and its script brotli- or gzip-compressed as the browser accepts, with Vary', async () => {
    const html = await readFile(join(TEST_WEB_DIR, 'index.html'));
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html.toString())?.[1] ?? '';
    expect(script).not.toBe('');
    const scriptBytes = await readFile(join(TEST_WEB_DIR, script));

    for (const [path, original] of [
      ['/', html],
      [script, scriptBytes],
    ] as const) {
      const br = await get(`${origin}${path}`, { 'accept-encoding': 'gzip, deflate, br' });
      expect(br.status).toBe(200);
      expect(br.headers['content-encoding'], path).toBe('br');
      expect(String(br.headers['vary']).toLowerCase()).toContain('accept-encoding');
      expect(br.body.length).toBeLessThan(original.length);
      expect(brotliDecompressSync(br.body).equals(original)).toBe(true);
      // The page is revalidated whatever its encoding; only hashed assets are immutable.
      expect(br.headers['cache-control'], path).toBe(path === '/' ? 'no-cache' : 'public, max-age=31536000, immutable');

      const gz = await get(`${origin}${path}`, { 'accept-encoding': 'gzip' });
      expect(gz.headers['content-encoding'], path).toBe('gzip');
      expect(gunzipSync(gz.body).equals(original)).toBe(true);

      const plain = await get(`${origin}${path}`, {});
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body.equals(original)).toBe(true);
    }
  });

  it('compresses the page as this posture rewrote it: with development sign-in on, the decoded page says so', async () => {
    const dev = await startTestApp({ SESSION_SECRET: '' });
    try {
      const devOrigin = new URL(dev.url).origin;
      const plain = await get(`${devOrigin}/`, {});
      expect(plain.body.toString()).toContain('<meta name="api-token-dev-sign-in" content="on" />');
      for (const path of ['/', '/index.html']) {
        const br = await get(`${devOrigin}${path}`, { 'accept-encoding': 'br' });
        expect(br.headers['content-encoding'], path).toBe('br');
        expect(brotliDecompressSync(br.body).equals(plain.body), path).toBe(true);
        const gz = await get(`${devOrigin}${path}`, { 'accept-encoding': 'gzip, br;q=0' });
        expect(gz.headers['content-encoding'], path).toBe('gzip');
        expect(gunzipSync(gz.body).equals(plain.body), path).toBe(true);
        expect(gz.headers['cache-control'], path).toBe('no-cache');
        expect(String(gz.headers['vary']).toLowerCase()).toContain('accept-encoding');
      }
    } finally {
      await dev.stop();
    }
  });

  it("sends the explorer's 9 MB of script compressed, and as it is to a client that accepts no encoding", async () => {
    const plain = await get(`${origin}/explorer/graphiql.js`, {});
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(String(plain.headers['vary']).toLowerCase()).toContain('accept-encoding');

    const gz = await get(`${origin}/explorer/graphiql.js`, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.body.length).toBeLessThan(plain.body.length / 3);
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);

    const br = await get(`${origin}/explorer/graphiql.js`, { 'accept-encoding': 'br;q=1, gzip;q=0.5' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);

    const refused = await get(`${origin}/explorer/graphiql.js`, { 'accept-encoding': 'br;q=0, gzip;q=0' });
    expect(refused.headers['content-encoding']).toBeUndefined();
  }, 60_000);
});
