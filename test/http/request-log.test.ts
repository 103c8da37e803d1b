import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { prettyLogs } from '../../src/logger.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { eventually } from '../support/eventually.js';

describe('request logging', () => {
  const lines: Record<string, unknown>[] = [];
  let t: TestApp;
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    t = await startTestApp({}, { logger: pino({ level: 'info' }, sink) });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('writes one line per request with method, url, status, duration and GraphQL operation name, and no credential', async () => {
    const session = await t.session('alice@example.com');
    lines.length = 0;
    await t.gql('query MyToken { myApiToken { id } }', { auth: session });
    await fetch(new URL('/nowhere?x=1', t.url));
    // The line is written once the response is done, which may be just after the client has it.
    await eventually('both request lines', () => lines.length >= 2);
    expect(lines).toHaveLength(2);
    const [graphql, missing] = lines;
    expect(graphql).toMatchObject({
      msg: 'request completed',
      req: { method: 'POST', url: '/graphql' },
      res: { statusCode: 200 },
      operation: 'MyToken',
    });
    expect(typeof graphql?.['responseTime']).toBe('number');
    expect(missing).toMatchObject({ req: { method: 'GET', url: '/nowhere?x=1' }, res: { statusCode: 404 }, operation: 'not_found' });
    expect(JSON.stringify(lines)).not.toContain(session);
  });
});

describe('log format', () => {
  it('is pretty on a terminal outside production or when asked, JSON otherwise', () => {
    const config = (env: Record<string, string>) => loadConfig({ SESSION_SECRET: 'x'.repeat(32), ...env });
    expect(prettyLogs(config({ NODE_ENV: 'development' }), true)).toBe(true);
    expect(prettyLogs(config({ NODE_ENV: 'development' }), false)).toBe(false);
    expect(prettyLogs(config({ NODE_ENV: 'production' }), true)).toBe(false);
    expect(prettyLogs(config({ NODE_ENV: 'production', LOG_FORMAT: 'pretty' }), false)).toBe(true);
    expect(prettyLogs(config({ NODE_ENV: 'development', LOG_FORMAT: 'json' }), true)).toBe(false);
  });

  it('refuses a LOG_FORMAT or METRICS_TOKEN it cannot use, by name', () => {
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT must be json or pretty/);
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN must be at least 32 characters/);
    expect(loadConfig({ METRICS_TOKEN: 'a-metrics-token-that-is-long-enough' }).metricsToken).toBe('a-metrics-token-that-is-long-enough');
  });
});
