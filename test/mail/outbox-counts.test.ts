import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailPriority } from '../../src/mail/delivery-rules.js';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { outboxCounts } from '../../src/mail/outbox.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('the queue as /readyz reports it', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    // Nothing is sent: the rows stay as queued.
    await t.running.mail.stop();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('counts pending and failed rows, and finds the oldest pending one whichever priority it has', async () => {
    const em = t.running.orm.em.fork();
    expect(await outboxCounts(em)).toEqual({ pending: 0, failed: 0, oldestPendingAt: null });
    const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3_600_000);
    const row = (kind: string, createdAt: Date, status: 'PENDING' | 'FAILED' = 'PENDING') =>
      em.create(OutboxMessage, {
        createdAt,
        kind,
        priority: mailPriority(kind),
        status,
        recipient: 'queue@example.com',
        subject: kind,
        text: kind,
        html: kind,
        nextAttemptAt: createdAt,
      });
    // An expiry notice waiting two hours behind a revocation's confirmation of one hour ago.
    row('EXPIRED', at(3), 'FAILED');
    const oldest = row('EXPIRED', at(2));
    row('REVOKED', at(1));
    await em.flush();
    expect(await outboxCounts(t.running.orm.em.fork())).toEqual({ pending: 2, failed: 1, oldestPendingAt: oldest.createdAt.toISOString() });
  });
});
