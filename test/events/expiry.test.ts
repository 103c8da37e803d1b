import { afterEach, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { ManualClock } from '../../src/clock.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { errorCode, startTestApp, type TestApp } from '../support/test-app.js';
import { EVENT_FIELDS, latestEventId, subscribe } from '../support/ws-client.js';

const DAY = 86_400_000;
const START = '2026-01-01T00:00:00.000Z';
const GENERATE = 'mutation { generateApiToken { secret token { id expiresAt } } }';
const EVENTS = `subscription($after: ID) { apiTokenEvents(after: $after) { ${EVENT_FIELDS} } }`;

interface Warning {
  kind: string;
  threshold: string | null;
  daysLeft: number | null;
  actor: string | null;
  tokenId: string | null;
}

describe('expiry sweeper', () => {
  let t: TestApp | null = null;
  afterEach(async () => {
    await t?.stop();
    t = null;
  });

  async function start(clock: ManualClock, dataDir?: string): Promise<TestApp> {
    t = await startTestApp({}, dataDir ? { clock, dataDir, autoSweep: false } : { clock, autoSweep: false });
    return t;
  }

  async function generate(app: TestApp, email = 'alice@example.com') {
    const res = await app.gql<{ generateApiToken: { secret: string; token: { id: string } } }>(GENERATE, {
      auth: await app.session(email),
    });
    const data = res.body.data?.generateApiToken;
    if (!data) throw new Error(JSON.stringify(res.body));
    return data;
  }

  async function storedWarnings(app: TestApp): Promise<{ threshold: string | null; daysLeft: number | null }[]> {
    const rows = await app.running.orm.em.fork().find(AuditEvent, { action: 'EXPIRY_WARNING' }, { orderBy: { id: 'asc' } });
    return rows.map((row) => ({ threshold: row.threshold, daysLeft: row.daysLeft }));
  }

  it('warns once per threshold, pushes the warnings live, then deletes the token at expiry', async () => {
    const clock = new ManualClock(START);
    const app = await start(clock);
    const { secret, token } = await generate(app);
    const events = subscribe<Warning>(app.url, await app.session('alice@example.com'), EVENTS, {
      after: await latestEventId(app.running.orm),
    });

    expect(await app.running.sweeper.sweep()).toEqual({ warned: 0, expired: 0 });
    clock.advance(150 * DAY + 1_000); // 30 days left, minus a second
    expect(await app.running.sweeper.sweep()).toEqual({ warned: 1, expired: 0 });
    expect(await app.running.sweeper.sweep()).toEqual({ warned: 0, expired: 0 });
    clock.advance(23 * DAY); // 7 days left, minus a second
    expect((await app.running.sweeper.sweep()).warned).toBe(1);
    clock.advance(6 * DAY); // 1 day left, minus a second
    expect((await app.running.sweeper.sweep()).warned).toBe(1);
    expect(await storedWarnings(app)).toEqual([
      { threshold: 'P30D', daysLeft: 30 },
      { threshold: 'P7D', daysLeft: 7 },
      { threshold: 'P1D', daysLeft: 1 },
    ]);

    clock.advance(DAY); // past expiry
    const expiredAnswer = await app.gql('{ me { email } }', { auth: secret });
    expect(expiredAnswer.status).toBe(401); // refused at use, before any sweep
    expect(await app.running.sweeper.sweep()).toEqual({ warned: 0, expired: 1 });
    expect(await app.running.orm.em.fork().count(ApiToken, { id: token.id })).toBe(0);

    const seen = await events.waitFor(4);
    expect(seen.map((e) => [e.kind, e.threshold, e.daysLeft, e.actor, e.tokenId])).toEqual([
      ['EXPIRY_WARNING', 'P30D', 30, 'system', token.id],
      ['EXPIRY_WARNING', 'P7D', 7, 'system', token.id],
      ['EXPIRY_WARNING', 'P1D', 1, 'system', token.id],
      ['EXPIRED', null, 0, 'system', token.id],
    ]);
    await events.dispose();
    expect(errorCode(await app.gql('{ me { email } }', { auth: secret }))).toBe('UNAUTHENTICATED');
    const expiredRows = await app.running.orm.em.fork().find(AuditEvent, { action: 'EXPIRED', tokenId: token.id });
    expect(expiredRows).toHaveLength(1);
  });

  it('a token socket open at expiresAt gets EXPIRED, then closes', async () => {
    // The real clock, a lifetime of seconds, and no sweeper: only the socket's own timer acts.
    t = await startTestApp({ TOKEN_LIFETIME: 'PT3S' }, { autoSweep: false });
    const { secret, token } = await generate(t);
    const events = subscribe<Warning>(t.url, secret, EVENTS, { after: await latestEventId(t.running.orm) });
    await events.connected;
    expect(await events.closed).toBe(4403);
    expect(events.items.map((e) => [e.kind, e.tokenId])).toEqual([['EXPIRED', token.id]]);
    expect(await t.running.orm.em.fork().count(AuditEvent, { action: 'EXPIRED', tokenId: token.id })).toBe(1);
    expect(await t.running.orm.em.fork().count(ApiToken, { id: token.id })).toBe(0);
  });

  it('sends only the nearest warning after downtime across several thresholds', async () => {
    const clock = new ManualClock(START);
    const app = await start(clock);
    await generate(app);
    clock.advance(179 * DAY + 3_600_000); // 23 hours left: P30D, P7D and P1D all crossed
    expect((await app.running.sweeper.sweep()).warned).toBe(1);
    expect(await storedWarnings(app)).toEqual([{ threshold: 'P1D', daysLeft: 1 }]);
    expect((await app.running.sweeper.sweep()).warned).toBe(0);
  });

  it('neither repeats nor skips a warning across a restart', async () => {
    const clock = new ManualClock(START);
    let app = await start(clock);
    const dataDir = app.dataDir;
    await generate(app);
    clock.advance(151 * DAY);
    expect((await app.running.sweeper.sweep()).warned).toBe(1);
    await app.stop({ keepData: true });

    app = await start(clock, dataDir);
    expect((await app.running.sweeper.sweep()).warned).toBe(0);
    clock.advance(22 * DAY + 1_000); // 7 days left, minus a second
    expect((await app.running.sweeper.sweep()).warned).toBe(1);
    expect(await storedWarnings(app)).toEqual([
      { threshold: 'P30D', daysLeft: 29 },
      { threshold: 'P7D', daysLeft: 7 },
    ]);
  });

  it('does not warn about thresholds longer than the lifetime', async () => {
    const clock = new ManualClock(START);
    const app = await start(clock);
    await app.stop();
    t = await startTestApp({ TOKEN_LIFETIME: 'P10D' }, { clock, autoSweep: false });
    await generate(t);
    clock.advance(3 * DAY + 1_000); // inside P30D and P7D; only P7D is a real crossing
    expect((await t.running.sweeper.sweep()).warned).toBe(1);
    expect(await storedWarnings(t)).toEqual([{ threshold: 'P7D', daysLeft: 7 }]);
  });

  it('expires a large backlog in batches, each token once', async () => {
    const clock = new ManualClock(START);
    const app = await start(clock);
    const em = app.running.orm.em.fork();
    const { User } = await import('../../src/users/user.entity.js');
    const { Role } = await import('../../src/auth/role.js');
    const alice = await em.findOneOrFail(User, { email: 'alice@example.com' });
    for (let i = 0; i < 1_200; i++) {
      const user = em.create(User, {
        organization: alice.organization,
        email: `load-${i}@example.com`,
        name: `Load ${i}`,
        role: Role.USER,
        createdAt: clock.now(),
      });
      em.create(ApiToken, {
        user,
        digest: `${i}`.padStart(64, '0'),
        hint: 'own_…test',
        createdAt: clock.now(),
        expiresAt: new Date(clock.now().getTime() + DAY),
        createdRegion: 'local',
      });
    }
    await em.flush();
    clock.advance(DAY);
    expect(await app.running.sweeper.sweep()).toEqual({ warned: 0, expired: 1_200 });
    expect(await app.running.orm.em.fork().count(ApiToken)).toBe(0);
    expect(await app.running.orm.em.fork().count(AuditEvent, { action: 'EXPIRED' })).toBe(1_200);
  });
});
