import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Changes } from '../../src/audit/changes.js';
import { SYSTEM_ACTOR } from '../../src/audit/actor.js';
import { openDatabase } from '../../src/db/orm.js';
import { seedDemo } from '../../src/users/seed.js';
import { User } from '../../src/users/user.entity.js';

/**
 * The server and the admin CLI are two processes on one SQLite file. In WAL
 * mode a transaction that read before the other process committed a write is
 * refused ("database is locked") when it starts writing, at once.
 */
describe('a change on SQLite while another process writes the same file', () => {
  let dir = '';
  let server: MikroORM;
  let cli: MikroORM;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'api-tokens-two-processes-'));
    const url = `sqlite:${join(dir, 'api-tokens.sqlite')}`;
    server = await openDatabase(url);
    await seedDemo(server, new Date());
    cli = await openDatabase(url);
  });
  afterAll(async () => {
    await server?.close(true);
    await cli?.close(true);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts again from a fresh read, and records and publishes its event once', async () => {
    const published: AuditEvent[][] = [];
    const changes = new Changes(server, new AuditLog('test'), (events) => void published.push([...events]));
    let attempts = 0;
    const result = await changes.run(async (tx) => {
      attempts++;
      const alice = await tx.em.findOneOrFail(User, { email: 'alice@example.com' }, { populate: ['organization'] });
      // Between this transaction's read and its write, the other process commits one.
      // (On the connection itself: an entity manager here would join this transaction's context.)
      if (attempts === 1) await cli.em.getConnection().execute("update users set name = 'Bob Renamed' where email = 'bob@example.com'");
      alice.name = `Alice, attempt ${attempts}`;
      await tx.em.flush();
      await tx.record({
        action: 'USER_UPDATED',
        actor: SYSTEM_ACTOR,
        occurredAt: new Date(),
        subject: { id: alice.id, organizationId: alice.organization.id },
        reason: 'name',
      });
      return alice.name;
    });

    expect(attempts).toBe(2);
    expect(result).toBe('Alice, attempt 2');
    const em = server.em.fork();
    expect((await em.findOneOrFail(User, { email: 'alice@example.com' })).name).toBe('Alice, attempt 2');
    expect((await em.findOneOrFail(User, { email: 'bob@example.com' })).name).toBe('Bob Renamed');
    expect(published.map((events) => events.map((event) => [event.action, event.reason]))).toEqual([[['USER_UPDATED', 'name']]]);
  });
});
