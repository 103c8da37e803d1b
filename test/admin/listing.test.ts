import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { BusinessUnit } from '../../src/users/business-unit.entity.js';
import { Organization } from '../../src/users/organization.entity.js';
import { Role } from '../../src/auth/role.js';
import { User } from '../../src/users/user.entity.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { expectError, generateToken, userId } from './admin-helpers.js';

const DAY = 86_400_000;

interface TokenNode {
  id: string;
  hint: string;
  expiresAt: string;
  user: { email: string; businessUnits: { name: string }[] };
}
interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
interface EventNode {
  id: string;
  action: string;
  actor: string;
  subjectUserId: string | null;
  organizationId: string | null;
  reason: string | null;
  region: string;
}

const API_TOKENS = `query ($first: Int, $after: String, $filter: ApiTokenFilter) {
  apiTokens(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id hint expiresAt user { email businessUnits { name } } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const AUDIT_EVENTS = `query ($userId: ID, $first: Int, $after: String) {
  auditEvents(userId: $userId, first: $first, after: $after) {
    edges { cursor node { id action actor subjectUserId organizationId reason region } }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe.each(['sqlite', 'postgresql'] as const)('admin listings on %s', (kind) => {
  const clock = new ManualClock('2026-03-01T00:00:00.000Z');
  let db: TestDatabase | null = null;
  let t: TestApp;
  const ids = new Map<string, string>();

  beforeAll(async () => {
    db = kind === 'postgresql' ? await createTestDatabase() : null;
    t = await startTestApp(
      { TOKEN_LIFETIME: 'P30D', REGION: 'eu-west', ...(db ? { DATABASE_URL: db.url } : {}) },
      { clock, autoSweep: false },
    );
    const units = await t.running.orm.em.fork().find(BusinessUnit, {});
    const unit = (name: string) => units.find((u) => u.name === name)?.id ?? '';
    for (const name of ['Engineering', 'Finance', 'Support', 'Operations']) ids.set(name, unit(name));
    // An organisation-wide admin (no business units), as a bootstrap makes one: an
    // admin with units may neither create a unit-less user nor hand out units they lack.
    const em = t.running.orm.em.fork();
    const acme = await em.findOneOrFail(Organization, { name: 'Acme' });
    em.create(User, { organization: acme, email: 'admin2@example.com', name: 'Admin Two', role: Role.ADMIN, createdAt: clock.now() });
    await em.flush();
    const admin = await t.session('admin2@example.com');

    // Alice also joins Support: a user in a unit admin@example.com lacks, sharing another.
    await t.gql('mutation ($id: ID!, $units: [ID!]) { updateUser(id: $id, input: { businessUnitIds: $units }) { id } }', {
      auth: admin,
      variables: { id: await userId(t, 'alice@example.com'), units: [unit('Engineering'), unit('Support')] },
    });
    await generateToken(t, 'alice@example.com');
    clock.advance(10 * DAY);
    for (const email of ['bob@example.com', 'carol@globex.example.com', 'support@example.com']) await generateToken(t, email);
    const create = 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }';
    await t.gql(create, { auth: admin, variables: { input: { email: 'dave@example.com', name: 'Dave (no unit)' } } });
    await generateToken(t, 'dave@example.com');
    await t.gql('mutation { createBusinessUnit(name: "Sales") { id } }', { auth: await t.session('admin2@example.com') });
  });
  afterAll(async () => {
    await t.stop();
    await db?.drop();
  });

  async function tokens(email: string, variables: Record<string, unknown> = {}) {
    const res = await t.gql<{ apiTokens: Page<TokenNode> }>(API_TOKENS, { auth: await t.session(email), variables });
    expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
    return res.body.data?.apiTokens ?? { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };
  }
  const owners = (page: Page<TokenNode>) => page.edges.map((e) => e.node.user.email).sort();

  it('lists each caller’s scope: SUPPORT all, ADMIN their organisation within their business units', async () => {
    expect(owners(await tokens('support@example.com'))).toEqual([
      'alice@example.com',
      'bob@example.com',
      'carol@globex.example.com',
      'dave@example.com',
      'support@example.com',
    ]);
    // Engineering and Finance: Dave has no unit; support staff are never in a tenant admin's view.
    expect(owners(await tokens('admin@example.com'))).toEqual(['alice@example.com', 'bob@example.com']);
    // An admin without units sees the whole organisation.
    expect(owners(await tokens('admin2@example.com'))).toEqual(['alice@example.com', 'bob@example.com', 'dave@example.com']);
    expect(owners(await tokens('admin@globex.example.com'))).toEqual(['carol@globex.example.com']);
  });

  it('filters by business unit and by time to expiry', async () => {
    const support = await tokens('admin@example.com', { filter: { businessUnitId: ids.get('Support') } });
    expect(support.edges.map((e) => e.node.user)).toEqual([
      { email: 'alice@example.com', businessUnits: expect.arrayContaining([{ name: 'Engineering' }, { name: 'Support' }]) },
    ]);
    expect(owners(await tokens('support@example.com', { filter: { businessUnitId: ids.get('Finance') } }))).toEqual(['bob@example.com']);
    // Alice's token was made ten days earlier: 20 days left, the others 30.
    expect(owners(await tokens('support@example.com', { filter: { expiringWithin: 'P25D' } }))).toEqual(['alice@example.com']);
    expect(await tokens('support@example.com', { filter: { expiringWithin: 'PT1H' } })).toMatchObject({ edges: [] });
    expect(owners(await tokens('support@example.com', { filter: { expiringWithin: 'P30D' } }))).toHaveLength(5);
    expect(
      owners(await tokens('admin@example.com', { filter: { expiringWithin: 'P25D', businessUnitId: ids.get('Engineering') } })),
    ).toEqual(['alice@example.com']);
  });

  it('pages with opaque cursors until hasNextPage is false', async () => {
    const all = await tokens('support@example.com', { first: 100 });
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: Page<TokenNode> = await tokens('support@example.com', { first: 2, after });
      seen.push(...page.edges.map((e) => e.node.id));
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
      if (!page.pageInfo.hasNextPage) break;
      expect(page.edges).toHaveLength(2);
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(all.edges.map((e) => e.node.id));
    expect(new Set(seen).size).toBe(5);
  });

  it('refuses bad paging and filter input with BAD_USER_INPUT naming the field', async () => {
    const auth = await t.session('support@example.com');
    const admin = await t.session('admin@example.com');
    const cases: [string, Record<string, unknown>, string][] = [
      [auth, { first: 0 }, 'first'],
      [auth, { first: 101 }, 'first'],
      [auth, { after: 'not a cursor!' }, 'after'],
      [auth, { after: Buffer.from('hello').toString('base64url') }, 'after'],
      [auth, { filter: { expiringWithin: 'soon' } }, 'filter.expiringWithin'],
      [auth, { filter: { expiringWithin: 'P1M' } }, 'filter.expiringWithin'],
      [auth, { filter: { businessUnitId: 'nope' } }, 'filter.businessUnitId'],
      [admin, { filter: { businessUnitId: ids.get('Operations') } }, 'filter.businessUnitId'],
    ];
    for (const [who, variables, field] of cases) {
      expectError(await t.gql(API_TOKENS, { auth: who, variables }), 'BAD_USER_INPUT', field);
    }
    expectError(await t.gql(AUDIT_EVENTS, { auth, variables: { after: 'MA' } }), 'BAD_USER_INPUT', 'after');
  });

  it('shows token metadata and the user, never anything that could be the secret', async () => {
    const res = await t.gql<{ __type: { fields: { name: string }[] } }>('{ __type(name: "ManagedApiToken") { fields { name } } }', {
      auth: await t.session('support@example.com'),
    });
    expect(res.body.data?.__type.fields.map((f) => f.name).sort()).toEqual(
      ['createdAt', 'expiresAt', 'hint', 'id', 'lastUsedAddress', 'lastUsedAt', 'lastUsedRegion', 'user'].sort(),
    );
  });

  async function events(email: string, variables: Record<string, unknown> = {}) {
    const res = await t.gql<{ auditEvents: Page<EventNode> }>(AUDIT_EVENTS, { auth: await t.session(email), variables });
    expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
    return res.body.data?.auditEvents.edges.map((e) => e.node) ?? [];
  }

  it('shows a USER their own audit trail, newest first, and nobody else’s', async () => {
    const alice = await userId(t, 'alice@example.com');
    const own = await events('alice@example.com', { first: 100 });
    expect(own.map((e) => e.action)).toEqual(['GENERATED', 'USER_UPDATED']);
    expect(own.every((e) => e.subjectUserId === alice)).toBe(true);
    expect(own[1]).toMatchObject({ actor: 'admin2@example.com', region: 'eu-west', reason: expect.stringContaining('Support') });
    expect(await events('alice@example.com', { userId: alice })).toEqual(own);
    expectError(
      await t.gql(AUDIT_EVENTS, { auth: await t.session('alice@example.com'), variables: { userId: await userId(t, 'bob@example.com') } }),
      'FORBIDDEN',
    );

    const paged: EventNode[] = [];
    let after: string | null = null;
    do {
      const res: { body: { data?: { auditEvents: Page<EventNode> } | null } } = await t.gql(AUDIT_EVENTS, {
        auth: await t.session('alice@example.com'),
        variables: { first: 1, after },
      });
      const page = res.body.data?.auditEvents;
      if (!page) throw new Error('no page');
      paged.push(...page.edges.map((e) => e.node));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after !== null);
    expect(paged).toEqual(own);
  });

  it('shows an ADMIN the trail of the users they can see and their organisation’s own events', async () => {
    const alice = await userId(t, 'alice@example.com');
    const bob = await userId(t, 'bob@example.com');
    const dave = await userId(t, 'dave@example.com');
    const support = await userId(t, 'support@example.com');
    const carol = await userId(t, 'carol@globex.example.com');
    const narrowed = await events('admin@example.com', { first: 100 });
    const subjects = new Set(narrowed.map((e) => e.subjectUserId));
    expect(subjects).toEqual(new Set([alice, bob, null]));
    expect(narrowed.find((e) => e.subjectUserId === null)).toMatchObject({ action: 'BUSINESS_UNIT_CREATED', actor: 'admin2@example.com' });
    expectError(
      await t.gql(AUDIT_EVENTS, { auth: await t.session('admin@example.com'), variables: { userId: dave } }),
      'BAD_USER_INPUT',
      'userId',
    );

    const whole = new Set((await events('admin2@example.com', { first: 100 })).map((e) => e.subjectUserId));
    expect(whole.has(dave)).toBe(true);
    expect(whole.has(support)).toBe(false);
    expect(whole.has(carol)).toBe(false);

    const everything = new Set((await events('support@example.com', { first: 100 })).map((e) => e.subjectUserId));
    expect([carol, support, dave, alice].every((id) => everything.has(id))).toBe(true);
    expect((await events('support@example.com', { userId: carol })).map((e) => e.subjectUserId)).toEqual([carol]);
  });

  it('does not list a token past its expiry, even before the sweeper deletes it', async () => {
    clock.advance(21 * DAY);
    expect(owners(await tokens('support@example.com'))).not.toContain('alice@example.com');
    expect(owners(await tokens('support@example.com'))).toHaveLength(4);
  });
});
