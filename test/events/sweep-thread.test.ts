import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { createTestDatabase, withClient, type TestDatabase } from '../support/postgres.js';
import { startTestApp, TEST_METRICS_TOKEN, type TestApp } from '../support/test-app.js';
import { EVENT_FIELDS, latestEventId, subscribe } from '../support/ws-client.js';

const GENERATE = 'mutation { generateApiToken { secret token { id } } }';
const EVENTS = `subscription($after: ID) { apiTokenEvents(after: $after) { ${EVENT_FIELDS} } }`;

/** Every line the app logged, as pino wrote it. */
function capturingLogger(lines: Record<string, unknown>[]) {
  return pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
}

async function metric(t: TestApp, name: string): Promise<number | null> {
  const response = await fetch(new URL('/metrics', t.url), { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } });
  const line = (await response.text()).split('\n').find((each) => each.startsWith(`${name} `));
  return line === undefined ? null : Number(line.split(' ')[1]);
}

describe('the sweeper on its own thread (PostgreSQL)', () => {
  let db: TestDatabase;
  let t: TestApp | null = null;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await t?.stop();
    t = null;
  });
  afterAll(async () => {
    await db.drop();
  });

  it('expires a due token: refused, the subscriber hears EXPIRED, the email is queued, the metrics count it', async () => {
    const lines: Record<string, unknown>[] = [];
    t = await startTestApp({ DATABASE_URL: db.url, SWEEP_INTERVAL: 'PT0.2S' }, { logger: capturingLogger(lines) });
    const app = t;
    const alice = await app.session('alice@example.com');
    const generated = await app.gql<{ generateApiToken: { secret: string; token: { id: string } } }>(GENERATE, { auth: alice });
    const { secret, token } = generated.body.data?.generateApiToken ?? { secret: '', token: { id: '' } };
    expect((await app.gql('{ me { email } }', { auth: secret })).status).toBe(200);
    const events = subscribe<{ kind: string; tokenId: string | null; actor: string | null }>(app.url, alice, EVENTS, {
      after: await latestEventId(app.running.orm),
    });
    await events.connected;

    // Due a minute ago: as if 180 days had passed.
    await withClient(db.url, (client) =>
      client.query(`update api_tokens set expires_at = now() - interval '1 minute' where id = $1`, [token.id]),
    );

    const [expired] = await events.waitFor(1);
    expect(expired).toMatchObject({ kind: 'EXPIRED', tokenId: token.id, actor: 'system' });
    expect(await app.running.orm.em.fork().count(ApiToken, { id: token.id })).toBe(0);
    expect((await app.gql('{ me { email } }', { auth: secret })).status).toBe(401);
    const mail = await app.running.orm.em.fork().find(OutboxMessage, { kind: 'EXPIRED' });
    expect(mail.map((row) => row.recipient)).toEqual(['alice@example.com']);
    await expect.poll(() => metric(app, 'api_tokens_tokens_expired_total')).toBe(1);
    expect(await metric(app, 'api_tokens_sweeps_total{outcome="failed"}')).toBe(null);
    // The sweep ran on the thread, which logged through the app's logger; this thread's sweeper never ran.
    await expect.poll(() => lines.find((line) => line['msg'] === 'expiry sweep')).toMatchObject({ thread: 'sweep', expired: 1, warned: 0 });
    expect(app.running.sweeper.lastCompletedAt).toBe(null);
    await events.dispose();
  });

  it('stops with the app, promptly, and a restarted app sweeps again', async () => {
    t = await startTestApp({ DATABASE_URL: db.url, SWEEP_INTERVAL: 'PT0.2S' });
    await expect.poll(() => metric(t as TestApp, 'api_tokens_sweeps_total{outcome="ok"}')).toBeGreaterThan(0);
    const started = performance.now();
    await t.stop();
    t = null;
    // Not a speed target: a thread that ignored `stop` would be terminated only after 15 s (STOP_WAIT_MS).
    expect(performance.now() - started).toBeLessThan(10_000);

    t = await startTestApp({ DATABASE_URL: db.url, SWEEP_INTERVAL: 'PT0.2S' });
    await expect.poll(() => metric(t as TestApp, 'api_tokens_sweeps_total{outcome="ok"}')).toBeGreaterThan(0);
  });
});
