import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/postgres.js';
import { startTestApp, type TestApp } from './support/test-app.js';

describe('smoke on postgres', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp({ DATABASE_URL: db.url });
  });
  afterAll(async () => {
    await t.stop();
    await db.drop();
  });

  it('answers me for a session', async () => {
    const res = await t.gql<{ me: { email: string } }>('{ me { email } }', { auth: await t.session('alice@example.com') });
    expect(res.body.data?.me.email).toBe('alice@example.com');
  });
});
