import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusinessUnit } from '../../src/users/business-unit.entity.js';
import { Organization } from '../../src/users/organization.entity.js';
import { Role } from '../../src/auth/role.js';
import { User } from '../../src/users/user.entity.js';
import { generateToken } from '../admin/admin-helpers.js';
import { scimClient, scimToken } from '../scim/scim-client.js';
import { eventually } from '../support/eventually.js';
import { startOwnRedis, type OwnRedis } from '../support/own-redis.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/**
 * The hub's channel belongs to the deployment: it lives under
 * REDIS_KEY_PREFIX, and a change waits only for this deployment's instances.
 * The stored-log poll is slowed to PT10S here, so a change that waited for
 * an acknowledgement that never comes would hold its caller 30 s, past the
 * test's timeout; and B refusing at once proves B's acknowledgement was awaited.
 */
describe('the event hub channel of one deployment', () => {
  let db: TestDatabase;
  let redis: OwnRedis;
  let a: TestApp;
  let b: TestApp;
  let stranger: Redis;
  const prefix = `api-tokens-test:${randomBytes(6).toString('hex')}:`;
  const heard = new Map<string, string[]>();

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await startOwnRedis();
    // Another application on the same Redis, listening to the old shared channel and, worse, to ours.
    stranger = new Redis(redis.url);
    stranger.on('message', (channel: string, message: string) => heard.set(channel, [...(heard.get(channel) ?? []), message]));
    await stranger.subscribe('api-token-events', `${prefix}token-events`);
    const shared = { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix, EVENT_POLL_INTERVAL: 'PT10S' };
    a = await startTestApp(shared, { autoSweep: false });
    b = await startTestApp(shared, { autoSweep: false });
  });
  afterAll(async () => {
    stranger?.disconnect();
    await a?.stop();
    await b?.stop();
    await redis?.kill();
    await db?.drop();
  });

  it("publishes under the deployment's prefix, not on a channel every client of the Redis server hears", async () => {
    const { id } = await generateToken(a, 'alice@example.com');
    const ours = await eventually('the event on the prefixed channel', () =>
      heard.get(`${prefix}token-events`)?.find((message) => message.includes(id)),
    );
    expect(JSON.parse(ours)).toMatchObject({ event: { kind: 'GENERATED', tokenId: id } });
    expect(heard.get('api-token-events')).toBeUndefined();
  });

  it("answers a change without waiting for a stranger's acknowledgement, and only once the other instance applied it", async () => {
    const session = await a.session('bob@example.com');
    const { secret } = await generateToken(a, 'bob@example.com');
    expect((await b.gql('{ me { email } }', { auth: secret })).status).toBe(200);
    const revoked = await a.gql('mutation { revokeApiToken { tokenId } }', { auth: session });
    expect(revoked.body.errors).toBeUndefined();
    expect((await b.gql('{ me { email } }', { auth: secret })).status).toBe(401);
  });

  it('carries a 600-member group change in one Redis message, and the other instance applies every member of it', async () => {
    const em = a.running.orm.em.fork();
    const organization = await em.findOneOrFail(Organization, { name: 'Acme' });
    const now = new Date();
    const unit = em.create(BusinessUnit, { organization, name: 'Crowd', createdAt: now });
    const emails: string[] = [];
    for (let i = 0; i < 600; i++) {
      const user = em.create(User, { organization, email: `crowd${i}@example.com`, name: `Crowd ${i}`, role: Role.USER, createdAt: now });
      user.businessUnits.add(unit);
      emails.push(user.email);
    }
    await em.flush();
    // The last member's token, its principal (with the unit) cached on B.
    const { secret } = await generateToken(a, emails[599]!);
    const unitsOnB = async () =>
      (await b.gql<{ me: { businessUnits: { name: string }[] } }>('{ me { businessUnits { name } } }', { auth: secret })).body.data?.me
        .businessUnits;
    expect(await unitsOnB()).toEqual([{ name: 'Crowd' }]);
    heard.clear();

    const acme = scimClient(a, await scimToken(a, 'Acme'));
    const emptied = await acme('PUT', `/Groups/${unit.id}`, {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Crowd',
      members: [],
    });
    expect(emptied.status, JSON.stringify(emptied.body).slice(0, 300)).toBe(200);
    // Answered only once B applied the change: its cached principal already lost the unit.
    expect(await unitsOnB()).toEqual([]);
    const messages = (heard.get(`${prefix}token-events`) ?? []).map((message) => JSON.parse(message) as { events?: { kind: string }[] });
    const updates = messages.filter((message) => message.events?.some((event) => event.kind === 'USER_UPDATED'));
    expect(updates).toHaveLength(1);
    expect(updates[0]?.events?.filter((event) => event.kind === 'USER_UPDATED')).toHaveLength(600);
  });
});
