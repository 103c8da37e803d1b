import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { generate, outboxRows, REVOKE } from './mail-app.js';
import { eventually } from '../support/eventually.js';
import { secretLeaks, SmtpSink } from './smtp-sink.js';

describe('email across a restart', () => {
  let sink: SmtpSink;
  let dataDir: string;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    sink = await SmtpSink.start();
    dataDir = await mkdtemp(join(tmpdir(), 'api-tokens-mail-restart-'));
  });
  afterAll(async () => {
    for (const app of apps) await app.stop();
    await sink?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function start(clock?: ManualClock): Promise<TestApp> {
    const t = await startTestApp(
      { SMTP_URL: sink.url, MAIL_POLL_INTERVAL: 'PT0.1S' },
      { dataDir, autoSweep: false, ...(clock ? { clock } : {}) },
    );
    apps.push(t);
    return t;
  }

  it('delivers, after a restart, mail committed by a process that stopped before sending it', async () => {
    const first = await start();
    // The process "dies" right after its commits: nothing delivers what they queued.
    await first.running.mail.stop();
    const { secret } = await generate(first, 'alice@example.com');
    const revoked = await first.gql(REVOKE, { auth: await first.session('alice@example.com') });
    expect(revoked.body.errors).toBeUndefined();
    expect((await outboxRows(first)).map((row) => row.status)).toEqual(['PENDING', 'PENDING']);
    await first.stop();
    expect(sink.received).toHaveLength(0);

    const second = await start();
    await eventually('both emails', () => sink.to('alice@example.com').length === 2);
    expect(
      sink
        .to('alice@example.com')
        .map((m) => m.parsed.subject)
        .sort(),
    ).toEqual(['Your API token was created', 'Your API token was revoked']);
    await eventually('an empty queue', async () => (await outboxRows(second)).every((row) => row.status === 'SENT'));
    for (const mail of sink.received) expect(secretLeaks(mail, secret)).toEqual([]);
    await second.stop();
  });

  it('sends a message claimed by an instance that died mid-send once that claim runs out, with the same Message-ID', async () => {
    const clock = new ManualClock('2026-04-01T08:00:00.000Z');
    const first = await start(clock);
    await first.running.mail.stop();
    await generate(first, 'bob@example.com');
    // What a crash mid-send leaves behind: attempt counted, claim held well into the future.
    const em = first.running.orm.em.fork();
    const row = await em.findOneOrFail(OutboxMessage, { recipient: 'bob@example.com', status: 'PENDING' });
    await em.nativeUpdate(OutboxMessage, { id: row.id }, { attempts: 1, lockedUntil: new Date(clock.now().getTime() + 10 * 60_000) });
    await first.stop();

    const second = await start(clock);
    // Still claimed: the new instance passes over it. Carol's later row going out proves a pass ran.
    await generate(second, 'carol@globex.example.com');
    await eventually('a later email', () => sink.to('carol@globex.example.com').length === 1);
    expect(sink.to('bob@example.com')).toHaveLength(0);
    clock.advance(11 * 60_000);
    const [mail] = await eventually('the reclaimed email', () => sink.to('bob@example.com').length === 1 && sink.to('bob@example.com'));
    expect(mail!.parsed.messageId).toContain(`<outbox-${row.id}.${row.createdAt.getTime()}@`);
    const sent = await eventually('the row marked sent', async () => {
      const found = (await outboxRows(second)).find((r) => r.id === row.id);
      return found?.status === 'SENT' && found;
    });
    expect(sent.attempts).toBe(2);
    await second.stop();
  });
});
