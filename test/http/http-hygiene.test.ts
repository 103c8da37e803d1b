import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TEST_METRICS_TOKEN, type TestApp } from '../support/test-app.js';
import { REDIS_URL, uniquePrefix } from '../limits/rate-limit-helpers.js';

const ALLOWED = 'https://app.example.com';

function preflight(t: TestApp, origin: string): Promise<Response> {
  return fetch(t.url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });
}

describe('HTTP hygiene', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ CORS_ORIGINS: `${ALLOWED}, https://admin.example.com` });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('sends HSTS, nosniff and a same-origin CSP that lets GraphiQL reach the WebSocket', async () => {
    for (const path of ['/graphql', '/healthz', '/no-such-page']) {
      const response = await fetch(new URL(path, t.url));
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d{7,}; includeSubDomains/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      // data: images for the explorer's editor only (test/http/csp.test.ts).
      expect(csp).toContain(path === '/graphql' ? "img-src 'self' data:" : "img-src 'self';");
      expect(csp).toContain("frame-ancestors 'none'");
      const host = new URL(t.url).host;
      expect(csp).toContain(`connect-src 'self' ws://${host} wss://${host}`);
    }
  });

  it('marks every GraphQL answer, its own and refusals, as not to be stored by any cache', async () => {
    const session = await t.session('alice@example.com');
    const answers = [
      await t.gql('{ me { email } }', { auth: session }),
      await t.gql('{ __typename }'),
      await t.gql('{ me { email } }', { auth: 'own_not-a-real-token' }),
      await t.gql('{ nosuchfield }', { auth: session }),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 401, 400]);
    for (const answer of answers) expect(answer.headers.get('cache-control')).toBe('no-store');
  });

  it('does not echo a forged Host header into the CSP', async () => {
    const { request } = await import('node:http');
    const csp = await new Promise<string>((resolve, reject) => {
      const url = new URL('/healthz', t.url);
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, headers: { host: "evil; script-src 'unsafe-inline'" } },
        (res) => {
          res.resume();
          resolve(String(res.headers['content-security-policy'] ?? ''));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(csp).not.toContain("unsafe-inline'; ");
    expect(csp).not.toContain('evil');
  });

  it('answers a preflight from a listed origin, and refuses any other', async () => {
    const allowed = await preflight(t, ALLOWED);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();

    const refused = await preflight(t, 'https://evil.example.com');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();

    const post = await fetch(t.url, {
      method: 'POST',
      headers: { origin: ALLOWED, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(post.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });

  it('/readyz tells an anonymous caller only its status, and a METRICS_TOKEN holder the details', async () => {
    const anonymous = await fetch(new URL('/readyz', t.url));
    expect(anonymous.status).toBe(200);
    expect(await anonymous.json()).toEqual({ status: 'ready' });

    // A wrong token is a 401 (counted as a failed credential), and learns nothing either.
    const wrong = await fetch(new URL('/readyz', t.url), { headers: { authorization: 'Bearer not-the-metrics-token' } });
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(await wrong.json())).not.toMatch(/database|mail|checks/);

    const operator = await fetch(new URL('/readyz', t.url), { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } });
    expect(await operator.json()).toMatchObject({
      status: 'ready',
      checks: { database: 'ok' },
      mail: { transport: 'file', pending: expect.any(Number) },
    });
  });
});

describe('CORS by default', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('allows no other origin', async () => {
    const response = await preflight(t, ALLOWED);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('/readyz with Redis, and with the database down', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix() });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('checks Redis with a PING', async () => {
    const operator = await fetch(new URL('/readyz', t.url), { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } });
    expect(operator.status).toBe(200);
    expect(await operator.json()).toMatchObject({ checks: { database: 'ok', redis: 'ok' } });
  });

  it('answers 503 with nothing but the status when the database is gone', async () => {
    // Closing alone is not "gone": the instance's own background work (outbox,
    // sweeper) reconnects lazily, and a check that ran after it saw a live
    // database (CI, 2026-12-06). Pointing the ORM at a file that cannot be
    // opened first makes every reconnection fail, as a lost volume would.
    t.running.orm.config.set('dbName', join(tmpdir(), `no-such-dir-${process.pid}`, 'gone.db'));
    await t.running.orm.close(true);
    const anonymous = await fetch(new URL('/readyz', t.url));
    expect(anonymous.status).toBe(503);
    const text = await anonymous.text();
    expect(JSON.parse(text)).toEqual({ status: 'unavailable' });
    expect(text).not.toContain('sqlite');

    const operator = await fetch(new URL('/readyz', t.url), { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } });
    expect(operator.status).toBe(503);
    expect(await operator.json()).toMatchObject({ status: 'unavailable', checks: { database: 'failed', redis: 'ok' } });
  });
});
