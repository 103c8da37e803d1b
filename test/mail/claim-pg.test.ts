import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { generate, outboxRows } from './mail-app.js';
import { eventually } from '../support/eventually.js';
import { SmtpSink } from './smtp-sink.js';

/** Enough rows that both instances' passes overlap; each send is a new SMTP connection. */
const ROWS = 30;

describe('email from several instances sharing PostgreSQL', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    sink = await SmtpSink.start();
    const env = { DATABASE_URL: db.url, SMTP_URL: sink.url, MAIL_POLL_INTERVAL: 'PT0.05S' };
    // One after the other: the first migrates and seeds.
    apps.push(await startTestApp(env, { autoSweep: false }));
    apps.push(await startTestApp(env, { autoSweep: false }));
  });
  afterAll(async () => {
    for (const app of apps) await app.stop();
    await sink?.stop();
    await db?.drop();
  });

  it('never sends one outbox row twice, however the instances race for it', async () => {
    const [a, b] = apps as [TestApp, TestApp];
    const em = a.running.orm.em.fork();
    const now = new Date();
    for (let i = 0; i < ROWS; i++) {
      em.create(OutboxMessage, {
        createdAt: now,
        kind: 'GENERATED',
        recipient: `user${i}@example.com`,
        subject: `message ${i}`,
        text: `message ${i}`,
        html: `<p>message ${i}</p>`,
        nextAttemptAt: now,
      });
    }
    await em.flush();
    a.running.mail.nudge();
    b.running.mail.nudge();

    await eventually('an empty queue', async () => (await outboxRows(a)).every((row) => row.status === 'SENT'), 15_000);
    expect(sink.received).toHaveLength(ROWS);
    expect(new Set(sink.received.map((m) => m.parsed.messageId)).size).toBe(ROWS);
    expect((await outboxRows(a)).every((row) => row.attempts === 1)).toBe(true);
  });

  it('delivers mail queued by a change on either instance', async () => {
    const before = sink.received.length;
    await generate(apps[0]!, 'alice@example.com');
    await generate(apps[1]!, 'bob@example.com');
    await eventually('both emails', () => sink.received.length === before + 2);
    expect(sink.to('alice@example.com')).toHaveLength(1);
    expect(sink.to('bob@example.com')).toHaveLength(1);
  });
});
