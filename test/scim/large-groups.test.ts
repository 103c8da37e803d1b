import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { BusinessUnit } from '../../src/users/business-unit.entity.js';
import { Organization } from '../../src/users/organization.entity.js';
import { Role } from '../../src/auth/role.js';
import { User } from '../../src/users/user.entity.js';
import { generateToken } from '../admin/admin-helpers.js';
import { errorCode, startTestApp, type TestApp } from '../support/test-app.js';
import { scimClient, scimToken } from './scim-client.js';

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const AUDIT_OF = 'query ($userId: ID) { auditEvents(userId: $userId, first: 1) { edges { node { id } } } }';

/**
 * A directory replacing a 1,000-member group: the change is applied in
 * bounded transactions, and an admin it takes out of the group loses the
 * reach that group gave them from their very next request, token included.
 */
describe('a 1,000-member SCIM group replace', () => {
  let t: TestApp;
  let acme: ReturnType<typeof scimClient>;
  let groupId = '';
  const members: string[] = [];
  const newcomers: string[] = [];
  let adminSecret = '';
  let adminId = '';

  beforeAll(async () => {
    t = await startTestApp();
    acme = scimClient(t, await scimToken(t, 'Acme'));
    const em = t.running.orm.em.fork();
    const organization = await em.findOneOrFail(Organization, { name: 'Acme' });
    const now = new Date();
    const big = em.create(BusinessUnit, { organization, name: 'Everyone', createdAt: now });
    const small = em.create(BusinessUnit, { organization, name: 'Few', createdAt: now });
    // An admin in both groups: "Everyone" is what lets them see its members.
    const admin = em.create(User, {
      organization,
      email: 'group-admin@example.com',
      name: 'Group Admin',
      role: Role.ADMIN,
      createdAt: now,
    });
    admin.businessUnits.add(big);
    admin.businessUnits.add(small);
    for (let i = 0; i < 1_500; i++) {
      const user = em.create(User, { organization, email: `member${i}@example.com`, name: `Member ${i}`, role: Role.USER, createdAt: now });
      if (i < 1_000) {
        user.businessUnits.add(big);
        members.push(user.id);
      } else newcomers.push(user.id);
    }
    await em.flush();
    groupId = big.id;
    adminId = admin.id;
    adminSecret = (await generateToken(t, 'group-admin@example.com')).secret;
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('swaps 500 members for 500 others, records each, and the removed admin’s token loses the group at once', async () => {
    // The token's principal is cached: a member of Everyone can read a member's trail.
    const before = await t.gql(AUDIT_OF, { auth: adminSecret, variables: { userId: members[0] } });
    expect(before.body.errors).toBeUndefined();

    const kept = members.slice(500);
    const next = [...kept, ...newcomers];
    const res = await acme('PUT', `/Groups/${groupId}`, {
      schemas: [GROUP],
      displayName: 'Everyone',
      members: next.map((value) => ({ value })),
    });
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
    const listed = (res.body?.['members'] as { value: string }[]).map((member) => member.value);
    expect(listed.sort()).toEqual([...next].sort());

    // The admin (not in the new list) is out; their token, at its next request, no longer reaches the group's members.
    const after = await t.gql(AUDIT_OF, { auth: adminSecret, variables: { userId: members[0] } });
    expect(errorCode(after)).toBe('BAD_USER_INPUT');
    const me = await t.gql<{ me: { businessUnits: { name: string }[] } }>('{ me { businessUnits { name } } }', { auth: adminSecret });
    expect(me.body.data?.me.businessUnits).toEqual([{ name: 'Few' }]);

    // One USER_UPDATED for each of the 1,001 users whose units changed, and none for those kept.
    const em = t.running.orm.em.fork();
    const updated = await em.find(AuditEvent, { action: 'USER_UPDATED', reason: { $like: '%business unit "Everyone"' } });
    const subjects = new Set(updated.map((event) => event.subjectUserId));
    expect(updated).toHaveLength(1_001);
    expect(subjects.has(adminId)).toBe(true);
    expect(kept.some((id) => subjects.has(id))).toBe(false);
  });
});
