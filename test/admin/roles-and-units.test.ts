import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { BusinessUnit } from '../../src/users/business-unit.entity.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { expectError, generateToken, INTROSPECTION_ENV, introspect, userId } from './admin-helpers.js';

const UPDATE_USER = `mutation ($id: ID!, $input: UpdateUserInput!) {
  updateUser(id: $id, input: $input) { id role name businessUnits { id name } }
}`;
const CREATE_USER = `mutation ($input: CreateUserInput!) {
  createUser(input: $input) { id email name role active apiTokensEnabled businessUnits { id name } }
}`;
const CREATE_UNIT = 'mutation ($name: String!) { createBusinessUnit(name: $name) { id name } }';

describe.each(['sqlite', 'postgresql'] as const)('organisations, roles and business units on %s', (kind) => {
  let db: TestDatabase | null = null;
  let t: TestApp;
  let admin: string;
  const units = new Map<string, string>();
  beforeAll(async () => {
    db = kind === 'postgresql' ? await createTestDatabase() : null;
    t = await startTestApp({
      ...INTROSPECTION_ENV,
      REGION: 'eu-west',
      REGIONS: 'eu-west,us-east',
      ...(db ? { DATABASE_URL: db.url } : {}),
    });
    admin = await t.session('admin@example.com');
    for (const unit of await t.running.orm.em.fork().find(BusinessUnit, {}, { populate: ['organization'] })) {
      units.set(`${unit.organization.name}/${unit.name}`, unit.id);
    }
  });
  afterAll(async () => {
    await t.stop();
    await db?.drop();
  });

  function unit(name: string): string {
    const id = units.get(name);
    if (!id) throw new Error(`no unit ${name}`);
    return id;
  }

  it('reflects a role and business-unit change in the very next introspection and GraphQL call', async () => {
    const alice = await userId(t, 'alice@example.com');
    const { secret } = await generateToken(t, 'alice@example.com');
    const engineering = unit('Acme/Engineering');
    const finance = unit('Acme/Finance');

    expect(await introspect(t, secret)).toMatchObject({
      active: true,
      role: 'USER',
      business_units: [engineering],
      scope: `role:USER bu:${engineering}`,
    });
    expectError(await t.gql('{ apiTokens { edges { cursor } } }', { auth: secret }), 'FORBIDDEN');

    const updated = await t.gql(UPDATE_USER, {
      auth: admin,
      variables: { id: alice, input: { role: 'ADMIN', businessUnitIds: [finance] } },
    });
    expect(updated.body.errors).toBeUndefined();
    expect(updated.body.data).toMatchObject({ updateUser: { role: 'ADMIN', businessUnits: [{ id: finance }] } });

    expect(await introspect(t, secret)).toMatchObject({
      active: true,
      role: 'ADMIN',
      business_units: [finance],
      scope: `role:ADMIN bu:${finance}`,
    });
    const me = await t.gql<{ me: { role: string; businessUnits: { id: string }[] } }>('{ me { role businessUnits { id } } }', {
      auth: secret,
    });
    expect(me.body.data?.me).toEqual({ role: 'ADMIN', businessUnits: [{ id: finance }] });
    // The same token now reaches what the new role allows.
    const listing = await t.gql('{ apiTokens { edges { node { user { email } } } } }', { auth: secret });
    expect(listing.body.errors).toBeUndefined();

    // And back: the very next call loses it again.
    await t.gql(UPDATE_USER, { auth: admin, variables: { id: alice, input: { role: 'USER', businessUnitIds: [engineering] } } });
    expectError(await t.gql('{ apiTokens { edges { cursor } } }', { auth: secret }), 'FORBIDDEN');
    expect(await introspect(t, secret)).toMatchObject({ role: 'USER', business_units: [engineering] });
  });

  it('audits an update with what changed, and records nothing when nothing changed', async () => {
    const bob = await userId(t, 'bob@example.com');
    const before = await t.running.orm.em.fork().count(AuditEvent, { subjectUserId: bob });
    const res = await t.gql(UPDATE_USER, { auth: admin, variables: { id: bob, input: { name: 'Robert Example' } } });
    expect(res.body.data).toMatchObject({ updateUser: { name: 'Robert Example', role: 'USER' } });
    await t.gql(UPDATE_USER, { auth: admin, variables: { id: bob, input: { name: 'Robert Example', role: 'USER' } } });
    await t.gql(UPDATE_USER, { auth: admin, variables: { id: bob, input: {} } });

    const rows = await t.running.orm.em.fork().find(AuditEvent, { subjectUserId: bob }, { orderBy: { id: 'asc' } });
    expect(rows).toHaveLength(before + 1);
    expect(rows.at(-1)).toMatchObject({
      action: 'USER_UPDATED',
      actorLabel: 'admin@example.com',
      actorKind: 'session',
      region: 'eu-west',
      reason: 'name "Bob Example" -> "Robert Example"',
    });
  });

  it('refuses bad updates with BAD_USER_INPUT naming the field', async () => {
    const bob = await userId(t, 'bob@example.com');
    const self = await userId(t, 'admin@example.com');
    const support = await userId(t, 'support@example.com');
    const cases: [Record<string, unknown>, string, string][] = [
      [{ id: bob, input: { name: '   ' } }, 'input.name', 'BAD_USER_INPUT'],
      [{ id: bob, input: { role: 'SUPPORT' } }, 'input.role', 'BAD_USER_INPUT'],
      [{ id: bob, input: { businessUnitIds: ['not-a-uuid'] } }, 'input.businessUnitIds', 'BAD_USER_INPUT'],
      [{ id: bob, input: { businessUnitIds: [unit('Globex/Operations')] } }, 'input.businessUnitIds', 'BAD_USER_INPUT'],
      [{ id: self, input: { role: 'USER' } }, 'input.role', 'BAD_USER_INPUT'],
      // Support staff are the vendor's: outside a tenant admin's reach, like a user that does not exist.
      [{ id: support, input: { role: 'USER' } }, 'id', 'BAD_USER_INPUT'],
      [{ id: 'nope', input: { name: 'x' } }, 'id', 'BAD_USER_INPUT'],
    ];
    for (const [variables, field, code] of cases) {
      expectError(await t.gql(UPDATE_USER, { auth: admin, variables }), code, field);
    }
    const me = await t.gql<{ me: { role: string } }>('{ me { role } }', { auth: await t.session('support@example.com') });
    expect(me.body.data?.me.role).toBe('SUPPORT');
  });

  it('creates a business unit in the admin’s organisation, once per name', async () => {
    const res = await t.gql<{ createBusinessUnit: { id: string; name: string } }>(CREATE_UNIT, {
      auth: admin,
      variables: { name: '  Operations ' },
    });
    // Globex has an "Operations" too: names are unique per organisation only.
    expect(res.body.data?.createBusinessUnit.name).toBe('Operations');
    const created = await t.running.orm.em
      .fork()
      .findOneOrFail(BusinessUnit, { id: res.body.data?.createBusinessUnit.id ?? '' }, { populate: ['organization'] });
    expect(created.organization.name).toBe('Acme');

    expectError(await t.gql(CREATE_UNIT, { auth: admin, variables: { name: 'Operations' } }), 'BAD_USER_INPUT', 'name');
    expectError(await t.gql(CREATE_UNIT, { auth: admin, variables: { name: '' } }), 'BAD_USER_INPUT', 'name');
    expectError(await t.gql(CREATE_UNIT, { auth: admin, variables: { name: 'x'.repeat(201) } }), 'BAD_USER_INPUT', 'name');

    const audit = await t.running.orm.em.fork().findOneOrFail(AuditEvent, { action: 'BUSINESS_UNIT_CREATED' }, { orderBy: { id: 'desc' } });
    expect(audit).toMatchObject({ actorLabel: 'admin@example.com', organizationId: created.organization.id, subjectUserId: null });
  });

  it('creates a user who can sign in at once, and answers a duplicate email with BAD_USER_INPUT', async () => {
    const finance = unit('Acme/Finance');
    const res = await t.gql<{ createUser: { id: string; email: string; role: string } }>(CREATE_USER, {
      auth: admin,
      variables: { input: { email: ' Dana@Example.com ', name: 'Dana', role: 'ADMIN', businessUnitIds: [finance, finance] } },
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.createUser).toMatchObject({
      email: 'dana@example.com',
      role: 'ADMIN',
      active: true,
      apiTokensEnabled: true,
      businessUnits: [{ id: finance, name: 'Finance' }],
    });
    const me = await t.gql('{ me { email role } }', { auth: await t.session('dana@example.com') });
    expect(me.body.data).toEqual({ me: { email: 'dana@example.com', role: 'ADMIN' } });
    const audit = await t.running.orm.em
      .fork()
      .findOneOrFail(AuditEvent, { action: 'USER_CREATED', subjectUserId: res.body.data?.createUser.id ?? '' });
    expect(audit.actorLabel).toBe('admin@example.com');

    const duplicate = await t.gql(CREATE_USER, {
      auth: admin,
      variables: { input: { email: 'DANA@example.com', name: 'Dana again', businessUnitIds: [finance] } },
    });
    expect(duplicate.status).toBe(200);
    expectError(duplicate, 'BAD_USER_INPUT', 'input.email');
  });

  it('refuses bad new users with BAD_USER_INPUT naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ email: 'not an email', name: 'X' }, 'input.email'],
      [{ email: 'x@example.com', name: ' ' }, 'input.name'],
      [{ email: 'x@example.com', name: 'X', role: 'SUPPORT' }, 'input.role'],
      [{ email: 'x@example.com', name: 'X', businessUnitIds: [unit('Globex/Operations')] }, 'input.businessUnitIds'],
    ];
    for (const [input, field] of cases) {
      expectError(await t.gql(CREATE_USER, { auth: admin, variables: { input } }), 'BAD_USER_INPUT', field);
    }
    expect(await t.running.services.users.findByEmail('x@example.com')).toBeNull();
  });

  it('keeps the admin mutations to admins: USER and SUPPORT get FORBIDDEN', async () => {
    for (const email of ['alice@example.com', 'support@example.com']) {
      const auth = await t.session(email);
      expectError(await t.gql(CREATE_UNIT, { auth, variables: { name: 'Sales' } }), 'FORBIDDEN');
      expectError(await t.gql(CREATE_USER, { auth, variables: { input: { email: 'y@example.com', name: 'Y' } } }), 'FORBIDDEN');
    }
    expectError(await t.gql(CREATE_UNIT, { variables: { name: 'Sales' } }), 'UNAUTHENTICATED');
  });
});
