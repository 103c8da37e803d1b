import type { MikroORM } from '@mikro-orm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Changes } from '../../src/audit/changes.js';
import { systemClock } from '../../src/clock.js';
import { openDatabase } from '../../src/db/orm.js';
import { followerLeaseMs } from '../../src/events/log-follower.js';
import { ScimCredentials } from '../../src/scim/scim-credentials.js';
import { REDIS_URL } from '../limits/rate-limit-helpers.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { expectScimError, lookupsDuring, scimClient } from './scim-client.js';

/**
 * Two instances on PostgreSQL and Redis, each caching verified SCIM tokens,
 * and the admin CLI's way of rotating one: its own ORM, and no event hub, so
 * nothing crosses Redis and only the stored log tells the instances.
 */
describe('SCIM token rotation across instances (PostgreSQL + Redis)', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let cliOrm: MikroORM;
  let cli: ScimCredentials;

  beforeAll(async () => {
    db = await createTestDatabase();
    a = await startTestApp({ DATABASE_URL: db.url, REDIS_URL });
    b = await startTestApp({ DATABASE_URL: db.url, REDIS_URL });
    cliOrm = await openDatabase(db.url);
    // As src/cli/admin-command.ts builds it: nothing to publish, no hub.
    cli = new ScimCredentials(cliOrm, new Changes(cliOrm, new AuditLog('cli'), () => undefined), systemClock);
  });
  afterAll(async () => {
    await cliOrm?.close();
    await a?.stop();
    await b?.stop();
    await db?.drop();
  });

  const issue = async () => {
    const issued = await cli.issue('Acme');
    if (!issued) throw new Error('no organisation Acme');
    return issued.secret;
  };
  /** Until the cache may answer (each instance's log follower has read since it registered with the hub). */
  const warm = async (t: TestApp, secret: string) => {
    for (let attempt = 0; attempt < 50; attempt++) {
      expect((await scimClient(t, secret)('GET', '/Users')).status).toBe(200);
      if ((await lookupsDuring(t, secret, async () => expect((await scimClient(t, secret)('GET', '/Users')).status).toBe(200))) === 0)
        return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the SCIM token was never answered from the cache');
  };
  /** What the CLI waits before it returns: one log-follower lease. */
  const lease = () => new Promise((resolve) => setTimeout(resolve, followerLeaseMs(a.config.eventPollInterval.ms)));

  it('refuses a token rotated by another process on every instance within one follower lease, though both had it cached', async () => {
    const old = await issue();
    await warm(a, old);
    await warm(b, old);

    const rotated = await issue();
    await lease();
    for (const t of [a, b]) {
      const refused = await scimClient(t, old)('GET', '/Users');
      expectScimError(refused, 401);
      expect(refused.headers.get('www-authenticate')).toContain('The credential is unknown or was revoked.');
      expect((await scimClient(t, rotated)('GET', '/Users')).status).toBe(200);
    }
  });

  it('refuses a token revoked by another process on every instance within one follower lease', async () => {
    const token = await issue();
    await warm(a, token);
    await warm(b, token);

    expect(await cli.revoke('Acme')).toBe(true);
    await lease();
    for (const t of [a, b]) expectScimError(await scimClient(t, token)('GET', '/Users'), 401);
  });
});
