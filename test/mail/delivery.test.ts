import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Changes } from '../../src/audit/changes.js';
import { SYSTEM_ACTOR } from '../../src/audit/actor.js';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { queueMailFor } from '../../src/mail/outbox.js';
import { mailPriority } from '../../src/mail/delivery-rules.js';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { User } from '../../src/users/user.entity.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { APP_URL, generate, MAIL_FROM, outboxRows, readyz, REGENERATE, REVOKE, toAddress } from './mail-app.js';
import { eventually } from '../support/eventually.js';
import { secretLeaks, SmtpSink } from './smtp-sink.js';

const utc = (iso: string) => `${iso.slice(0, 19).replace('T', ' ')} UTC`;

describe('email over SMTP', () => {
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    t = await startTestApp({
      SMTP_URL: sink.url,
      MAIL_FROM,
      APP_URL,
      REGION: 'eu-west',
      REGIONS: 'eu-west,us-east',
      MAIL_POLL_INTERVAL: 'PT0.2S',
    });
  });
  afterAll(async () => {
    await t?.stop();
    await sink?.stop();
  });

  it('tells the user their token was created: hint, times, region, a revoke link, and no secret', async () => {
    const { secret, token } = await generate(t, 'alice@example.com');
    const [mail] = await eventually('the created email', () => sink.to('alice@example.com').length === 1 && sink.to('alice@example.com'));
    const m = mail!.parsed;
    expect(m.subject).toBe('Your API token was created');
    expect(toAddress(m)).toBe('alice@example.com');
    expect(m.from?.value[0]).toMatchObject({ name: 'API Tokens', address: 'tokens@mail.example.com' });
    for (const body of [m.text ?? '', m.html || '']) {
      expect(body).toContain(token.hint);
      expect(body).toContain(utc(token.createdAt));
      expect(body).toContain(utc(token.expiresAt));
      expect(body).toContain('eu-west');
      expect(body).toContain(APP_URL);
    }
    expect(m.text).toContain("If this wasn't you, revoke it now");
    expect(m.messageId).toMatch(/^<outbox-\d+\.\d+@mail\.example\.com>$/);
    expect(m.headers.get('auto-submitted')).toBe('auto-generated');
    expect(secretLeaks(mail!, secret)).toEqual([]);
  });

  it('regenerating sends a revoked email for the old token and a created email for the new one, without either secret', async () => {
    const before = sink.to('bob@example.com').length;
    const first = await generate(t, 'bob@example.com');
    const second = await generate(t, 'bob@example.com', REGENERATE);
    const mails = await eventually('three emails to bob', () => {
      const all = sink.to('bob@example.com').slice(before);
      return all.length === 3 && all;
    });
    const subjects = mails.map((mail) => mail.parsed.subject);
    expect(subjects.sort()).toEqual(['Your API token was created', 'Your API token was created', 'Your API token was revoked']);
    const revoked = mails.find((mail) => mail.parsed.subject === 'Your API token was revoked')!;
    expect(revoked.parsed.text).toContain(first.token.hint);
    expect(revoked.parsed.text).toMatch(/Revoked by:\s+you \(signed in as bob@example\.com\)/);
    expect(revoked.parsed.text).toContain('This cannot be undone');
    expect(revoked.parsed.text).toContain('generate a new token');
    expect(mails.some((mail) => mail.parsed.text?.includes(second.token.hint) && mail.parsed.subject?.includes('created'))).toBe(true);
    for (const mail of mails) {
      expect(secretLeaks(mail, first.secret)).toEqual([]);
      expect(secretLeaks(mail, second.secret)).toEqual([]);
    }
    expect(new Set(mails.map((mail) => mail.parsed.messageId)).size).toBe(3);
  });

  it('queues what to send, not the rendered email: the worker renders it from the audit event when sending', async () => {
    const before = sink.to('support@example.com').length;
    const { token } = await generate(t, 'support@example.com');
    const em = t.running.orm.em.fork();
    const sam = await em.findOneOrFail(User, { email: 'support@example.com' });
    const [row] = await em.find(OutboxMessage, { recipient: sam.email, kind: 'GENERATED' }, { orderBy: { id: 'desc' }, limit: 1 });
    // A small row in the change's transaction: the event it reports and whom to greet, no text.
    expect(row).toMatchObject({ recipientName: sam.name, subject: null, text: null, html: null });
    const event = await em.findOneOrFail(AuditEvent, { id: row!.auditEvent!.id });
    expect(event).toMatchObject({ action: 'GENERATED', tokenId: token.id, subjectUserId: sam.id });
    const [mail] = await eventually('the created email to support', () => {
      const all = sink.to(sam.email).slice(before);
      return all.length === 1 && all;
    });
    expect(mail!.parsed.subject).toBe('Your API token was created');
    expect(mail!.parsed.text).toContain(`Hi ${sam.name},`);
    expect(mail!.parsed.text).toContain(token.hint);
    expect(mail!.parsed.html).toContain(token.hint);
  });

  it('says who revoked: the token itself, or the user signed in', async () => {
    const viaToken = await generate(t, 'carol@globex.example.com');
    expect((await t.gql(REVOKE, { auth: viaToken.secret })).body.errors).toBeUndefined();
    const viaSession = await generate(t, 'carol@globex.example.com');
    expect((await t.gql(REVOKE, { auth: await t.session('carol@globex.example.com') })).body.errors).toBeUndefined();

    const revoked = await eventually('two revoked emails to carol', () => {
      const all = sink.to('carol@globex.example.com').filter((m) => m.parsed.subject === 'Your API token was revoked');
      return all.length === 2 && all;
    });
    const byToken = revoked.find((m) => m.parsed.text?.includes(viaToken.token.hint));
    const bySession = revoked.find((m) => m.parsed.text?.includes(viaSession.token.hint));
    expect(byToken?.parsed.text).toMatch(/Revoked by:\s+a request made with the token itself/);
    expect(bySession?.parsed.text).toMatch(/Revoked by:\s+you \(signed in as carol@globex\.example\.com\)/);
    for (const mail of sink.to('carol@globex.example.com')) {
      expect(secretLeaks(mail, viaToken.secret)).toEqual([]);
      expect(secretLeaks(mail, viaSession.secret)).toEqual([]);
    }
  });

  it('queues nothing for a change that rolls back, and exactly one message for one that commits', async () => {
    const audit = new AuditLog('eu-west', [queueMailFor()]);
    const changes = new Changes(t.running.orm, audit, () => undefined);
    const admin = await t.running.orm.em.fork().findOneOrFail(User, { email: 'admin@example.com' });
    const record = {
      action: 'ACCESS_DISABLED' as const,
      actor: SYSTEM_ACTOR,
      occurredAt: new Date(),
      subject: { id: admin.id, organizationId: admin.organization.id },
    };
    const count = () => t.running.orm.em.fork().count(OutboxMessage, { recipient: 'admin@example.com' });

    await expect(
      changes.run(async (tx) => {
        await tx.record(record);
        throw new Error('the change failed after recording');
      }),
    ).rejects.toThrow('the change failed after recording');
    expect(await count()).toBe(0);

    await changes.run(async (tx) => tx.record(record));
    expect(await count()).toBe(1);
    const [mail] = await eventually(
      'the one committed email',
      () => sink.to('admin@example.com').length > 0 && sink.to('admin@example.com'),
    );
    expect(mail!.parsed.subject).toBe('API tokens were turned off for your account');
    expect(sink.to('admin@example.com')).toHaveLength(1);
  });

  it('reports the queue on /readyz, and nothing is left pending once mail went out', async () => {
    await eventually('an empty queue', async () => (await outboxRows(t)).every((row) => row.status === 'SENT'));
    const ready = await readyz(t);
    expect(ready.mail).toMatchObject({ transport: 'smtp', pending: 0, failed: 0 });
    const rows = await outboxRows(t);
    expect(rows.length).toBe(sink.received.length);
    expect(rows.every((row) => row.attempts === 1 && row.sentAt !== null && row.lockedUntil === null)).toBe(true);
    // Each reports a change someone made: none waits behind the sweep's emails.
    expect(rows.map((row) => row.priority)).toEqual(rows.map(() => 0));
  });

  it('fails a row whose audit event is gone at once, with the reason, instead of retrying it', async () => {
    const em = t.running.orm.em.fork();
    const now = new Date();
    const row = em.create(OutboxMessage, {
      createdAt: now,
      kind: 'REVOKED',
      recipient: 'ghost@example.com',
      recipientName: 'Ghost',
      nextAttemptAt: now,
      auditEvent: em.getReference(AuditEvent, 999_999_999),
    });
    await em.flush();
    t.running.mail.nudge();
    const failed = await eventually('the row to fail', async () => {
      const found = await t.running.orm.em.fork().findOneOrFail(OutboxMessage, { id: row.id });
      return found.status === 'FAILED' && found;
    });
    expect(failed).toMatchObject({
      attempts: 1,
      lockedUntil: null,
      sentAt: null,
      lastError: 'the audit event it reports is not in the database',
    });
    expect(sink.to('ghost@example.com')).toEqual([]);
    expect((await readyz(t)).mail.failed).toBe(1);
  });
});

