import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { errorCode, startTestApp, type TestApp } from '../support/test-app.js';

const GENERATE = 'mutation { generateApiToken { secret token { id } } }';
const REGENERATE = 'mutation { regenerateApiToken { secret token { id } } }';
/** These tests race one user's requests on purpose: lift the per-user budget above the burst. */
const BURST = { RATE_LIMIT_TOKEN_CHANGES: '1000/PT1H' };

/** Runs the one-token-per-user rules against whichever database `setup` provides. */
function oneTokenPerUser(kind: string, setup: () => Promise<{ t: TestApp; cleanup: () => Promise<void> }>): void {
  describe(`one token per user under concurrency (${kind})`, () => {
    let t: TestApp;
    let cleanup: () => Promise<void> = async () => {};
    beforeAll(async () => {
      ({ t, cleanup } = await setup());
    });
    afterAll(async () => {
      await cleanup();
    });

    it('20 concurrent generateApiToken: exactly one success, 19 API_TOKEN_EXISTS, one row', async () => {
      const auth = await t.session('alice@example.com');
      const results = await Promise.all(Array.from({ length: 20 }, () => t.gql(GENERATE, { auth })));

      expect(results.map((r) => r.status).filter((s) => s >= 500)).toEqual([]);
      const codes = results.map((r) => errorCode(r) ?? 'OK');
      expect(codes.filter((c) => c === 'OK')).toHaveLength(1);
      expect(codes.filter((c) => c === 'API_TOKEN_EXISTS')).toHaveLength(19);

      const em = t.running.orm.em.fork();
      const alice = await t.running.services.users.findByEmail('alice@example.com');
      expect(await em.count(ApiToken, { user: alice?.id })).toBe(1);
      expect(await em.count(AuditEvent, { subjectUserId: alice?.id, action: 'GENERATED' })).toBe(1);

      // The winner's token is the one stored, and it works.
      const winner = results.find((r) => !r.body.errors)?.body.data as { generateApiToken: { secret: string } } | undefined;
      const me = await t.gql<{ me: { email: string } }>('{ me { email } }', { auth: winner?.generateApiToken.secret });
      expect(me.body.data?.me.email).toBe('alice@example.com');
    });

    it('10 concurrent regenerateApiToken never leave two rows or answer 500', async () => {
      const auth = await t.session('bob@example.com');
      expect((await t.gql(GENERATE, { auth })).body.errors).toBeUndefined();

      const results = await Promise.all(Array.from({ length: 10 }, () => t.gql(REGENERATE, { auth })));
      expect(results.map((r) => r.status).filter((s) => s >= 500)).toEqual([]);
      const codes = results.map((r) => errorCode(r) ?? 'OK');
      expect(codes.filter((c) => c === 'OK').length).toBeGreaterThanOrEqual(1);
      // A regenerate that lost the race is told the token it meant to replace is gone, or that one exists.
      for (const code of codes) expect(['OK', 'API_TOKEN_NOT_FOUND', 'API_TOKEN_EXISTS']).toContain(code);

      const bob = await t.running.services.users.findByEmail('bob@example.com');
      const rows = await t.running.orm.em.fork().find(ApiToken, { user: bob?.id });
      expect(rows).toHaveLength(1);
      // The stored token is the one the last successful regenerate returned: its secret works, all others fail.
      const secrets = results.flatMap((r) => {
        const data = r.body.data as { regenerateApiToken: { secret: string; token: { id: string } } } | null | undefined;
        return data ? [data.regenerateApiToken] : [];
      });
      const live = secrets.filter((s) => s.token.id === rows[0]?.id);
      expect(live).toHaveLength(1);
      for (const { secret, token } of secrets) {
        const res = await t.gql('{ me { email } }', { auth: secret });
        expect(res.status, token.id).toBe(token.id === rows[0]?.id ? 200 : 401);
      }
    });
  });
}

oneTokenPerUser('SQLite', async () => {
  const t = await startTestApp(BURST);
  return { t, cleanup: () => t.stop() };
});

oneTokenPerUser('PostgreSQL', async () => {
  const db: TestDatabase = await createTestDatabase();
  const t = await startTestApp({ ...BURST, DATABASE_URL: db.url });
  return {
    t,
    cleanup: async () => {
      await t.stop();
      await db.drop();
    },
  };
});
