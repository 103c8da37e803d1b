import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusinessUnit } from '../../src/users/business-unit.entity.js';
import { Role } from '../../src/auth/role.js';
import { User } from '../../src/users/user.entity.js';
import { expectError, generateToken, userId } from './admin-helpers.js';
import { startTestApp, type GqlResponse, type TestApp } from '../support/test-app.js';
import { subscribe } from '../support/ws-client.js';

const UPDATE = 'mutation ($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id businessUnits { name } } }';
const CREATE = 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }';
const TOKENS = '{ apiTokens(first: 100) { edges { node { user { email } } } } }';

/** admin@example.com is in Engineering and Finance; Support is an Acme unit outside that scope. */
describe('an admin with business units', () => {
  let t: TestApp;
  let admin: string;
  const unit = new Map<string, string>();
  let erin: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.session('admin@example.com');
    const em = t.running.orm.em.fork();
    for (const u of await em.find(BusinessUnit, {})) unit.set(u.name, u.id);
    const support = await em.findOneOrFail(BusinessUnit, { name: 'Support' }, { populate: ['organization'] });
    const user = em.create(User, {
      organization: support.organization,
      email: 'erin@example.com',
      name: 'Erin',
      role: Role.USER,
      createdAt: new Date(),
    });
    user.businessUnits.add(support);
    await em.flush();
    erin = user.id;
    await generateToken(t, 'erin@example.com');
    await generateToken(t, 'alice@example.com');
  });
  afterAll(async () => {
    await t.stop();
  });

  const listed = async (auth: string) =>
    ((await t.gql<{ apiTokens: { edges: { node: { user: { email: string } } }[] } }>(TOKENS, { auth })).body.data?.apiTokens.edges ?? [])
      .map((edge) => edge.node.user.email)
      .sort();

  it('cannot change their own business units, so cannot widen what they read', async () => {
    const self = await userId(t, 'admin@example.com');
    const before = await listed(admin);
    expect(before).toEqual(['alice@example.com']);
    for (const units of [[], [unit.get('Engineering')], [unit.get('Engineering'), unit.get('Finance'), unit.get('Support')]]) {
      const res = await t.gql(UPDATE, { auth: admin, variables: { id: self, input: { businessUnitIds: units } } });
      expectError(res, 'BAD_USER_INPUT', 'input.businessUnitIds');
    }
    expect(await listed(admin)).toEqual(before);
    // Naming the units they already have changes nothing and is allowed.
    const same = await t.gql(UPDATE, {
      auth: admin,
      variables: { id: self, input: { name: 'Ada A.', businessUnitIds: [unit.get('Finance'), unit.get('Engineering')] } },
    });
    expect(same.body.errors).toBeUndefined();
  });

  it('hands out only their own units, and never leaves a user without one', async () => {
    const alice = await userId(t, 'alice@example.com');
    const outside = await t.gql(UPDATE, {
      auth: admin,
      variables: { id: alice, input: { businessUnitIds: [unit.get('Engineering'), unit.get('Support')] } },
    });
    const madeUp = await t.gql(UPDATE, {
      auth: admin,
      variables: { id: alice, input: { businessUnitIds: [unit.get('Engineering'), randomUUID()] } },
    });
    expectError(outside, 'BAD_USER_INPUT', 'input.businessUnitIds');
    expect(outside.body).toEqual(madeUp.body);
    expectError(
      await t.gql(UPDATE, { auth: admin, variables: { id: alice, input: { businessUnitIds: [] } } }),
      'BAD_USER_INPUT',
      'input.businessUnitIds',
    );

    // No unit-less admin, who would read the whole organisation.
    const unitless = await t.gql(CREATE, { auth: admin, variables: { input: { email: 'wide@example.com', name: 'Wide', role: 'ADMIN' } } });
    expectError(unitless, 'BAD_USER_INPUT', 'input.businessUnitIds');
    const elsewhere = await t.gql(CREATE, {
      auth: admin,
      variables: { input: { email: 'wide@example.com', name: 'Wide', businessUnitIds: [unit.get('Support')] } },
    });
    expectError(elsewhere, 'BAD_USER_INPUT', 'input.businessUnitIds');
    expect(await t.running.services.users.findByEmail('wide@example.com')).toBeNull();

    const moved = await t.gql(UPDATE, { auth: admin, variables: { id: alice, input: { businessUnitIds: [unit.get('Finance')] } } });
    expect(moved.body.errors).toBeUndefined();
  });

  it('gets the same answer over graphql-ws as over HTTP for a user outside their units', async () => {
    const http = await t.gql(UPDATE, { auth: admin, variables: { id: erin, input: {} } });
    expectError(http, 'BAD_USER_INPUT', 'id');
    const socket = subscribe(t.url, admin, UPDATE, { id: erin, input: {} });
    await socket.waitFor(1);
    await socket.dispose();
    expect(socket.items).toEqual([]);
    const [error] = socket.errors as { message: string; extensions?: unknown }[];
    expect({ message: error?.message, extensions: error?.extensions }).toEqual({
      message: http.body.errors?.[0]?.message,
      extensions: http.body.errors?.[0]?.extensions,
    });
  });
});

describe('a duplicate email', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('gets one answer whether the address is in the caller’s organisation or another', async () => {
    const globexAdmin = await t.session('admin@globex.example.com');
    const operations = (await t.running.orm.em.fork().findOneOrFail(BusinessUnit, { name: 'Operations' })).id;
    const create = (email: string): Promise<GqlResponse> =>
      t.gql(CREATE, { auth: globexAdmin, variables: { input: { email, name: 'Probe', businessUnitIds: [operations] } } });
    const acmeAddress = await create('alice@example.com');
    const ownAddress = await create('carol@globex.example.com');
    expectError(acmeAddress, 'BAD_USER_INPUT', 'input.email');
    expect(acmeAddress.body).toEqual(ownAddress.body);
    expect(JSON.stringify(acmeAddress.body)).not.toMatch(/exist|acme|example\.com/i);
    expect((await create('new.person@globex.example.com')).body.errors).toBeUndefined();
  });
});
