import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Changes } from '../../src/audit/changes.js';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { systemClock } from '../../src/clock.js';
import { openDatabase } from '../../src/db/orm.js';
import { queueMailFor } from '../../src/mail/outbox.js';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { ScimCredentials } from '../../src/scim/scim-credentials.js';
import { ScimToken } from '../../src/scim/scim-token.entity.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { TokenService } from '../../src/tokens/token.service.js';
import { SYSTEM_ACTOR } from '../../src/audit/actor.js';
import { BusinessUnit } from '../../src/users/business-unit.entity.js';
import { Organization } from '../../src/users/organization.entity.js';
import { seedDemo } from '../../src/users/seed.js';
import { User } from '../../src/users/user.entity.js';
import { loadConfig } from '../../src/config.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

/**
 * Loading rows and flushing must write nothing: an entity whose dates read
 * back "changed" is rewritten by every transaction that loads it (each token
 * change used to rewrite its user's `created_at` on SQLite).
 */
describe.each(['sqlite', 'postgresql'] as const)('entities loaded and left alone (%s)', (kind) => {
  let orm: MikroORM;
  let dir = '';
  let db: TestDatabase | null = null;

  afterAll(async () => {
    await orm?.close(true);
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('have nothing to write, whichever way they were loaded', async () => {
    if (kind === 'sqlite') {
      dir = await mkdtemp(join(tmpdir(), 'api-tokens-unchanged-'));
      orm = await openDatabase(`sqlite:${join(dir, 'api-tokens.sqlite')}`);
    } else {
      db = await createTestDatabase();
      orm = await openDatabase(db.url);
    }
    await seedDemo(orm, new Date());
    // A row of every entity with dates: a token (its audit event and outbox email) and a SCIM token.
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: kind === 'sqlite' ? `sqlite:${join(dir, 'api-tokens.sqlite')}` : (db?.url ?? ''),
    });
    const changes = new Changes(orm, new AuditLog('test', [queueMailFor()]), () => undefined);
    const alice = await orm.em.fork().findOneOrFail(User, { email: 'alice@example.com' });
    await new TokenService(orm, changes, systemClock, config).generate(SYSTEM_ACTOR, alice.id);
    await new ScimCredentials(orm, changes, systemClock).issue('Acme');

    const em = orm.em.fork();
    await em.find(User, {}, { populate: ['organization', 'businessUnits'] });
    await em.find(ApiToken, {}, { populate: ['user'] });
    await em.find(Organization, {});
    await em.find(BusinessUnit, {});
    await em.find(AuditEvent, {});
    await em.find(OutboxMessage, {});
    await em.find(ScimToken, {}, { populate: ['organization'] });
    const unitOfWork = em.getUnitOfWork();
    unitOfWork.computeChangeSets();
    expect(unitOfWork.getChangeSets().map((changeSet) => `${changeSet.meta.className} ${JSON.stringify(changeSet.payload)}`)).toEqual([]);
  });
});