describe('MAIL_MAX_RATE', () => {
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    t = await startTestApp({ SMTP_URL: sink.url, MAIL_FROM, APP_URL, MAIL_POLL_INTERVAL: 'PT0.1S', MAIL_MAX_RATE: '1' });
  });
  afterAll(async () => {
    await t?.stop();
    await sink?.stop();
  });

  /** `count` messages to `to` (of `kinds`, in one transaction), queued rendered (as earlier releases did), so no audit event is needed. */
  async function queue(
    to: string,
    count: number,
    kinds: readonly string[] = Array.from({ length: count }, () => 'GENERATED'),
  ): Promise<OutboxMessage[]> {
    const em = t.running.orm.em.fork();
    const now = new Date();
    const rows = kinds.map((kind, i) =>
      em.create(OutboxMessage, {
        createdAt: now,
        kind,
        priority: mailPriority(kind),
        recipient: to,
        subject: `Message ${i}`,
        text: `Message ${i}`,
        html: `<p>Message ${i}</p>`,
        nextAttemptAt: now,
      }),
    );
    await em.flush();
    return rows;
  }

  it('sends at most MAIL_MAX_RATE messages a second, and every one of them', async () => {
    await queue('paced@example.com', 3);
    const started = performance.now();
    t.running.mail.nudge();
    await eventually('three messages', () => sink.to('paced@example.com').length === 3);
    // At one a second, the third starts 2 s after the first at the earliest (unbounded, the three took about 0.5 s here).
    expect(performance.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(
      sink
        .to('paced@example.com')
        .map((mail) => mail.parsed.subject)
        .sort(),
    ).toEqual(['Message 0', 'Message 1', 'Message 2']);
  });

  it("sends the emails about a change someone made before the sweep's, however many of those wait", async () => {
    // One transaction, so no claim sees the expiry notices without the revocation after them.
    await queue('first@example.com', 4, ['EXPIRED', 'EXPIRY_WARNING', 'EXPIRED', 'REVOKED']);
    t.running.mail.nudge();
    const [first, second] = await eventually('two messages', () => {
      const received = sink.to('first@example.com');
      return received.length >= 2 && received;
    });
    expect(first?.parsed.subject).toBe('Message 3');
    expect(second?.parsed.subject).toBe('Message 0');
    await eventually('the other two', () => sink.to('first@example.com').length === 4);
  });

  it('stops while waiting for its next turn at once, and gives back the messages it had claimed but not sent', async () => {
    const rows = await queue('halted@example.com', 6);
    t.running.mail.nudge();
    await eventually('the first message', () => sink.to('halted@example.com').length >= 1);
    const stopping = performance.now();
    await t.running.mail.stop();
    // The next send was up to a second away.
    expect(performance.now() - stopping).toBeLessThan(700);
    const after = await t.running.orm.em.fork().find(OutboxMessage, { id: { $in: rows.map((row) => row.id) } });
    const sent = after.filter((row) => row.status === 'SENT');
    expect(sent.length).toBe(sink.to('halted@example.com').length);
    expect(sent.length).toBeLessThan(6);
    expect(after.filter((row) => row.status === 'PENDING').every((row) => row.attempts === 0 && row.lockedUntil === null)).toBe(true);
  });
});
