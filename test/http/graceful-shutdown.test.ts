import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { builtServer, startServerProcess } from '../support/built-server.js';
import { startTestApp, TEST_SESSION_SECRET } from '../support/test-app.js';
import { subscribe } from '../support/ws-client.js';
import { deadPort } from '../limits/rate-limit-helpers.js';

const WRITERS = ['alice@example.com', 'bob@example.com', 'carol@globex.example.com'];
const READERS = ['admin@example.com', 'support@example.com', 'admin@globex.example.com'];

interface Writes {
  /** Token ids the server acknowledged, in order. */
  readonly acknowledged: string[];
  /** A request whose answer never came (its connection closed): its outcome is unknown. */
  uncertain: boolean;
}

describe('SIGTERM under load', () => {
  const build = builtServer();
  let dataDir: string;
  const sessions = new Map<string, string>();

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'api-tokens-shutdown-'));
    // Seed the database and sign sessions in-process, then hand the data dir to the real binary.
    const seed = await startTestApp({}, { dataDir });
    for (const email of [...WRITERS, ...READERS]) sessions.set(email, await seed.session(email));
    await seed.stop();
  });
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('answers no request with a 5xx, closes sockets with 1001, and loses no acknowledged change', async () => {
    const port = await deadPort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const server = await startServerProcess(
      build.main,
      {
        // As deployed: production is also where Apollo would install its own signal handlers.
        NODE_ENV: 'production',
        // Mail stays in files here: this test is about shutting down, not delivering.
        ALLOW_LOCAL_MAIL: 'true',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: dataDir,
        SESSION_SECRET: TEST_SESSION_SECRET,
        LOG_LEVEL: 'warn',
        RATE_LIMIT_TOKEN_CHANGES: '100000/PT1H',
        SWEEP_INTERVAL: 'PT1S',
        MAIL_POLL_INTERVAL: 'PT1S',
      },
      baseUrl,
    );
    const graphql = `${baseUrl}/graphql`;
    const socket = subscribe(graphql, sessions.get('alice@example.com') ?? '', 'subscription { apiTokenEvents { id } }');
    await socket.connected;

    const statuses: number[] = [];
    const writes = new Map<string, Writes>(WRITERS.map((email) => [email, { acknowledged: [], uncertain: false }]));
    let running = true;
    const post = (email: string, query: string) =>
      fetch(graphql, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${sessions.get(email) ?? ''}` },
        body: JSON.stringify({ query }),
      });

    const writer = async (email: string) => {
      const mine = writes.get(email);
      if (!mine) return;
      while (running) {
        const query =
          mine.acknowledged.length === 0
            ? 'mutation { generateApiToken { token { id } } }'
            : 'mutation { regenerateApiToken { token { id } } }';
        let response: Response;
        try {
          response = await post(email, query);
        } catch {
          // Refused or closed after shutdown began: allowed, but this change may or may not have landed.
          mine.uncertain = true;
          return;
        }
        statuses.push(response.status);
        const body = (await response.json()) as { data?: Record<string, { token: { id: string } }> | null };
        const id = body.data && Object.values(body.data)[0]?.token.id;
        if (id) mine.acknowledged.push(id);
      }
    };
    const reader = async (email: string) => {
      while (running) {
        try {
          const response = await post(email, '{ me { email } myApiToken { id } }');
          statuses.push(response.status);
          await response.arrayBuffer();
        } catch {
          return;
        }
      }
    };
    // Several readers per user keep many kept-alive connections busy when the signal lands.
    const load = [...WRITERS.map(writer), ...Array.from({ length: 4 }, () => READERS.map(reader)).flat()];

    while (statuses.length < 60) await new Promise((resolve) => setTimeout(resolve, 20));
    server.child.kill('SIGTERM');
    const exitCode = await server.exited;
    running = false;
    await Promise.all(load);

    expect(exitCode, server.output()).toBe(0);
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    expect(await socket.closed).toBe(1001);
    await socket.dispose();

    // After a restart every acknowledged change is there.
    const restarted = await startTestApp({}, { dataDir });
    try {
      const em = restarted.running.orm.em.fork();
      for (const [email, mine] of writes) {
        expect(mine.acknowledged.length, email).toBeGreaterThan(0);
        const generated = await em.count(AuditEvent, { action: 'GENERATED', tokenId: { $in: mine.acknowledged } });
        expect(generated, email).toBe(mine.acknowledged.length);
        const user = await restarted.running.services.users.findByEmail(email);
        const current = await em.findOne(ApiToken, { user: user?.id ?? '' });
        if (!mine.uncertain) expect(current?.id, email).toBe(mine.acknowledged.at(-1));
        else expect(current, email).not.toBeNull();
      }
    } finally {
      await restarted.stop();
    }
  }, 120_000);
});
