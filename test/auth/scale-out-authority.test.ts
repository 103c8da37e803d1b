import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startOwnRedis, type OwnRedis } from '../support/own-redis.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { EVENT_FIELDS, latestEventId, subscribe } from '../support/ws-client.js';
import { generateToken, userId } from '../admin/admin-helpers.js';
import { PATCH_OP, scimClient, scimToken } from '../scim/scim-client.js';
import { openSocket, outcome } from './socket-client.js';
import { eventually } from '../support/eventually.js';

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const EVENTS = `subscription($after: ID) { apiTokenEvents(after: $after) { ${EVENT_FIELDS} } }`;
const UPDATE_USER = 'mutation ($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id role } }';

async function readyz(t: TestApp): Promise<number> {
  return (await fetch(new URL('/readyz', t.url))).status;
}

/** Whether `check` holds within `timeoutMs`. */
function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  return eventually('the check', check, timeoutMs).then(
    () => true,
    () => false,
  );
}

/** Two instances, A and B, on one PostgreSQL database and a Redis server of this file's own. */
describe('authority across instances (PostgreSQL + Redis)', () => {
  let db: TestDatabase;
  let redis: OwnRedis;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await startOwnRedis();
    // The rounds below change one user's token many times; the rate limit has tests of its own.
    const shared = { DATABASE_URL: db.url, REDIS_URL: redis.url, REGIONS: 'eu-west,us-east', RATE_LIMIT_TOKEN_CHANGES: '1000/PT1H' };
    a = await startTestApp({ ...shared, REGION: 'eu-west' }, { autoSweep: false });
    b = await startTestApp({ ...shared, REGION: 'us-east' }, { autoSweep: false });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.kill();
    await db?.drop();
  });

  it('a role change on A applies to the next request on B, whose cache held the old role', async () => {
    const admin = await a.session('admin@example.com');
    const bob = await userId(a, 'bob@example.com');
    const { secret } = await generateToken(a, 'bob@example.com');
    const session = await b.session('bob@example.com');
    for (const credential of [secret, session]) {
      expect((await b.gql('{ me { role } }', { auth: credential })).body.data).toEqual({ me: { role: 'USER' } });
    }
    const promoted = await a.gql(UPDATE_USER, { auth: admin, variables: { id: bob, input: { role: 'ADMIN' } } });
    expect(promoted.body.errors).toBeUndefined();
    for (const credential of [secret, session]) {
      expect((await b.gql('{ me { role } }', { auth: credential })).body.data).toEqual({ me: { role: 'ADMIN' } });
    }
    await a.gql(UPDATE_USER, { auth: admin, variables: { id: bob, input: { role: 'USER' } } });
    expect((await b.gql('{ me { role } }', { auth: secret })).body.data).toEqual({ me: { role: 'USER' } });
  });

  it("a unit renamed on A shows under its new name at B's next request, over HTTP and over an open socket", async () => {
    const scim = scimClient(a, await scimToken(a, 'Globex'));
    const carol = await userId(a, 'carol@globex.example.com');
    const created = await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Research', members: [{ value: carol }] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const { secret } = await generateToken(a, 'carol@globex.example.com');
    const session = await b.session('carol@globex.example.com');
    const ME = '{ me { businessUnits { name } } }';
    const names = (data: unknown) =>
      (data as { me: { businessUnits: { name: string }[] } }).me.businessUnits.map((unit) => unit.name).sort();
    const socket = openSocket(b.url, secret);
    try {
      // B reads, and holds, Carol's units through both credentials and the socket.
      for (const credential of [secret, session])
        expect(names((await b.gql(ME, { auth: credential })).body.data)).toEqual(['Operations', 'Research']);
      expect(names((await socket.run(ME)).data)).toEqual(['Operations', 'Research']);

      const renamed = await scim('PATCH', `/Groups/${String(created.body?.['id'])}`, {
        schemas: [PATCH_OP],
        Operations: [{ op: 'replace', path: 'displayName', value: 'Discovery' }],
      });
      expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);

      for (const credential of [secret, session])
        expect(names((await b.gql(ME, { auth: credential })).body.data)).toEqual(['Discovery', 'Operations']);
      expect(names((await socket.run(ME)).data)).toEqual(['Discovery', 'Operations']);
    } finally {
      await socket.dispose();
      // Carol's token is another test's to generate.
      await a.gql('mutation { revokeApiToken { tokenId } }', { auth: await a.session('carol@globex.example.com') });
    }
  });

  it('a revoke on A is refused on B over HTTP and over an open socket, which gets REVOKED and closes', async () => {
    const session = await a.session('alice@example.com');
    const { secret, id } = await generateToken(a, 'alice@example.com');
    expect((await b.gql('{ me { email } }', { auth: secret })).status).toBe(200);
    const after = await latestEventId(b.running.orm);
    const listening = subscribe<{ kind: string; tokenId: string }>(b.url, secret, EVENTS, { after });
    const socket = openSocket(b.url, secret);
    await Promise.all([listening.connected, socket.connected]);
    expect(outcome(await socket.run('{ me { email } }'))).toBe('ok');

    await a.gql('mutation { revokeApiToken { tokenId } }', { auth: session });
    expect((await b.gql('{ me { email } }', { auth: secret })).status).toBe(401);
    expect((await socket.run('{ me { email } }')).data ?? null).toBeNull();
    expect(await listening.closed).toBe(4403);
    expect(listening.items).toEqual([expect.objectContaining({ kind: 'REVOKED', tokenId: id })]);
    expect(await socket.closed).toBe(4403);
  });

  it("refuses a token at B's very next request after the revoke answered on A, every time", async () => {
    const session = await a.session('support@example.com');
    const refusedAtOnce: boolean[] = [];
    for (let round = 0; round < 10; round++) {
      const { secret } = await generateToken(a, 'support@example.com');
      expect((await b.gql('{ me { email } }', { auth: secret })).status).toBe(200); // cached on B
      await a.gql('mutation { revokeApiToken { tokenId } }', { auth: session });
      refusedAtOnce.push((await b.gql('{ me { email } }', { auth: secret })).status === 401);
    }
    expect(refusedAtOnce).toEqual(Array.from({ length: 10 }, () => true));
  });

  it('with Redis killed: B refuses a token revoked on A, closes its socket within the bound, is not ready, and catches up when Redis returns', async () => {
    const session = await a.session('carol@globex.example.com');
    const { secret } = await generateToken(a, 'carol@globex.example.com');
    const other = await generateToken(a, 'admin@globex.example.com');
    expect((await b.gql('{ me { email } }', { auth: secret })).status).toBe(200);
    const socket = openSocket(b.url, secret);
    // Sends nothing after the revoke: only the outage re-check can close it.
    const idle = openSocket(b.url, secret);
    const sessionSocket = subscribe<{ kind: string }>(b.url, await b.session('carol@globex.example.com'), EVENTS, {
      after: await latestEventId(b.running.orm),
    });
    await Promise.all([socket.connected, idle.connected, sessionSocket.connected]);
    expect(outcome(await socket.run('{ me { email } }'))).toBe('ok');

    await redis.kill();
    expect(await until(async () => (await readyz(a)) === 503 && (await readyz(b)) === 503, 5_000)).toBe(true);

    const revoked = await a.gql('mutation { revokeApiToken { tokenId } }', { auth: session });
    expect(revoked.body.errors).toBeUndefined();
    expect((await b.gql('{ me { email } }', { auth: secret })).status).toBe(401);
    expect((await socket.run('{ me { email } }')).data ?? null).toBeNull();
    expect(await socket.closed).toBe(4403);
    // Within the README's bound (one outage re-check interval); the test's timeout is the backstop.
    expect(await idle.closed).toBe(4403);
    // A credential nobody touched keeps working through the outage.
    expect((await b.gql('{ me { email } }', { auth: other.secret })).status).toBe(200);

    await redis.start();
    expect(await until(async () => (await readyz(b)) === 200, 10_000)).toBe(true);
    // The REVOKED event published while Redis was down reaches the session subscriber by replay.
    expect((await sessionSocket.waitFor(1)).map((event) => event.kind)).toEqual(['REVOKED']);
    await sessionSocket.dispose();
  });
});
