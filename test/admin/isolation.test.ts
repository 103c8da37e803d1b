import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { BusinessUnit } from '../../src/users/business-unit.entity.js';
import { Role } from '../../src/auth/role.js';
import { User } from '../../src/users/user.entity.js';
import { startTestApp, type GqlResponse, type TestApp } from '../support/test-app.js';
import { generateToken, userId } from './admin-helpers.js';

/** Ids an operation can aim at: another organisation's, or ones that exist nowhere. */
interface Target {
  readonly userId: string;
  readonly businessUnitId: string;
}

interface Row {
  readonly type: 'Query' | 'Mutation';
  readonly field: string;
  readonly query: string;
  /** `own` is a user of the caller's organisation (Acme). */
  readonly variables: (target: Target, own: { userId: string }) => Record<string, unknown>;
  /**
   * `no-such`: the operation names the target; an Acme ADMIN must get exactly
   * the answer an unknown id gets. `own-only`: it names no id; it must work
   * on Acme alone and mention nothing of Globex.
   */
  readonly admin: 'no-such' | 'own-only';
  /** What a USER gets; a USER may read their own audit trail. */
  readonly user: 'FORBIDDEN' | 'own';
}

let counter = 0;
const unique = () => `probe${++counter}`;

/** Every admin and support operation of the schema; the last test fails when one is missing here. */
const ROWS: readonly Row[] = [
  {
    type: 'Query',
    field: 'apiTokens',
    query: 'query ($bu: ID) { apiTokens(filter: { businessUnitId: $bu }) { edges { node { id user { id email } } } } }',
    variables: (t) => ({ bu: t.businessUnitId }),
    admin: 'no-such',
    user: 'FORBIDDEN',
  },
  {
    type: 'Query',
    field: 'apiTokens',
    query: '{ apiTokens(first: 100) { edges { node { id hint user { id email } } } } }',
    variables: () => ({}),
    admin: 'own-only',
    user: 'FORBIDDEN',
  },
  {
    type: 'Query',
    field: 'auditEvents',
    query: 'query ($id: ID) { auditEvents(userId: $id) { edges { node { id action subjectUserId organizationId } } } }',
    variables: (t) => ({ id: t.userId }),
    admin: 'no-such',
    user: 'FORBIDDEN',
  },
  {
    type: 'Query',
    field: 'auditEvents',
    query: '{ auditEvents(first: 100) { edges { node { id action actor subjectUserId organizationId } } } }',
    variables: () => ({}),
    admin: 'own-only',
    user: 'own',
  },
  {
    type: 'Mutation',
    field: 'createBusinessUnit',
    query: 'mutation ($name: String!) { createBusinessUnit(name: $name) { id name } }',
    variables: () => ({ name: unique() }),
    admin: 'own-only',
    user: 'FORBIDDEN',
  },
  {
    type: 'Mutation',
    field: 'createUser',
    query: 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }',
    variables: (t) => ({ input: { email: `${unique()}@example.com`, name: 'Probe', businessUnitIds: [t.businessUnitId] } }),
    admin: 'no-such',
    user: 'FORBIDDEN',
  },
  {
    type: 'Mutation',
    field: 'updateUser',
    query: 'mutation ($id: ID!) { updateUser(id: $id, input: { role: ADMIN, name: "Taken over" }) { id role } }',
    variables: (t) => ({ id: t.userId }),
    admin: 'no-such',
    user: 'FORBIDDEN',
  },
  {
    type: 'Mutation',
    field: 'updateUser',
    query: 'mutation ($bu: ID!, $id: ID!) { updateUser(id: $id, input: { businessUnitIds: [$bu] }) { id } }',
    // Aimed at an Acme user, with another organisation's business unit.
    variables: (t, own) => ({ bu: t.businessUnitId, id: own.userId }),
    admin: 'no-such',
    user: 'FORBIDDEN',
  },
  {
    type: 'Mutation',
    field: 'deactivateUser',
    query: 'mutation ($id: ID!) { deactivateUser(id: $id) { id active } }',
    variables: (t) => ({ id: t.userId }),
    admin: 'no-such',
    user: 'FORBIDDEN',
  },
  {
    type: 'Mutation',
    field: 'setApiTokenAccess',
    query: 'mutation ($id: ID!) { setApiTokenAccess(userId: $id, enabled: false, reason: "probe") { id apiTokensEnabled } }',
    variables: (t) => ({ id: t.userId }),
    admin: 'no-such',
    user: 'FORBIDDEN',
  },
  {
    type: 'Mutation',
    field: 'revokeUserApiToken',
    query: 'mutation ($id: ID!) { revokeUserApiToken(userId: $id, reason: "probe") { tokenId } }',
    variables: (t) => ({ id: t.userId }),
    admin: 'no-such',
    user: 'FORBIDDEN',
  },
];

