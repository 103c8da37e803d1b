import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { APP_URL, generate, outboxRows, readyz, REGENERATE, REVOKE } from './mail-app.js';
import { eventually } from '../support/eventually.js';
import { secretLeaks, SmtpSink } from './smtp-sink.js';

const HOUR = 3_600_000;

interface LogLine {
  level: number;
  msg: string;
  outboxId?: number;
  attempt?: number;
  error?: string;
}

describe('email while the mail server is down or refusing', () => {
  const clock = new ManualClock('2026-02-01T12:00:00.000Z');
  const logs: LogLine[] = [];
  const rawLogs: string[] = [];
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    // Take a free port for the mail server, then leave nothing listening on it.
    sink = await SmtpSink.start();
    await sink.stop();
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          rawLogs.push(chunk.toString());
          logs.push(JSON.parse(chunk.toString()) as LogLine);
          done();
        },
      }),
    );
    t = await startTestApp(
      { SMTP_URL: sink.url, APP_URL, MAIL_POLL_INTERVAL: 'PT0.05S', MAIL_MAX_ATTEMPTS: '3' },
      { clock, logger, autoSweep: false },
    );
  });
  afterAll(async () => {
    await t?.stop();
    await sink?.stop();
  });

  it('keeps the API answering, keeps every message, and delivers each once when the server is back', async () => {
    const alice1 = await generate(t, 'alice@example.com');
    const alice2 = await generate(t, 'alice@example.com', REGENERATE);
    const bob = await generate(t, 'bob@example.com');
    const revoked = await t.gql(REVOKE, { auth: await t.session('bob@example.com') });
    expect(revoked.status).toBe(200);
    expect(revoked.body.errors).toBeUndefined();

    const failed = await eventually('a failed first attempt at all five messages', async () => {
      const rows = await outboxRows(t);
      return rows.length === 5 && rows.every((row) => row.attempts === 1 && row.lastError !== null) && rows;
    });
    expect(failed.every((row) => row.status === 'PENDING')).toBe(true);
    expect(failed[0]!.lastError).toMatch(/ECONNREFUSED/);
    expect((await readyz(t)).mail).toMatchObject({ pending: 5, failed: 0 });

    // The log names each failure by row and attempt, and carries no part of the message.
    const failures = logs.filter((line) => line.level === 40 && line.msg.startsWith('mail delivery failed'));
    expect(new Set(failures.map((line) => line.outboxId))).toEqual(new Set(failed.map((row) => row.id)));
    expect(failures.every((line) => line.attempt === 1 && line.error?.includes('ECONNREFUSED'))).toBe(true);
    const failureText = rawLogs.filter((line) => line.includes('mail delivery failed')).join('\n');
    for (const leak of [alice1.token.hint, alice2.token.hint, bob.token.hint, 'Your API token', APP_URL]) {
      expect(failureText).not.toContain(leak);
    }

    await sink.listen();
    clock.advance(HOUR);
    await eventually('an empty queue', async () => (await readyz(t)).mail.pending === 0);
    expect(sink.received).toHaveLength(5);
    expect(new Set(sink.received.map((m) => m.parsed.messageId)).size).toBe(5);
    expect(sink.to('alice@example.com')).toHaveLength(3);
    expect(sink.to('bob@example.com')).toHaveLength(2);
    const rows = await outboxRows(t);
    expect(rows.every((row) => row.status === 'SENT' && row.attempts === 2)).toBe(true);
    for (const mail of sink.received) {
      for (const { secret } of [alice1, alice2, bob]) expect(secretLeaks(mail, secret)).toEqual([]);
    }
  });

  it('retries a message the server refused with a 4xx, under the same Message-ID', async () => {
    sink.refuseData = '451 4.3.0 Temporarily unable to accept mail';
    const carol = await generate(t, 'carol@globex.example.com');
    const row = await eventually('the refused attempt', async () => {
      const found = (await outboxRows(t)).find((r) => r.recipient === 'carol@globex.example.com');
      return found?.attempts === 1 && found.lastError !== null && found;
    });
    expect(row.status).toBe('PENDING');
    expect(row.lastError).toContain('451');
    expect(row.lastError).not.toContain(carol.token.hint);
    expect(sink.refused).toHaveLength(1);

    sink.refuseData = null;
    clock.advance(HOUR);
    const [delivered] = await eventually(
      'the retried email',
      () => sink.to('carol@globex.example.com').length === 1 && sink.to('carol@globex.example.com'),
    );
    expect(delivered!.parsed.messageId).toBe(sink.refused[0]!.parsed.messageId);
    expect(delivered!.parsed.messageId).toContain(`outbox-${row.id}.`);
    expect(delivered!.parsed.date?.toISOString()).toBe(sink.refused[0]!.parsed.date?.toISOString());
  });

  it('gives up after MAIL_MAX_ATTEMPTS, marks the message FAILED and shows it on /readyz', async () => {
    sink.refuseData = '421 4.7.0 Try again later';
    await generate(t, 'support@example.com');
    const rowFor = async () => (await outboxRows(t)).find((r) => r.recipient === 'support@example.com');
    for (const attempt of [1, 2]) {
      await eventually(`the end of attempt ${attempt}`, async () => {
        const found = await rowFor();
        return found?.attempts === attempt && found.lockedUntil === null;
      });
      clock.advance(HOUR);
    }
    const row = await eventually('the FAILED row', async () => {
      const found = await rowFor();
      return found?.status === 'FAILED' && found;
    });
    expect(row.attempts).toBe(3);
    expect(row.lastError).toContain('421');
    expect((await readyz(t)).mail).toMatchObject({ pending: 0, failed: 1 });
    expect(logs.some((line) => line.level === 50 && line.outboxId === row.id && line.msg.includes('giving up'))).toBe(true);
    expect(sink.to('support@example.com')).toHaveLength(0);
    sink.refuseData = null;
  });
});
