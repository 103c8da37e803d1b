import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/test-app.js';

describe('smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('answers me for a session', async () => {
    const res = await t.gql<{ me: { email: string } }>('{ me { email } }', { auth: await t.session('alice@example.com') });
    expect(res.body.data?.me.email).toBe('alice@example.com');
  });
});
