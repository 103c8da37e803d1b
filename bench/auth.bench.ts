import { afterAll, test } from 'vitest';
import { startTestApp } from '../test/support/test-app.js';

/**
 * The hot path: a request authenticated with an API token, next to the same
 * request with a session JWT and with a token whose checksum is wrong (which
 * must never reach the database). Compare the ratios of one run; absolute
 * numbers depend on the machine.
 */
const app = await startTestApp();
const session = await app.session('alice@example.com');
const generated = await app.gql<{ generateApiToken: { secret: string } }>('mutation { generateApiToken { secret } }', {
  auth: session,
});
const secret = generated.body.data?.generateApiToken.secret ?? '';
const forged = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
const ME = '{ me { id role businessUnits { id } } }';

afterAll(async () => {
  await app.stop();
});

test('authenticated GraphQL request (HTTP, SQLite)', async ({ bench }) => {
  await bench.compare(
    bench('API token', async () => {
      const res = await app.gql(ME, { auth: secret });
      if (res.status !== 200) throw new Error(`status ${res.status}`);
    }),
    bench('session JWT', async () => {
      const res = await app.gql(ME, { auth: session });
      if (res.status !== 200) throw new Error(`status ${res.status}`);
    }),
    bench('no credential, `{ __typename }` (GraphQL without auth or resolvers)', async () => {
      const res = await app.gql('{ __typename }');
      if (res.status !== 200) throw new Error(`status ${res.status}`);
    }),
    bench('API token, `{ __typename }` (authentication alone)', async () => {
      const res = await app.gql('{ __typename }', { auth: secret });
      if (res.status !== 200) throw new Error(`status ${res.status}`);
    }),
    bench('API token with a bad checksum (rejected before the database)', async () => {
      const res = await app.gql(ME, { auth: forged });
      if (res.status !== 401) throw new Error(`status ${res.status}`);
    }),
  );
}, 120_000);
