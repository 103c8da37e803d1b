import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { ManualClock } from '../../src/clock.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { BusinessUnit } from '../../src/users/business-unit.entity.js';
import { Organization } from '../../src/users/organization.entity.js';
import { Role } from '../../src/auth/role.js';
import { User } from '../../src/users/user.entity.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startTestApp, type GqlResponse, type TestApp } from '../support/test-app.js';

const DAY = 86_400_000;
const T0 = '2026-03-01T00:00:00.000Z';

/** The same ids on both databases, so their answers can be compared row for row. */
function fixedUuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
/** A token (with its user) or an audit event. */
type Node = { id: string; user?: { id: string; email: string } };

const API_TOKENS = `query ($first: Int, $after: String, $filter: ApiTokenFilter) {
  apiTokens(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id user { id email } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const AUDIT_EVENTS = `query ($first: Int, $after: String) {
  auditEvents(first: $first, after: $after) {
    edges { cursor node { id } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** Who asks, and how the expected answer is worked out from a plain read of every row. */
interface Caller {
  readonly email: string;
  readonly role: Role;
  readonly organization: string | null;
  readonly units: readonly string[];
}

const UNITS = ['U0', 'U1', 'U2', 'U3'];
const CALLERS: Record<string, Caller> = {
  support: { email: 'support@parity-b.example', role: Role.SUPPORT, organization: null, units: [] },
  admin: { email: 'admin-all@parity-a.example', role: Role.ADMIN, organization: 'Parity A', units: [] },
  scoped: { email: 'admin-u0u1@parity-a.example', role: Role.ADMIN, organization: 'Parity A', units: ['U0', 'U1'] },
  narrow: { email: 'admin-u2@parity-a.example', role: Role.ADMIN, organization: 'Parity A', units: ['U2'] },
};

/** Every listing question: caller and filter. */
const TOKEN_CASES: readonly { caller: keyof typeof CALLERS; unit?: string; within?: number }[] = [
  { caller: 'support' },
  { caller: 'support', unit: 'U1' },
  { caller: 'support', within: 10 },
  { caller: 'admin' },
  { caller: 'admin', unit: 'U3', within: 20 },
  { caller: 'scoped' },
  { caller: 'scoped', unit: 'U1' },
  { caller: 'scoped', unit: 'U3' },
  { caller: 'narrow' },
  { caller: 'narrow', unit: 'U0' },
];

const answers = new Map<string, Map<string, (string | undefined)[]>>();

describe.each(['sqlite', 'postgresql'] as const)('keyset listings on %s', (kind) => {
  const clock = new ManualClock(T0);
  let db: TestDatabase | null = null;
  let t: TestApp;
  const unitIds = new Map<string, string>();
  const mine = new Map<string, (string | undefined)[]>();
  answers.set(kind, mine);

  beforeAll(async () => {
    db = kind === 'postgresql' ? await createTestDatabase() : null;
    t = await startTestApp({ TOKEN_LIFETIME: 'P60D', ...(db ? { DATABASE_URL: db.url } : {}) }, { clock, autoSweep: false });
    const em = t.running.orm.em.fork();
    const now = clock.now();
    const a = em.create(Organization, { id: fixedUuid('org a'), name: 'Parity A', createdAt: now });
    const b = em.create(Organization, { id: fixedUuid('org b'), name: 'Parity B', createdAt: now });
    const units = UNITS.map((name) => em.create(BusinessUnit, { id: fixedUuid(name), organization: a, name, createdAt: now }));
    for (const unit of units) unitIds.set(unit.name, unit.id);
    const other = em.create(BusinessUnit, { id: fixedUuid('V0'), organization: b, name: 'V0', createdAt: now });
    const users: User[] = [];
    // 60 users of A in overlapping units (some in none), vendor staff filed under A, and 12 users of B.
    for (let i = 0; i < 72; i++) {
      const inA = i < 60;
      const role = i % 17 === 0 ? Role.SUPPORT : i % 11 === 0 ? Role.ADMIN : Role.USER;
      const user = em.create(User, {
        id: fixedUuid(`user ${i}`),
        organization: inA ? a : b,
        email: `p${i}@parity-${inA ? 'a' : 'b'}.example`,
        name: `P ${i}`,
        role,
        // Out of id order, so SCIM's order by creation is not the key order.
        createdAt: new Date(now.getTime() - (i % 5) * 60_000),
      });
      if (!inA) user.businessUnits.add(other);
      else if (i % 13 !== 0) {
        user.businessUnits.add(units[i % 4] as BusinessUnit);
        if (i % 5 === 0) user.businessUnits.add(units[(i + 2) % 4] as BusinessUnit);
      }
      users.push(user);
      if (i % 9 === 0) continue;
      // Spread over 40 days; every seventh already past its expiry but not yet swept.
      const expiresAt = new Date(now.getTime() + (i % 7 === 0 ? -DAY : ((i * 3) % 40) * DAY + DAY));
      em.create(ApiToken, {
        id: fixedUuid(`token ${i}`),
        user,
        digest: createHash('sha256').update(`secret ${i}`).digest('hex'),
        hint: `h${i}`,
        createdAt: now,
        expiresAt,
        createdRegion: 'eu-west',
      });
    }
    for (const caller of Object.values(CALLERS)) {
      const user = em.create(User, {
        id: fixedUuid(caller.email),
        organization: caller.organization === 'Parity A' ? a : b,
        email: caller.email,
        name: caller.email,
        role: caller.role,
        createdAt: now,
      });
      for (const unit of caller.units) user.businessUnits.add(units[UNITS.indexOf(unit)] as BusinessUnit);
    }
    await em.flush();
    // Events about users of both organisations, and each organisation's own, interleaved.
    for (let i = 0; i < 150; i++) {
      const subject = i % 6 === 0 ? null : users[(i * 7) % users.length];
      em.create(AuditEvent, {
        occurredAt: now,
        action: subject ? 'USER_UPDATED' : 'BUSINESS_UNIT_UPDATED',
        actorKind: 'system',
        actorLabel: 'system',
        subjectUserId: subject?.id ?? null,
        organizationId: subject ? subject.organization.id : i % 12 === 0 ? a.id : b.id,
        region: 'eu-west',
      });
    }
    await em.flush();
  });
  afterAll(async () => {
    await t?.stop();
    await db?.drop();
  });

  /** Who `caller` may see, from a plain read of every user: the rule in src/admin/scope.ts, restated. */
  async function visibleUsers(caller: Caller): Promise<Set<string>> {
    const all = await t.running.orm.em.fork().find(User, {}, { populate: ['businessUnits', 'organization'] });
    const units = caller.units.map((name) => unitIds.get(name));
    return new Set(
      all
        .filter((user) => {
          if (caller.role === Role.SUPPORT) return true;
          if (user.organization.name !== caller.organization || user.role === Role.SUPPORT) return false;
          return units.length === 0 || user.businessUnits.getItems().some((unit) => units.includes(unit.id));
        })
        .map((user) => user.id),
    );
  }

  async function walk(query: string, email: string, variables: Record<string, unknown>, first: number) {
    const auth = await t.session(email);
    const nodes: Node[] = [];
    const cursors: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const res: GqlResponse<Record<string, Page<Node>>> = await t.gql(query, { auth, variables: { ...variables, first, after } });
      expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
      const page = Object.values(res.body.data ?? {})[0];
      if (!page) throw new Error('no page');
      nodes.push(...page.edges.map((edge) => edge.node));
      cursors.push(...page.edges.map((edge) => edge.cursor));
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
      if (!page.pageInfo.hasNextPage) return { nodes, cursors };
      expect(page.edges).toHaveLength(first);
      after = page.pageInfo.endCursor;
    }
    throw new Error('more than 100 pages');
  }

  it.each(TOKEN_CASES)(
    'apiTokens for $caller (unit $unit, within $within days): every page, in key order',
    async ({ caller, unit, within }) => {
      const who = CALLERS[caller] as Caller;
      const now = clock.now();
      const visible = await visibleUsers(who);
      const unitId = unit === undefined ? null : (unitIds.get(unit) ?? null);
      const tokens = await t.running.orm.em.fork().find(ApiToken, {}, { populate: ['user.businessUnits'] });
      const expected = tokens
        .filter((token) => visible.has(token.user.id) && token.expiresAt > now)
        .filter((token) => within === undefined || token.expiresAt.getTime() <= now.getTime() + within * DAY)
        .filter((token) => unitId === null || token.user.businessUnits.getItems().some((each) => each.id === unitId))
        .map((token) => token.user.id)
        .sort();
      expect(expected.length).toBeGreaterThan(unit === undefined && within === undefined ? 3 : 1);
      const filter = { ...(unitId ? { businessUnitId: unitId } : {}), ...(within ? { expiringWithin: `P${within}D` } : {}) };
      const { nodes, cursors } = await walk(API_TOKENS, who.email, { filter }, 4);
      expect(nodes.map((node) => node.user?.id)).toEqual(expected);
      // A deep page, started from a cursor of the walk, is the rest of the same list.
      const from = Math.floor(expected.length / 2);
      const res = await t.gql<{ apiTokens: Page<Node> }>(API_TOKENS, {
        auth: await t.session(who.email),
        variables: { filter, first: 3, after: cursors[from - 1] },
      });
      expect(res.body.data?.apiTokens.edges.map((edge) => edge.node.user?.id)).toEqual(expected.slice(from, from + 3));
      mine.set(
        `tokens ${caller} ${unit} ${within}`,
        nodes.map((node) => node.user?.email),
      );
    },
  );

  it.each(Object.keys(CALLERS))('auditEvents for %s: every page, newest first', async (caller) => {
    const who = CALLERS[caller] as Caller;
    const visible = await visibleUsers(who);
    const organization = who.organization
      ? (await t.running.orm.em.fork().findOneOrFail(Organization, { name: who.organization })).id
      : null;
    const events = await t.running.orm.em.fork().find(AuditEvent, {}, { orderBy: { id: 'desc' } });
    const expected = events
      .filter((event) =>
        who.role === Role.SUPPORT
          ? true
          : event.subjectUserId === null
            ? event.organizationId === organization
            : visible.has(event.subjectUserId),
      )
      .map((event) => String(event.id));
    const { nodes } = await walk(AUDIT_EVENTS, who.email, {}, 9);
    expect(nodes.map((node) => node.id)).toEqual(expected);
    mine.set(
      `events ${caller}`,
      nodes.map((node) => node.id),
    );
  });

  it('SCIM /Users: every page by startIndex, in creation order, deep pages included', async () => {
    const issued = await t.running.scim.issue('Parity A');
    const scim = async (path: string) => {
      const res = await fetch(new URL(`/scim/v2${path}`, t.url), { headers: { authorization: `Bearer ${issued?.secret ?? ''}` } });
      expect(res.status).toBe(200);
      return (await res.json()) as { totalResults: number; Resources: { id: string; groups: { value: string }[] }[] };
    };
    const all = await t.running.orm.em
      .fork()
      .find(
        User,
        { organization: { name: 'Parity A' }, role: { $ne: Role.SUPPORT } },
        { populate: ['businessUnits'], orderBy: { createdAt: 'asc', id: 'asc' } },
      );
    const seen: string[] = [];
    for (let start = 1; start <= all.length; start += 7) {
      const page = await scim(`/Users?startIndex=${start}&count=7`);
      expect(page.totalResults).toBe(all.length);
      seen.push(...page.Resources.map((user) => user.id));
      for (const user of page.Resources) {
        const units = all
          .find((each) => each.id === user.id)
          ?.businessUnits.getItems()
          .map((unit) => unit.id);
        expect(user.groups.map((group) => group.value).sort()).toEqual(units?.sort());
      }
    }
    expect(seen).toEqual(all.map((user) => user.id));
    mine.set('scim users', seen);
  });
});

describe('SQLite and PostgreSQL', () => {
  it('gave the same answers to every listing, in the same order', () => {
    const sqlite = answers.get('sqlite');
    const postgresql = answers.get('postgresql');
    expect(sqlite?.size).toBe(TOKEN_CASES.length + Object.keys(CALLERS).length + 1);
    expect(postgresql && Object.fromEntries(postgresql)).toEqual(sqlite && Object.fromEntries(sqlite));
  });
});