/** Operations every signed-in user has on their own account; not admin operations. */
const SELF_SERVICE = new Set([
  'me',
  'myApiToken',
  'apiTokenPolicy',
  'latestApiTokenEventId',
  'generateApiToken',
  'regenerateApiToken',
  'revokeApiToken',
]);

describe('cross-organisation isolation of every admin operation', () => {
  let t: TestApp;
  let acmeAdmin: string;
  let acmeUser: string;
  let globex: Target;
  let globexIds: string[];
  let acmeBob: string;
  /** An Acme user outside every business unit of the Acme ADMIN (who is in Engineering and Finance). */
  let outOfScope: Target;
  let outOfScopeIds: string[];

  beforeAll(async () => {
    t = await startTestApp();
    acmeAdmin = await t.session('admin@example.com');
    acmeUser = await t.session('alice@example.com');
    acmeBob = await userId(t, 'bob@example.com');
    // Globex has something to reach for: a token, and audit events.
    await generateToken(t, 'carol@globex.example.com');
    await generateToken(t, 'admin@globex.example.com');
    await generateToken(t, 'alice@example.com');
    const em = t.running.orm.em.fork();
    const operations = await em.findOneOrFail(BusinessUnit, { name: 'Operations' }, { populate: ['organization'] });
    globex = { userId: await userId(t, 'carol@globex.example.com'), businessUnitId: operations.id };
    const globexUsers = await em.find(User, { organization: operations.organization.id });
    globexIds = [operations.organization.id, operations.id, ...globexUsers.flatMap((user) => [user.id, user.email])];

    const supportUnit = await em.findOneOrFail(BusinessUnit, { name: 'Support' }, { populate: ['organization'] });
    const erin = em.create(User, {
      organization: supportUnit.organization,
      email: 'erin@example.com',
      name: 'Erin Elsewhere',
      role: Role.USER,
      createdAt: new Date(),
    });
    erin.businessUnits.add(supportUnit);
    await em.flush();
    await generateToken(t, 'erin@example.com');
    // Units stay Globex's: an Acme unit outside the admin's own is covered in test/admin/admin-scope.test.ts.
    outOfScope = { userId: erin.id, businessUnitId: operations.id };
    outOfScopeIds = [erin.id, erin.email];
  });
  afterAll(async () => {
    await t.stop();
  });

  async function snapshotOfGlobex(): Promise<unknown> {
    const em = t.running.orm.em.fork();
    const organization = globexIds[0] ?? '';
    const users = await em.find(User, { organization }, { populate: ['businessUnits'], orderBy: { id: 'asc' } });
    return {
      users: users.map((u) => ({
        ...{ id: u.id, email: u.email, name: u.name, role: u.role, active: u.active },
        ...{ enabled: u.apiTokensEnabled, reason: u.apiTokensDisabledReason },
        units: u.businessUnits.getItems().map((unit) => unit.id),
      })),
      units: (await em.find(BusinessUnit, { organization }, { orderBy: { id: 'asc' } })).map((u) => [u.id, u.name]),
      tokens: (await em.find(ApiToken, { user: { organization } }, { orderBy: { id: 'asc' } })).map((tk) => [tk.id, tk.digest]),
      audit: await em.count(AuditEvent, { organizationId: organization }),
    };
  }

  async function snapshotOfUser(id: string): Promise<unknown> {
    const em = t.running.orm.em.fork();
    const user = await em.findOneOrFail(User, id, { populate: ['businessUnits'] });
    return {
      ...{ email: user.email, name: user.name, role: user.role, active: user.active, enabled: user.apiTokensEnabled },
      units: user.businessUnits.getItems().map((unit) => unit.id),
      tokens: (await em.find(ApiToken, { user: id })).map((tk) => tk.digest),
      audit: await em.count(AuditEvent, { subjectUserId: id }),
    };
  }

  function run(row: Row, auth: string, target: Target): Promise<GqlResponse> {
    return t.gql(row.query, { auth, variables: row.variables(target, { userId: acmeBob }) });
  }

  const random = (): Target => ({ userId: randomUUID(), businessUnitId: randomUUID() });

  it.each(ROWS.map((row) => [`${row.type}.${row.field} (${row.admin})`, row] as const))(
    '%s: an Acme ADMIN cannot reach Globex',
    async (_name, row) => {
      const before = await snapshotOfGlobex();
      const intoGlobex = await run(row, acmeAdmin, globex);
      const intoNothing = await run(row, acmeAdmin, random());
      if (row.admin === 'no-such') {
        expect(intoGlobex.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        // Exactly the same answer: nothing tells a real Globex id from a made-up one.
        expect(intoGlobex.status).toBe(intoNothing.status);
        expect(intoGlobex.body).toEqual(intoNothing.body);
      } else {
        expect(intoGlobex.body.errors).toBeUndefined();
        const text = JSON.stringify(intoGlobex.body);
        for (const id of globexIds) expect(text).not.toContain(id);
      }
      expect(await snapshotOfGlobex()).toEqual(before);
    },
  );

  it.each(ROWS.map((row) => [`${row.type}.${row.field} (${row.admin})`, row] as const))(
    '%s: an Acme ADMIN cannot reach an Acme user outside their business units',
    async (_name, row) => {
      const before = await snapshotOfUser(outOfScope.userId);
      const intoOtherUnit = await run(row, acmeAdmin, outOfScope);
      const intoNothing = await run(row, acmeAdmin, random());
      if (row.admin === 'no-such') {
        expect(intoOtherUnit.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect(intoOtherUnit.status).toBe(intoNothing.status);
        expect(intoOtherUnit.body).toEqual(intoNothing.body);
      } else {
        expect(intoOtherUnit.body.errors).toBeUndefined();
        const text = JSON.stringify(intoOtherUnit.body);
        for (const id of outOfScopeIds) expect(text).not.toContain(id);
      }
      expect(await snapshotOfUser(outOfScope.userId)).toEqual(before);
    },
  );

  it('answers updateUser with an empty input for an out-of-scope user exactly as for a made-up id', async () => {
    const query = 'mutation ($id: ID!) { updateUser(id: $id, input: {}) { id email businessUnits { id } } }';
    const outside = await t.gql(query, { auth: acmeAdmin, variables: { id: outOfScope.userId } });
    const nothing = await t.gql(query, { auth: acmeAdmin, variables: { id: randomUUID() } });
    expect(outside.body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'id' });
    expect(outside.body).toEqual(nothing.body);
  });

  it.each(ROWS.map((row) => [`${row.type}.${row.field} (${row.admin})`, row] as const))('%s: a USER gets FORBIDDEN', async (_name, row) => {
    const before = await snapshotOfGlobex();
    for (const target of [globex, random()]) {
      const res = await run(row, acmeUser, target);
      if (row.user === 'FORBIDDEN') {
        expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        expect(res.body.data ?? null).toBeNull();
      } else {
        const alice = await userId(t, 'alice@example.com');
        const nodes = (res.body.data as { auditEvents: { edges: { node: { subjectUserId: string } }[] } }).auditEvents.edges;
        expect(nodes.length).toBeGreaterThan(0);
        expect(nodes.every((edge) => edge.node.subjectUserId === alice)).toBe(true);
      }
    }
    expect(await snapshotOfGlobex()).toEqual(before);
  });

  it('has a row for every admin operation of the schema', async () => {
    const res = await t.gql<{ __schema: { queryType: { fields: { name: string }[] }; mutationType: { fields: { name: string }[] } } }>(
      '{ __schema { queryType { fields { name } } mutationType { fields { name } } } }',
      { auth: acmeAdmin },
    );
    const schema = res.body.data?.__schema;
    if (!schema) throw new Error('schema introspection failed');
    const inSchema = [
      ...schema.queryType.fields.map((f) => `Query.${f.name}`),
      ...schema.mutationType.fields.map((f) => `Mutation.${f.name}`),
    ].filter((name) => !SELF_SERVICE.has(name.split('.')[1] ?? ''));
    const covered = new Set(ROWS.map((row) => `${row.type}.${row.field}`));
    // A new operation must get a row here (or, if every user has it on their own account, join SELF_SERVICE).
    expect([...new Set(inSchema)].sort()).toEqual([...covered].sort());
  });
});
