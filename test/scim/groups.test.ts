import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, userId } from '../admin/admin-helpers.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { PATCH_OP, expectScimError, scimClient, scimToken } from './scim-client.js';

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

describe('SCIM /Groups (business units)', () => {
  let t: TestApp;
  let acme: ReturnType<typeof scimClient>;
  let globex: ReturnType<typeof scimClient>;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    t = await startTestApp();
    acme = scimClient(t, await scimToken(t, 'Acme'));
    globex = scimClient(t, await scimToken(t, 'Globex'));
    alice = await userId(t, 'alice@example.com');
    bob = await userId(t, 'bob@example.com');
  });
  afterAll(async () => {
    await t.stop();
  });

  async function unitsOf(email: string): Promise<string[]> {
    const me = await t.gql<{ me: { businessUnits: { name: string }[] } }>('{ me { businessUnits { name } } }', {
      auth: await t.session(email),
    });
    return (me.body.data?.me.businessUnits ?? []).map((unit) => unit.name).sort();
  }

  it('creates a group with members, finds it by displayName, and the members have the unit at their next request', async () => {
    const created = await acme('POST', '/Groups', { schemas: [GROUP], displayName: 'Sales', members: [{ value: alice }] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = String(created.body?.['id']);
    expect(created.body).toMatchObject({
      schemas: [GROUP],
      id,
      displayName: 'Sales',
      members: [{ value: alice, display: 'alice@example.com' }],
    });
    expect(await unitsOf('alice@example.com')).toEqual(['Engineering', 'Sales']);

    const found = await acme('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Sales"')}&excludedAttributes=members`);
    expect(found.body).toMatchObject({ totalResults: 1, Resources: [{ id, displayName: 'Sales' }] });
    expect((found.body?.['Resources'] as Record<string, unknown>[])[0]?.['members']).toBeUndefined();
    expect((await acme('GET', `/Groups/${id}`)).body).toMatchObject({ id, members: [{ value: alice }] });
    // Globex has a unit of its own: each directory sees only its organisation's.
    const mine = await globex('GET', '/Groups');
    expect((mine.body?.['Resources'] as { displayName: string }[]).map((group) => group.displayName)).toEqual(['Operations']);
    expectScimError(await acme('POST', '/Groups', { schemas: [GROUP], displayName: 'Sales' }), 409, 'uniqueness');
  });

  it('adds and removes members with Entra ID’s PATCH forms, and renames with Okta’s', async () => {
    const created = await acme('POST', '/Groups', { schemas: [GROUP], displayName: 'Marketing' });
    const id = String(created.body?.['id']);
    expect(created.body).toMatchObject({ members: [] });

    const added = await acme('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Add', path: 'members', value: [{ value: alice }, { value: bob }] }],
    });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect((added.body?.['members'] as { value: string }[]).map((member) => member.value).sort()).toEqual([alice, bob].sort());
    expect(await unitsOf('bob@example.com')).toEqual(['Finance', 'Marketing']);

    const removed = await acme('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'Remove', path: `members[value eq "${bob}"]` }],
    });
    expect(removed.body).toMatchObject({ members: [{ value: alice }] });
    expect(await unitsOf('bob@example.com')).toEqual(['Finance']);
    expect((await auditRows(t, bob)).slice(-2).map((row) => [row.action, row.actorKind, row.reason])).toEqual([
      ['USER_UPDATED', 'scim', 'added to business unit "Marketing"'],
      ['USER_UPDATED', 'scim', 'removed from business unit "Marketing"'],
    ]);

    // Alice's `me` has just read the unit's name, so this instance holds it.
    expect(await unitsOf('alice@example.com')).toContain('Marketing');
    // Okta: a path-less replace with the id and the new name.
    const renamed = await acme('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { id, displayName: 'Growth' } }],
    });
    expect(renamed.body).toMatchObject({ displayName: 'Growth', members: [{ value: alice }] });
    expect(await unitsOf('alice@example.com')).toEqual(['Engineering', 'Growth', 'Sales']);
    // Each member's trail says so, and only the members': Bob left the unit before.
    expect((await auditRows(t, alice)).slice(-1).map((row) => [row.action, row.actorKind, row.reason])).toEqual([
      ['USER_UPDATED', 'scim', 'business unit "Marketing" renamed to "Growth"'],
    ]);
    expect((await auditRows(t, bob)).slice(-1).map((row) => row.reason)).toEqual(['removed from business unit "Marketing"']);

    // Okta's member removal form, and a member that is not in the group: nothing to do.
    const okta = await acme('PATCH', `/Groups/${id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'remove', path: 'members', value: [{ value: alice }, { value: bob }] }],
    });
    expect(okta.body).toMatchObject({ members: [] });
  });

  it('replaces members with PUT and removes the unit with DELETE', async () => {
    const created = await acme('POST', '/Groups', { schemas: [GROUP], displayName: 'Temporary', members: [{ value: alice }] });
    const id = String(created.body?.['id']);
    const put = await acme('PUT', `/Groups/${id}`, { schemas: [GROUP], displayName: 'Temporary', members: [{ value: bob }] });
    expect(put.body).toMatchObject({ members: [{ value: bob }] });
    expect(await unitsOf('alice@example.com')).not.toContain('Temporary');
    expect(await unitsOf('bob@example.com')).toContain('Temporary');

    expect((await acme('DELETE', `/Groups/${id}`)).status).toBe(204);
    expectScimError(await acme('GET', `/Groups/${id}`), 404);
    expect(await unitsOf('bob@example.com')).toEqual(['Finance']);
  });

  it('refuses members and groups of another organisation, and bad PATCH bodies', async () => {
    const carol = await userId(t, 'carol@globex.example.com');
    const support = await userId(t, 'support@example.com');
    const created = await acme('POST', '/Groups', { schemas: [GROUP], displayName: 'Checks' });
    const id = String(created.body?.['id']);
    for (const member of [carol, support, 'not-a-uuid']) {
      expectScimError(
        await acme('PATCH', `/Groups/${id}`, { Operations: [{ op: 'add', path: 'members', value: [{ value: member }] }] }),
        400,
        'invalidValue',
      );
      expectScimError(await acme('POST', '/Groups', { displayName: `With ${member}`, members: [{ value: member }] }), 400, 'invalidValue');
    }
    expect((await acme('GET', `/Groups?filter=${encodeURIComponent('displayName eq "With not-a-uuid"')}`)).body).toMatchObject({
      totalResults: 0,
    });

    const theirs = await globex('GET', `/Groups/${id}`);
    expectScimError(theirs, 404);
    expect(theirs.body).toEqual((await globex('GET', '/Groups/00000000-0000-4000-8000-000000000000')).body);
    expectScimError(
      await globex('PATCH', `/Groups/${id}`, { Operations: [{ op: 'add', path: 'members', value: [{ value: carol }] }] }),
      404,
    );
    expectScimError(await globex('DELETE', `/Groups/${id}`), 404);

    expectScimError(await acme('POST', '/Groups', { members: [] }), 400, 'invalidValue');
    expectScimError(
      await acme('PATCH', `/Groups/${id}`, { Operations: [{ op: 'add', path: 'members', value: 'x' }] }),
      400,
      'invalidValue',
    );
    expectScimError(await acme('PATCH', `/Groups/${id}`, { Operations: [{ op: 'replace', path: 'id', value: 'x' }] }), 400, 'mutability');
    expectScimError(await acme('GET', `/Groups?filter=${encodeURIComponent('displayName sw "C"')}`), 400, 'invalidFilter');
  });
});
