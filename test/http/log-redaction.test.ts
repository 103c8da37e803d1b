import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggableUrl } from '../../src/http/url-secrets.js';
import { createLogger } from '../../src/logger.js';
import { createScimSecret } from '../../src/scim/scim-token-format.js';
import { createTokenSecret } from '../../src/tokens/token-format.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { eventually } from '../support/eventually.js';

/** The service's own logger (src/logger.ts), writing its JSON lines here. */
function capturedLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(line);
      done();
    },
  });
  return { lines, logger: createLogger('debug', { destination: sink }) };
}

const apiToken = createTokenSecret().secret;
const scimToken = createScimSecret().secret;
const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

describe('token-shaped strings in logs', () => {
  it('are redacted wherever they appear in a line: message, any field, nested, inside other text', () => {
    const { lines, logger } = capturedLogger();
    logger.info(`user pasted ${apiToken} here`);
    logger.warn({ detail: { note: `scim was ${scimToken}` }, list: [`Bearer ${jwt}`] }, 'odd request');
    logger.error({ err: new Error(`could not parse ${apiToken}`) }, 'failed');
    expect(lines).toHaveLength(3);
    for (const secret of [apiToken, scimToken, jwt, apiToken.slice(4, 30), scimToken.slice(5, 30)]) {
      expect(lines.filter((line) => line.includes(secret))).toEqual([]);
    }
    expect(lines[0]).toContain('user pasted [redacted] here');
    expect(lines[1]).toContain('scim was [redacted]');
    // Lines without a secret are written as they were.
    logger.info({ tokenId: 'c0ffee', hint: 'own_…abcd' }, 'token revoked');
    expect(JSON.parse(lines[3] ?? '{}')).toMatchObject({ tokenId: 'c0ffee', hint: 'own_…abcd', msg: 'token revoked' });
  });

  it('are taken out of a logged URL path and query, raw or percent-encoded', () => {
    expect(loggableUrl(`/anything/${apiToken}`)).toBe('/anything/[redacted]');
    expect(loggableUrl(`/x/${scimToken}/y?q=${jwt}`)).toBe('/x/[redacted]/y?q=[redacted]');
    expect(loggableUrl(`/a/own%5F${apiToken.slice(4)}`)).toBe('/a/[redacted]');
    expect(loggableUrl('/healthz?x=1')).toBe('/healthz?x=1');
  });
});

describe('the request log', () => {
  let t: TestApp;
  const captured = capturedLogger();
  beforeAll(async () => {
    t = await startTestApp({ LOG_LEVEL: 'info' }, { logger: captured.logger });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('does not write a token pasted into a URL path', async () => {
    captured.lines.length = 0;
    await fetch(new URL(`/anything/${apiToken}`, t.url));
    await fetch(new URL(`/scim/v2/Users/${scimToken}`, t.url));
    await eventually('both request lines', () => captured.lines.length >= 2);
    expect(captured.lines.length).toBeGreaterThanOrEqual(2);
    expect(captured.lines.some((line) => line.includes('"url":"/anything/[redacted]"'))).toBe(true);
    for (const secret of [apiToken, scimToken]) expect(captured.lines.filter((line) => line.includes(secret))).toEqual([]);
  });
});
