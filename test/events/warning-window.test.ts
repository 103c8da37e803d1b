import { createHash } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Changes } from '../../src/audit/changes.js';
import { Role } from '../../src/auth/role.js';
import { ManualClock } from '../../src/clock.js';
import { locksRows } from '../../src/db/orm.js';
import { Sweeper } from '../../src/expiry/sweeper.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { Organization } from '../../src/users/organization.entity.js';
import { User } from '../../src/users/user.entity.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const DAY = 86_400_000;
const MINUTE = 60_000;

/**
 * The warning pass reads only the tokens that crossed a threshold since the
 * last complete sweep (a few per interval), not every token within 30 days of
 * expiring; once an hour it reads them all, so a token that a narrow pass
 * cannot see (its row written with a warning state from before) is still
 * warned within the hour.
 */
describe('the expiry warning window', () => {
  const clock = new ManualClock('2026-06-01T00:00:00.000Z');
  let t: TestApp;
  let sweeper: Sweeper;

  beforeAll(async () => {
    t = await startTestApp({ EXPIRY_WARNINGS: 'P30D,P7D' }, { clock, autoSweep: false });
    sweeper = new Sweeper({
      changes: new Changes(t.running.orm, new AuditLog('eu-west'), () => undefined),
      tokens: t.running.services.tokens,
      clock,
      config: t.config,
      logger: pino({ level: 'silent' }),
      lockRows: locksRows(t.config.databaseUrl),
    });
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** A token of a new user expiring `inMs` from now (180 days after it was made), not warned yet. */
  async function tokenExpiringIn(name: string, inMs: number): Promise<string> {
    const em = t.running.orm.em.fork();
    const organization = await em.findOneOrFail(Organization, { name: 'Acme' });
    const now = clock.now();
    const user = em.create(User, { organization, email: `${name}@example.com`, name, role: Role.USER, createdAt: now });
    const expiresAt = new Date(now.getTime() + inMs);
    const token = em.create(ApiToken, {
      user,
      digest: createHash('sha256').update(name).digest('hex'),
      hint: name,
      createdAt: new Date(expiresAt.getTime() - 180 * DAY),
      expiresAt,
      createdRegion: 'eu-west',
      warnedThresholdMs: 180 * DAY,
    });
    await em.flush();
    return token.id;
  }

  const warningsOf = async (tokenId: string) =>
    (await t.running.orm.em.fork().find(AuditEvent, { action: 'EXPIRY_WARNING', tokenId })).map((event) => event.threshold);

  it('warns a token that crossed a threshold since the last sweep, and a hand-written one within the hour', async () => {
    // The first sweep reads every token within the thresholds.
    expect(await sweeper.sweep()).toEqual({ warned: 0, expired: 0 });
    // One token crosses 30 days a little after the next sweep's start; one was written already 20 days from expiry.
    const crossing = await tokenExpiringIn('crossing', 30 * DAY + 30_000);
    const written = await tokenExpiringIn('written', 20 * DAY);

    clock.advance(MINUTE);
    expect(await sweeper.sweep()).toEqual({ warned: 1, expired: 0 });
    expect(await warningsOf(crossing)).toEqual(['P30D']);
    // Crossed before the last complete sweep began, so the narrow pass does not read it.
    expect(await warningsOf(written)).toEqual([]);

    clock.advance(30 * MINUTE);
    expect(await sweeper.sweep()).toEqual({ warned: 0, expired: 0 });
    clock.advance(30 * MINUTE);
    expect(await sweeper.sweep()).toEqual({ warned: 1, expired: 0 });
    expect(await warningsOf(written)).toEqual(['P30D']);
  });

  it('reads every token again when the clock went back', async () => {
    const late = await tokenExpiringIn('late', 25 * DAY);
    clock.set(new Date(clock.now().getTime() - 10 * MINUTE));
    expect(await sweeper.sweep()).toEqual({ warned: 1, expired: 0 });
    expect(await warningsOf(late)).toEqual(['P30D']);
  });
});
