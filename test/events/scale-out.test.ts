import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { ManualClock } from '../../src/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { EVENT_FIELDS, latestEventId, subscribe } from '../support/ws-client.js';

const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const EVENTS = `subscription($after: ID) { apiTokenEvents(after: $after) { ${EVENT_FIELDS} } }`;
const DAY = 86_400_000;

/** Two instances in two regions sharing one PostgreSQL database and one Redis. */
describe('scale-out: PostgreSQL + Redis, two regions', () => {
  let db: TestDatabase;
  let eu: TestApp;
  let us: TestApp;
  const clock = new ManualClock('2026-03-01T00:00:00.000Z');

  beforeAll(async () => {
    db = await createTestDatabase();
    const shared = { DATABASE_URL: db.url, REDIS_URL, REGIONS: 'eu-west,us-east' };
    eu = await startTestApp({ ...shared, REGION: 'eu-west' }, { clock, autoSweep: false });
    us = await startTestApp({ ...shared, REGION: 'us-east' }, { clock, autoSweep: false });
  });
  afterAll(async () => {
    await eu?.stop();
    await us?.stop();
    await db?.drop();
  });

  it('a token made in one region works in the other, and revoking it anywhere ends it everywhere', async () => {
    const session = await eu.session('carol@globex.example.com');
    const generated = await eu.gql<{ generateApiToken: { secret: string; token: { id: string } } }>(
      'mutation { generateApiToken { secret token { id } } }',
      { auth: session },
    );
    const secret = generated.body.data?.generateApiToken.secret ?? '';
    const mine = await us.gql<{ myApiToken: { lastUsedRegion: string } }>('{ myApiToken { lastUsedRegion } }', {
      auth: secret,
    });
    expect(mine.body.data?.myApiToken.lastUsedRegion).toBe('us-east');

    const after = await latestEventId(eu.running.orm);
    const socketInEu = subscribe<{ kind: string }>(eu.url, secret, EVENTS, { after });
    const sessionInEu = subscribe<{ kind: string }>(eu.url, session, EVENTS, { after });
    await Promise.all([socketInEu.connected, sessionInEu.connected]);
    const revoked = await us.gql('mutation { revokeApiToken { tokenId } }', { auth: session });
    expect(revoked.body.errors).toBeUndefined();

    expect(await socketInEu.closed).toBe(4403);
    expect(socketInEu.items.map((e) => e.kind)).toEqual(['REVOKED']);
    expect((await sessionInEu.waitFor(1)).map((e) => e.kind)).toEqual(['REVOKED']);
    await sessionInEu.dispose();
    expect((await eu.gql('{ me { email } }', { auth: secret })).status).toBe(401);
  });

  it('two sweepers racing send each warning and each expiry once', async () => {
    const emails = ['alice@example.com', 'bob@example.com', 'admin@example.com', 'admin@globex.example.com'];
    for (const email of emails) {
      const res = await eu.gql('mutation { generateApiToken { token { id } } }', { auth: await eu.session(email) });
      expect(res.body.errors).toBeUndefined();
    }
    clock.advance(173 * DAY + 1_000); // inside P7D
    const warned = await Promise.all([eu.running.sweeper.sweep(), us.running.sweeper.sweep()]);
    expect(warned[0].warned + warned[1].warned).toBe(emails.length);
    clock.advance(7 * DAY);
    const expired = await Promise.all([eu.running.sweeper.sweep(), us.running.sweeper.sweep()]);
    expect(expired[0].expired + expired[1].expired).toBe(emails.length);

    const em = eu.running.orm.em.fork();
    expect(await em.count(AuditEvent, { action: 'EXPIRY_WARNING' })).toBe(emails.length);
    expect(await em.count(AuditEvent, { action: 'EXPIRED' })).toBe(emails.length);
  });
});
