import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { storedLog } from '../../src/events/stored-log.js';
import type { StoredEvent } from '../../src/events/token-event.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const FIELDS = [
  'id',
  'action',
  'subjectUserId',
  'organizationId',
  'tokenId',
  'occurredAt',
  'tokenExpiresAt',
  'daysLeft',
  'threshold',
  'actorLabel',
  'reason',
] as const satisfies readonly (keyof StoredEvent)[];

const picked = (event: AuditEvent): StoredEvent => Object.fromEntries(FIELDS.map((field) => [field, event[field]])) as StoredEvent;

/** The log follower reads the audit trail as plain rows: the same values the entities hold, on both databases. */
describe.each(['sqlite', 'postgresql'] as const)('the stored log as the follower reads it (%s)', (kind) => {
  let db: TestDatabase | null = null;
  let t: TestApp;

  beforeAll(async () => {
    db = kind === 'postgresql' ? await createTestDatabase() : null;
    t = await startTestApp(db ? { DATABASE_URL: db.url } : {}, { autoSweep: false });
  });
  afterAll(async () => {
    await t?.stop();
    await db?.drop();
  });

  it('gives each row with the values its entity has, after the cursor and for the gaps, in id order', async () => {
    const log = storedLog(t.running.orm);
    const start = await log.newestId();
    const em = t.running.orm.em.fork();
    const base = { actorKind: 'system' as const, region: 'local', organizationId: '00000000-0000-4000-8000-000000000009' };
    const rows = [
      em.create(AuditEvent, {
        ...base,
        occurredAt: new Date('2026-06-01T10:00:00.123Z'),
        action: 'EXPIRY_WARNING',
        actorLabel: 'system',
        subjectUserId: '00000000-0000-4000-8000-000000000003',
        tokenId: '00000000-0000-4000-8000-000000000005',
        tokenHint: 'own_…abcd',
        tokenExpiresAt: new Date('2026-06-08T10:00:00.456Z'),
        threshold: 'P7D',
        daysLeft: 7,
      }),
      em.create(AuditEvent, {
        ...base,
        occurredAt: new Date('2026-06-01T11:00:00.000Z'),
        action: 'REVOKED',
        actorLabel: 'support@example.com',
        subjectUserId: '00000000-0000-4000-8000-000000000003',
        tokenId: '00000000-0000-4000-8000-000000000005',
        reason: 'Found in a public repository',
      }),
      em.create(AuditEvent, { ...base, occurredAt: new Date('2026-06-01T12:00:00.000Z'), action: 'SCIM_TOKEN_ISSUED', actorLabel: 'cli' }),
    ];
    await em.flush();
    const stored = rows.map(picked);

    expect(await log.newestId()).toBe(rows[2]?.id);
    expect(await log.after(start, [], 100)).toEqual(stored);
    expect(await log.after(start, [], 2)).toEqual(stored.slice(0, 2));
    // A gap: an id below the cursor that had not committed when the cursor passed it.
    expect(await log.after(rows[2]?.id ?? 0, [rows[0]?.id ?? 0], 100)).toEqual([stored[0]]);
  });
});
