import { createHash } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Changes } from '../../src/audit/changes.js';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { ManualClock } from '../../src/clock.js';
import { locksRows } from '../../src/db/orm.js';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { queueMailFor } from '../../src/mail/outbox.js';
import { Sweeper } from '../../src/expiry/sweeper.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { Organization } from '../../src/users/organization.entity.js';
import { Role } from '../../src/auth/role.js';
import { User } from '../../src/users/user.entity.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { queuedContent } from '../mail/mail-app.js';

const DAY = 86_400_000;

/**
 * A backlog many batches long: each batch starts where the one before ended
 * (along `(expires_at, id)`), so nothing is skipped, nothing is done twice,
 * and tokens sharing one `expires_at` across a batch boundary are all handled.
 */
describe.each(['sqlite', 'postgresql'] as const)('a sweep in small batches (%s)', (kind) => {
  const clock = new ManualClock('2026-06-01T00:00:00.000Z');
  let db: TestDatabase | null = null;
  let t: TestApp;

  beforeAll(async () => {
    db = kind === 'postgresql' ? await createTestDatabase() : null;
    t = await startTestApp(
      { TOKEN_LIFETIME: 'P90D', EXPIRY_WARNINGS: 'P7D', ...(db ? { DATABASE_URL: db.url } : {}) },
      { clock, autoSweep: false },
    );
  });
  afterAll(async () => {
    await t?.stop();
    await db?.drop();
  });

  it('expires every token past its time and warns every token within the threshold, once each', async () => {
    const em = t.running.orm.em.fork();
    const organization = await em.findOneOrFail(Organization, { name: 'Acme' });
    const now = clock.now();
    // 11 expired (groups of equal expiry straddle the batches of 3), 8 due a warning, 4 not yet.
    const offsets = [
      ...Array.from({ length: 11 }, (_, i) => -DAY * (1 + Math.floor(i / 4))),
      ...Array.from({ length: 8 }, (_, i) => DAY * (1 + Math.floor(i / 3))),
      20 * DAY,
      21 * DAY,
      30 * DAY,
      40 * DAY,
    ];
    offsets.forEach((offset, i) => {
      const user = em.create(User, { organization, email: `batch${i}@example.com`, name: `Batch ${i}`, role: Role.USER, createdAt: now });
      const expiresAt = new Date(now.getTime() + offset);
      em.create(ApiToken, {
        user,
        digest: createHash('sha256').update(`batch ${i}`).digest('hex'),
        hint: `b${i}`,
        createdAt: new Date(expiresAt.getTime() - 90 * DAY),
        expiresAt,
        createdRegion: 'eu-west',
        warnedThresholdMs: 90 * DAY,
      });
    });
    await em.flush();

    const published: AuditEvent[] = [];
    // Each batch's emails in inserts of 2: a batch of 3 takes two, the second a part.
    const audit = new AuditLog('eu-west', [queueMailFor({ queuePart: 2 })]);
    const changes = new Changes(t.running.orm, audit, (events) => void published.push(...events));
    const sweeper = new Sweeper({
      changes,
      tokens: t.running.services.tokens,
      clock,
      config: t.config,
      logger: pino({ level: 'silent' }),
      batchSize: 3,
      lockRows: locksRows(t.config.databaseUrl),
    });
    expect(await sweeper.sweep()).toEqual({ warned: 8, expired: 11 });
    expect(await sweeper.sweep()).toEqual({ warned: 0, expired: 0 });

    const after = t.running.orm.em.fork();
    expect(await after.count(ApiToken, { user: { email: { $like: 'batch%' } } })).toBe(12);
    const warned = await after.find(AuditEvent, { action: 'EXPIRY_WARNING' });
    const expired = await after.find(AuditEvent, { action: 'EXPIRED' });
    expect(new Set(warned.map((event) => event.tokenId)).size).toBe(8);
    expect(new Set(expired.map((event) => event.tokenId)).size).toBe(11);
    // Each batch is written past the unit of work: what was published is what was stored, ids included.
    expect(published.map((event) => [event.id, event.action, event.tokenId]).sort()).toEqual(
      [...warned, ...expired].map((event) => [event.id, event.action, event.tokenId]).sort(),
    );
    // And each event's email went to its own user, linked to its own audit row, with what it reports.
    const mail = await after.find(OutboxMessage, { kind: { $in: ['EXPIRED', 'EXPIRY_WARNING'] } }, { populate: ['auditEvent'] });
    expect(mail).toHaveLength(19);
    for (const message of mail) {
      const event = message.auditEvent;
      const user = await after.findOneOrFail(User, event?.subjectUserId ?? '');
      expect(message.recipient).toBe(user.email);
      expect(message.kind).toBe(event?.action);
      const { text } = await queuedContent(after, message);
      expect(text).toContain(`Hi ${user.name},`);
      expect(text).toContain(event?.tokenHint);
    }
  });
});
