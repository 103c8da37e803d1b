import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
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
      // The sweep's emails go after those about a change someone made.
      expect(message.priority).toBe(1);
      const { text } = await queuedContent(after, message);
      expect(text).toContain(`Hi ${user.name},`);
      expect(text).toContain(event?.tokenHint);
    }
  });

  /** `count` users, each with a token that expired a day ago. */
  async function expiredTokens(prefix: string, count: number): Promise<void> {
    const em = t.running.orm.em.fork();
    const organization = await em.findOneOrFail(Organization, { name: 'Acme' });
    const now = clock.now();
    for (let i = 0; i < count; i++) {
      const user = em.create(User, {
        organization,
        email: `${prefix}${i}@example.com`,
        name: `${prefix} ${i}`,
        role: Role.USER,
        createdAt: now,
      });
      em.create(ApiToken, {
        user,
        digest: createHash('sha256').update(`${prefix} ${i}`).digest('hex'),
        hint: `${prefix.slice(0, 2)}${i}`,
        createdAt: new Date(now.getTime() - 91 * DAY),
        expiresAt: new Date(now.getTime() - DAY),
        createdRegion: 'eu-west',
        warnedThresholdMs: 7 * DAY,
      });
    }
    await em.flush();
  }

  function pacedSweeper(batchSize: number, sweepMaxRate: number): Sweeper {
    return new Sweeper({
      changes: new Changes(t.running.orm, new AuditLog('eu-west'), () => undefined),
      tokens: t.running.services.tokens,
      clock,
      config: { ...t.config, sweepMaxRate },
      logger: pino({ level: 'silent' }),
      batchSize,
      lockRows: locksRows(t.config.databaseUrl),
    });
  }

  const left = (prefix: string) => t.running.orm.em.fork().count(ApiToken, { user: { email: { $like: `${prefix}%` } } });

  it('keeps to SWEEP_MAX_RATE: a batch ahead of that pace is followed by a pause', async () => {
    await expiredTokens('paced', 10);
    // Batches of 4 at 20 tokens a second: 4, 4 and 2; the third starts 400 ms after the first at the earliest.
    const started = performance.now();
    expect(await pacedSweeper(4, 20).sweep()).toEqual({ warned: 0, expired: 10 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(400);
    expect(await left('paced')).toBe(0);
  });

  it('stops during a pause without waiting for it to end, and leaves the rest to the next sweep', async () => {
    await expiredTokens('halted', 6);
    // One token a second: after the first batch of 3, a pause of 3 s.
    const sweeper = pacedSweeper(3, 1);
    const sweeping = sweeper.sweep();
    for (let waited = 0; (await left('halted')) > 3 && waited < 100; waited++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await left('halted')).toBe(3);
    const stopping = performance.now();
    await sweeper.stop();
    await sweeping;
    // The pause had about 3 s to go; stopping does not sit it out.
    expect(performance.now() - stopping).toBeLessThan(2_000);
    expect(await left('halted')).toBe(3);
  });
});
