import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { User } from '../../src/users/user.entity.js';
import { PATCH_OP, scimClient, scimToken } from '../scim/scim-client.js';
import { startOwnRedis, type OwnRedis } from '../support/own-redis.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { errorCode, startTestApp, type TestApp } from '../support/test-app.js';

const ROUNDS_PER_PATH = 8;
const GENERATE_DELAYS_MS = [0, 4, 8, 12, 16, 24, 32, 48];
const GENERATE = 'mutation { generateApiToken { secret token { id } } }';
const DEACTIVATE = 'mutation ($id: ID!) { deactivateUser(id: $id) { id active } }';
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * generateApiToken on one instance races a deactivation on the other, by
 * every path a deactivation takes (each on its own user, the four at once),
 * on one PostgreSQL database with Redis between them. Whichever commits first, nothing issued in the race may work
 * after the user is re-activated, and no "token created" email may follow
 * the deactivation.
 */
describe('generate racing a deactivation, on two instances (PostgreSQL + Redis)', () => {
  let db: TestDatabase;
  let redis: OwnRedis;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await startOwnRedis();
    // Every round changes a token and sends refused credentials on purpose; the limits have tests of their own.
    const shared = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      RATE_LIMIT_TOKEN_CHANGES: '100000/PT1H',
      RATE_LIMIT_AUTH_FAILURES: '100000/PT1M',
      SCIM_RATE_LIMIT: '100000',
    };
    a = await startTestApp(shared, { autoSweep: false });
    b = await startTestApp(shared, { autoSweep: false });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.kill();
    await db?.drop();
  });

  it('leaves no working token or session, and no "created" email after the deactivation', { timeout: 240_000 }, async () => {
    const admin = await a.session('admin@example.com');
    const directoryToken = await scimToken(a, 'Acme');
    const directory = scimClient(a, directoryToken);
    const patchActive = (user: string, active: boolean) =>
      directory('PATCH', `/Users/${user}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active } }] });
    const paths: Record<string, (on: TestApp, user: string, email: string) => Promise<unknown>> = {
      'SCIM PATCH active=false': (_on, user) => patchActive(user, false),
      'SCIM PUT active=false': (on, user, email) =>
        scimClient(on, directoryToken)('PUT', `/Users/${user}`, {
          schemas: [CORE_USER],
          userName: email,
          name: { givenName: 'Race', familyName: 'Runner' },
          active: false,
        }),
      'SCIM DELETE': (on, user) => scimClient(on, directoryToken)('DELETE', `/Users/${user}`),
      'admin deactivateUser': (on, user) => on.gql(DEACTIVATE, { auth: admin, variables: { id: user } }),
    };
    const em = () => a.running.orm.em.fork();
    const outcomes: Record<string, number> = {};

    // Every round races on a user of its own, the four paths at once. A re-activated user's
    // sessions must be issued after the deactivation's bound (iat has whole seconds): a
    // fresh user has no bound, so no round waits for the clock.
    // The directory provisions them all; the admin's users join Engineering (a unit of the admin's), so the admin can see them.
    const groups = await directory(
      'GET',
      `/Groups?filter=${encodeURIComponent('displayName eq "Engineering"')}&excludedAttributes=members`,
    );
    const engineering = String((groups.body?.['Resources'] as { id: string }[] | undefined)?.[0]?.id);
    const userFor = async (path: string, n: number, round: number): Promise<{ user: string; email: string }> => {
      const email = `race${n}-${round}@example.com`;
      const created = await directory('POST', '/Users', { schemas: [CORE_USER], userName: email, name: { formatted: `Race ${n}` } });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const user = String(created.body?.['id']);
      if (!path.startsWith('SCIM')) {
        const joined = await directory('PATCH', `/Groups/${engineering}`, {
          schemas: [PATCH_OP],
          Operations: [{ op: 'add', path: 'members', value: [{ value: user }] }],
        });
        expect(joined.status, JSON.stringify(joined.body)).toBeLessThan(300);
      }
      return { user, email };
    };
    const race = async (path: string, deactivate: (on: TestApp, user: string, email: string) => Promise<unknown>, n: number) => {
      for (let round = 0; round < ROUNDS_PER_PATH; round++) {
        const { user, email } = await userFor(path, n, round);
        const [generator, deactivator] = round % 2 === 0 ? [b, a] : [a, b];
        const session = await generator.session(email);
        // Warm the generator's cache, so the race meets a cached principal.
        expect((await generator.gql('{ me { email } }', { auth: session })).status).toBe(200);
        const startId = (await em().findOne(AuditEvent, { id: { $gt: 0 } }, { orderBy: { id: 'desc' } }))?.id ?? 0;

        // A deactivation takes longer than a generate: holding the generate back by
        // varying amounts lets either side commit first.
        const [generated, deactivated] = await Promise.all([
          sleep(GENERATE_DELAYS_MS[round % GENERATE_DELAYS_MS.length] ?? 0).then(() =>
            generator.gql<{ generateApiToken: { secret: string } }>(GENERATE, { auth: session }),
          ),
          deactivate(deactivator, user, email),
        ]);
        const secret = generated.body.data?.generateApiToken.secret ?? null;
        const outcome = secret ? 'generated, then revoked' : (errorCode(generated) ?? 'none');
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        expect(['generated, then revoked', 'USER_INACTIVE', 'UNAUTHENTICATED'], `${path}: ${JSON.stringify(generated.body)}`).toContain(
          outcome,
        );
        expect(deactivated, path).toBeDefined();
        expect((await em().findOneOrFail(User, user)).active, path).toBe(false);

        expect((await patchActive(user, true)).status, path).toBe(200);
        for (const app of [a, b]) {
          for (const credential of secret ? [session, secret] : [session]) {
            expect((await app.gql('{ me { email } }', { auth: credential })).status, `${path} round ${round}`).toBe(401);
          }
        }
        expect(await em().count(ApiToken, { user }), path).toBe(0);

        const events = await em().find(AuditEvent, { subjectUserId: user, id: { $gt: startId } }, { orderBy: { id: 'asc' } });
        const deactivation = events.find((event) => event.action === 'USER_DEACTIVATED');
        expect(deactivation, path).toBeDefined();
        const createdIds = events.filter((event) => event.action === 'GENERATED').map((event) => event.id);
        expect(createdIds.length, path).toBe(secret ? 1 : 0);
        // Every audit row, and the email written with it, is numbered in the order it was inserted.
        for (const id of createdIds) expect(id, path).toBeLessThan(deactivation?.id ?? 0);
        const mails = await em().find(
          OutboxMessage,
          { auditEvent: { id: { $gt: startId }, subjectUserId: user } },
          { populate: ['auditEvent'], orderBy: { id: 'asc' } },
        );
        const createdMails = mails.filter((mail) => mail.auditEvent?.action === 'GENERATED');
        expect(
          createdMails.map((mail) => mail.auditEvent?.id),
          path,
        ).toEqual(createdIds);
        if (secret) {
          const revoked = events.find((event) => event.action === 'REVOKED');
          expect(revoked?.id ?? 0, path).toBeGreaterThan(deactivation?.id ?? 0);
        }
      }
    };
    await Promise.all(Object.entries(paths).map(([path, deactivate], n) => race(path, deactivate, n)));
    // Which side won varies from run to run; every round ended in one of the allowed outcomes above.
    expect(Object.values(outcomes).reduce((sum, n) => sum + n, 0)).toBe(ROUNDS_PER_PATH * Object.keys(paths).length);
  });
});
