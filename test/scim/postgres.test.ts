import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { User } from '../../src/users/user.entity.js';
import { userId } from '../admin/admin-helpers.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { PATCH_OP, scimClient, scimToken } from './scim-client.js';

/** What an identity provider's retries and parallel workers do, on PostgreSQL where requests really overlap. */
describe('SCIM on PostgreSQL', () => {
  let db: TestDatabase;
  let t: TestApp;
  let acme: ReturnType<typeof scimClient>;
  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp({ DATABASE_URL: db.url });
    acme = scimClient(t, await scimToken(t, 'Acme'));
  });
  afterAll(async () => {
    await t?.stop();
    await db?.drop();
  });

  it('creates one user for concurrent POSTs of one userName; the others get 409 uniqueness', async () => {
    const body = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'race@acme.example', name: { formatted: 'Race' } };
    const results = await Promise.all(Array.from({ length: 6 }, () => acme('POST', '/Users', body)));
    expect(results.map((res) => res.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const res of results.filter((each) => each.status === 409)) expect(res.body?.['scimType']).toBe('uniqueness');
    expect(await t.running.orm.em.fork().count(User, { email: 'race@acme.example' })).toBe(1);
  });

  it('adds a member once when the same add arrives several times at once', async () => {
    const group = await acme('POST', '/Groups', { displayName: 'Racing' });
    const id = String(group.body?.['id']);
    const alice = await userId(t, 'alice@example.com');
    const add = { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'members', value: [{ value: alice }] }] };
    const results = await Promise.all(Array.from({ length: 6 }, () => acme('PATCH', `/Groups/${id}`, add)));
    expect(results.map((res) => res.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect((await acme('GET', `/Groups/${id}`)).body).toMatchObject({ members: [{ value: alice }] });
    const added = await t.running.orm.em.fork().count(AuditEvent, { subjectUserId: alice, reason: 'added to business unit "Racing"' });
    expect(added).toBe(1);
  });

  it('answers NUL bytes and other control characters with 400, not a database error', async () => {
    for (const filter of ['userName eq "a\\u0000b"', 'externalId eq "\\u0000"']) {
      const res = await acme('GET', `/Users?filter=${encodeURIComponent(filter)}`);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body?.['scimType']).toBe('invalidFilter');
    }
    const group = await acme('GET', `/Groups?filter=${encodeURIComponent('displayName eq "\\u0000"')}`);
    expect(group.body?.['scimType']).toBe('invalidFilter');
    for (const body of [
      { userName: 'nul\u0000@acme.example' },
      { userName: 'ok@acme.example', name: { formatted: 'Nul\u0000Name' } },
      { userName: 'ok@acme.example', externalId: 'x\u0000' },
    ]) {
      const res = await acme('POST', '/Users', body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body?.['scimType']).toBe('invalidValue');
    }
    expect((await acme('POST', '/Groups', { displayName: 'Nul\u0000Group' })).status).toBe(400);
  });
});
