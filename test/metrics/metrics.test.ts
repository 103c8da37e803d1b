import { createServer } from 'node:net';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { redisHub } from '../../src/events/event-hub.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { generateToken } from '../admin/admin-helpers.js';
import { scimClient, scimToken } from '../scim/scim-client.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { EVENT_FIELDS, subscribe } from '../support/ws-client.js';
import { parsePrometheusText, valueOf, type Sample } from './prometheus-text.js';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';
const DAY = 24 * 60 * 60 * 1000;

async function scrape(
  t: TestApp,
  token: string | null = METRICS_TOKEN,
): Promise<{ status: number; type: string | null; samples: Sample[] }> {
  const response = await fetch(new URL('/metrics', t.url), token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    samples: response.status === 200 ? parsePrometheusText(text) : [],
  };
}

/** Scrapes until `check` holds (mail is delivered in the background), a bounded number of times. */
async function scrapeUntil(t: TestApp, check: (samples: Sample[]) => boolean): Promise<Sample[]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { samples } = await scrape(t);
    if (check(samples)) return samples;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return (await scrape(t)).samples;
}

/** A TCP port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

describe('GET /metrics', () => {
  let t: TestApp;
  const clock = new ManualClock(new Date());
  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN, TOKEN_LIFETIME: 'P10D', EXPIRY_WARNINGS: 'P1D' }, { clock, autoSweep: false });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('serves Prometheus text to a caller with METRICS_TOKEN, and refuses everyone else', async () => {
    const ok = await scrape(t);
    expect(ok.status).toBe(200);
    expect(ok.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(ok.samples.length).toBeGreaterThan(10);
    for (const token of [null, 'wrong-token-wrong-token', `${METRICS_TOKEN}x`]) {
      const refused = await fetch(new URL('/metrics', t.url), token ? { headers: { authorization: `Bearer ${token}` } } : {});
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await refused.text()).not.toContain('api_tokens_');
    }
  });

  it('counts requests by GraphQL operation name and outcome, with latency, and authentications by kind and result', async () => {
    const before = (await scrape(t)).samples;
    const session = await t.session('alice@example.com');
    await t.gql('query WhoAmI { me { email } }', { auth: session });
    await t.gql('{ me { email } }', { auth: 'own_not-a-real-token' });
    await t.gql('{ me { email } }', { auth: 'not.a.jwt' });
    const after = (await scrape(t)).samples;
    const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('api_tokens_http_requests_total', { operation: 'WhoAmI', outcome: 'ok' })).toBe(1);
    expect(delta('api_tokens_http_request_duration_seconds_count', { operation: 'WhoAmI', outcome: 'ok' })).toBe(1);
    expect(delta('api_tokens_http_requests_total', { operation: 'graphql', outcome: 'client_error' })).toBe(2);
    expect(delta('api_tokens_authentications_total', { kind: 'session', result: 'ok' })).toBe(1);
    expect(delta('api_tokens_authentications_total', { kind: 'api_token', result: 'malformed' })).toBe(1);
    expect(delta('api_tokens_authentications_total', { kind: 'session', result: 'malformed' })).toBe(1);
  });

  it('labels only the operations of callers whose credential verified: made-up anonymous names cannot crowd out real ones', async () => {
    const before = (await scrape(t)).samples;
    for (let i = 0; i < 120; i++) await t.gql(`query Made${i} { __typename }`);
    await t.gql('query Forged { me { email } }', { auth: 'own_not-a-real-token' });
    const session = await t.session('bob@example.com');
    await t.gql('query RealAfterFlood { me { email } }', { auth: session });
    const after = (await scrape(t)).samples;
    const delta = (labels: Record<string, string>) =>
      valueOf(after, 'api_tokens_http_requests_total', labels) - valueOf(before, 'api_tokens_http_requests_total', labels);
    expect(delta({ operation: 'RealAfterFlood', outcome: 'ok' })).toBe(1);
    expect(delta({ operation: 'graphql', outcome: 'ok' })).toBe(120);
    expect(delta({ operation: 'other', outcome: 'ok' })).toBe(0);
    expect(after.some((sample) => /Made\d|Forged/.test(JSON.stringify(sample)))).toBe(false);
  });

  it('shows open sockets and live subscriptions, and counts published events', async () => {
    const before = (await scrape(t)).samples;
    const session = await t.session('bob@example.com');
    const socket = subscribe(t.url, session, `subscription { apiTokenEvents { ${EVENT_FIELDS} } }`);
    await socket.connected;
    const open = await scrapeUntil(t, (samples) => valueOf(samples, 'api_tokens_live_subscriptions') >= 1);
    expect(valueOf(open, 'api_tokens_websocket_sockets')).toBe(1);
    expect(valueOf(open, 'api_tokens_live_subscriptions')).toBe(1);

    await generateToken(t, 'bob@example.com');
    await socket.waitFor(1);
    const published = (await scrape(t)).samples;
    expect(
      valueOf(published, 'api_tokens_events_published_total', { kind: 'GENERATED' }) -
        valueOf(before, 'api_tokens_events_published_total', { kind: 'GENERATED' }),
    ).toBe(1);

    await socket.dispose();
    const closed = await scrapeUntil(t, (samples) => valueOf(samples, 'api_tokens_websocket_sockets') === 0);
    expect(valueOf(closed, 'api_tokens_websocket_sockets')).toBe(0);
    expect(valueOf(closed, 'api_tokens_live_subscriptions')).toBe(0);
  });

  it('counts the credential checks of sockets as it counts HTTP ones', async () => {
    const before = (await scrape(t)).samples;
    const good = subscribe(t.url, await t.session('carol@globex.example.com'), `subscription { apiTokenEvents { ${EVENT_FIELDS} } }`);
    await good.connected;
    const mistyped = subscribe(t.url, 'own_not-a-real-token', `subscription { apiTokenEvents { ${EVENT_FIELDS} } }`);
    expect(await mistyped.closed).toBe(4403);
    const after = (await scrape(t)).samples;
    const delta = (labels: Record<string, string>) =>
      valueOf(after, 'api_tokens_authentications_total', labels) - valueOf(before, 'api_tokens_authentications_total', labels);
    expect(delta({ kind: 'session', result: 'ok' })).toBe(1);
    expect(delta({ kind: 'api_token', result: 'malformed' })).toBe(1);
    await good.dispose();
    await mistyped.dispose();
  });

  it('counts sweeps, warnings and expiries, and how long ago the last sweep completed', async () => {
    await generateToken(t, 'admin@example.com');
    const before = (await scrape(t)).samples;
    clock.advance(9 * DAY + 60_000);
    expect((await t.running.sweeper.sweep()).warned).toBeGreaterThanOrEqual(1);
    clock.advance(DAY);
    expect((await t.running.sweeper.sweep()).expired).toBeGreaterThanOrEqual(1);
    clock.advance(90_000);
    const after = (await scrape(t)).samples;
    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('api_tokens_sweeps_total', { outcome: 'ok' })).toBe(2);
    expect(delta('api_tokens_expiry_warnings_total')).toBeGreaterThanOrEqual(1);
    expect(delta('api_tokens_tokens_expired_total')).toBeGreaterThanOrEqual(1);
    expect(valueOf(after, 'api_tokens_sweep_lag_seconds')).toBe(90);
  });

  it('counts deliveries and SCIM operations', async () => {
    const sent = await scrapeUntil(t, (samples) => valueOf(samples, 'api_tokens_mail_deliveries_total', { outcome: 'sent' }) > 0);
    expect(valueOf(sent, 'api_tokens_mail_deliveries_total', { outcome: 'sent' })).toBeGreaterThan(0);

    const directory = scimClient(t, await scimToken(t, 'Acme'));
    expect((await directory('GET', '/Users?count=1')).status).toBe(200);
    expect((await directory('GET', '/Users/nope')).status).toBe(404);
    const after = (await scrape(t)).samples;
    expect(valueOf(after, 'api_tokens_scim_operations_total', { resource: 'Users', method: 'GET', status: '200' })).toBe(1);
    expect(valueOf(after, 'api_tokens_scim_operations_total', { resource: 'Users', method: 'GET', status: '404' })).toBe(1);
    // Made-up paths count as one `unknown` resource, whoever sends them.
    await directory('GET', '/Made-up-1');
    await scimClient(t, null)('GET', '/Made-up-2');
    const unknown = (await scrape(t)).samples;
    expect(valueOf(unknown, 'api_tokens_scim_operations_total', { resource: 'unknown' })).toBe(2);
    expect(unknown.some((sample) => sample.labels['resource']?.startsWith('Made'))).toBe(false);
  });
});

describe('/metrics with mail failing', () => {
  let t: TestApp;
  const clock = new ManualClock(new Date());
  afterEach(async () => {
    await t.stop();
  });

  it('shows the outbox backlog, the age of its oldest message and failed deliveries', async () => {
    t = await startTestApp({ METRICS_TOKEN, SMTP_URL: `smtp://127.0.0.1:${await closedPort()}` }, { clock, autoSweep: false });
    await generateToken(t, 'alice@example.com');
    const failing = await scrapeUntil(t, (samples) => valueOf(samples, 'api_tokens_mail_deliveries_total', { outcome: 'retry' }) > 0);
    expect(valueOf(failing, 'api_tokens_mail_deliveries_total', { outcome: 'retry' })).toBeGreaterThan(0);
    expect(valueOf(failing, 'api_tokens_outbox_pending')).toBeGreaterThanOrEqual(1);
    clock.advance(20 * 60_000);
    const later = (await scrape(t)).samples;
    // The alert in the README: oldest pending message over 15 minutes.
    expect(valueOf(later, 'api_tokens_outbox_oldest_pending_age_seconds')).toBeGreaterThan(15 * 60);
  });

  it('is not served at all without METRICS_TOKEN', async () => {
    t = await startTestApp({ METRICS_TOKEN: '' });
    expect((await scrape(t)).status).toBe(404);
  });
});

describe('event publish failures', () => {
  it('are counted when Redis does not take a publish', async () => {
    const metrics = createMetrics();
    const hub = redisHub(`redis://127.0.0.1:${await closedPort()}`, pino({ level: 'silent' }), {
      keyPrefix: 'api-tokens-test:metrics:',
      publishWaitMs: 250,
      onPublishFailure: () => metrics.eventPublishFailures.inc(),
    });
    try {
      void hub.publish([{ id: '1', kind: 'USER_DEACTIVATED', userId: '00000000-0000-4000-8000-000000000000' }]);
      let failures = 0;
      for (let attempt = 0; attempt < 100 && failures === 0; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        failures = valueOf(parsePrometheusText(await metrics.registry.metrics()), 'api_tokens_event_publish_failures_total');
      }
      expect(failures).toBe(1);
    } finally {
      await hub.close();
    }
  });
});
