import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { AuditLog, type AuditRecord } from '../../src/audit/audit-log.js';
import { arrayLiteral } from '../../src/db/columns.js';
import { openDatabase } from '../../src/db/orm.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

/** Texts that an array literal or a string literal could get wrong, each stored as it is. */
const AWKWARD = [
  `it's "quoted", {braced} and \\backslashed\\`,
  'NULL',
  '"NULL"',
  '',
  ' spaces  around ',
  'a line\nand a tab\t',
  'ünïcödé 🙂 and a right-to-left ‏ mark',
  "' or 1=1; drop table audit_events; --",
  '\\"}{,',
];

const USER = '6f1c1b8e-2f3a-4c5d-8e9f-0a1b2c3d4e5f';
const ORG = '0f1e2d3c-4b5a-4968-8776-655443322110';

function records(): AuditRecord[] {
  return AWKWARD.map((text, i): AuditRecord => ({
    action: i % 2 ? 'EXPIRED' : 'EXPIRY_WARNING',
    actor: { kind: 'session', userId: USER, label: text },
    occurredAt: new Date(Date.UTC(2026, 11, 6, 10, 0, i, 123)),
    subject: { id: USER, organizationId: ORG },
    token: { id: `00000000-0000-4000-8000-00000000000${i}`, hint: `h${i}`, expiresAt: new Date(Date.UTC(2027, 5, 1, 0, 0, i)) },
    ...(i % 2 ? { daysLeft: 0 } : { threshold: 'P7D', daysLeft: 7 }),
    reason: i === 3 ? null : text,
  }));
}

describe.each(['sqlite', 'postgresql'] as const)('recording many audit events at once (%s)', (kind) => {
  let orm: MikroORM;
  let db: TestDatabase | null = null;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'record-many-'));
    db = kind === 'postgresql' ? await createTestDatabase() : null;
    orm = await openDatabase(db ? db.url : `sqlite:${join(dir, 'audit.sqlite')}`);
  });
  afterAll(async () => {
    await orm.close();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores every field as given, awkward text and nulls included, and answers the ids in the records’ order', async () => {
    const audit = new AuditLog('eu-west');
    const recorded = await orm.em.fork().transactional((em) => audit.recordMany(em, records()));

    const stored = await orm.em.fork().find(AuditEvent, {}, { orderBy: { id: 'asc' } });
    expect(stored.map((event) => event.id)).toEqual(recorded.map((event) => event.id));
    expect(new Set(recorded.map((event) => event.id)).size).toBe(AWKWARD.length);
    const fields = (event: AuditEvent) => ({
      occurredAt: event.occurredAt.toISOString(),
      action: event.action,
      actorKind: event.actorKind,
      actorUserId: event.actorUserId,
      actorLabel: event.actorLabel,
      subjectUserId: event.subjectUserId,
      organizationId: event.organizationId,
      tokenId: event.tokenId,
      tokenHint: event.tokenHint,
      tokenExpiresAt: event.tokenExpiresAt?.toISOString() ?? null,
      threshold: event.threshold,
      daysLeft: event.daysLeft,
      region: event.region,
      reason: event.reason,
    });
    expect(stored.map(fields)).toEqual(recorded.map(fields));
    expect(stored.map((event) => event.actorLabel)).toEqual(AWKWARD);
    expect(stored[3]?.reason).toBe(null);
    expect(stored[0]).toMatchObject({ threshold: 'P7D', daysLeft: 7, region: 'eu-west' });
    expect(stored[1]).toMatchObject({ threshold: null, daysLeft: 0 });
  });
});

describe('arrayLiteral', () => {
  it('quotes every element, escapes quotes and backslashes, and writes nulls and dates as PostgreSQL reads them', () => {
    expect(arrayLiteral(['a', 'b,c', 'NULL', null, undefined, 7, '"\\', new Date('2026-12-06T10:00:00.5Z')])).toBe(
      '{"a","b,c","NULL",NULL,NULL,"7","\\"\\\\","2026-12-06T10:00:00.500Z"}',
    );
    expect(arrayLiteral([])).toBe('{}');
    expect(arrayLiteral([12345678901234567890n, true, { a: '"' }])).toBe('{"12345678901234567890","true","{\\"a\\":\\"\\\\\\"\\"}"}');
  });
});
