import { afterAll, test } from 'vitest';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from '../test/support/test-app.js';

/**
 * What 5,000 `apiTokenEvents(after: "0")` subscriptions cost the server, each
 * replaying one stored event. Reported as the growth of the process's
 * resident memory (server and this client share the process), and as the time
 * until the server has answered every one (a `next` with the replayed event
 * for an accepted subscription, an `error` for a refused one).
 *
 * Two workloads, never to be compared with each other:
 * - `hostile socket`: all 5,000 on one socket at the default limits, so the
 *   server accepts 10 (`WS_MAX_SUBSCRIPTIONS_PER_SOCKET`) and refuses 4,990:
 *   what such an attack costs now;
 * - `5,000 accepted`: the same 5,000 subscriptions all accepted and replayed,
 *   the workload of the figure taken before the caps existed. A socket may
 *   hold at most 1,000 (the highest `WS_MAX_SUBSCRIPTIONS_PER_SOCKET` allows),
 *   so they are spread over 5 sockets of one user, with the per-socket cap at
 *   1,000 and the per-user cap at 5,000.
 */
const ATTEMPTS = 5_000;
const QUERY = 'subscription { apiTokenEvents(after: "0") { id } }';

const apps: TestApp[] = [];

afterAll(async () => {
  for (const app of apps) await app.stop();
});

async function appWithOneEvent(env: Record<string, string>): Promise<{ app: TestApp; session: string }> {
  const app = await startTestApp(env);
  apps.push(app);
  const session = await app.session('alice@example.com');
  await app.gql('mutation { generateApiToken { token { id } } }', { auth: session });
  return { app, session };
}

/** Sends `count` subscriptions on one new socket; resolves when each is answered (or the socket closes). */
async function subscribeOnOneSocket(
  url: string,
  session: string,
  count: number,
  firstId: number,
): Promise<{ answered: number; refused: number }> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let answered = 0;
  let refused = 0;
  const done = new Promise<void>((resolve) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string };
      if (message.type === 'connection_ack') {
        for (let i = 0; i < count; i++) {
          socket.send(JSON.stringify({ id: String(firstId + i), type: 'subscribe', payload: { query: QUERY } }));
        }
      }
      if (message.type === 'next' || message.type === 'error') answered++;
      if (message.type === 'error') refused++;
      if (answered >= count) resolve();
    });
    socket.once('close', () => resolve());
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${session}` } }));
  await done;
  socket.close();
  await new Promise((resolve) => socket.once('close', resolve));
  return { answered, refused };
}

/** `sockets` sockets of `ATTEMPTS / sockets` subscriptions each, at once: RSS growth and time until all are answered. */
async function attack(url: string, session: string, sockets: number): Promise<string> {
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  const started = performance.now();
  const perSocket = ATTEMPTS / sockets;
  const each = await Promise.all(Array.from({ length: sockets }, (_, s) => subscribeOnOneSocket(url, session, perSocket, s * perSocket)));
  const seconds = (performance.now() - started) / 1000;
  const rssGrowthMb = (process.memoryUsage().rss - before) / 1024 / 1024;
  const answered = each.reduce((sum, r) => sum + r.answered, 0);
  const refused = each.reduce((sum, r) => sum + r.refused, 0);
  return `rss growth ${rssGrowthMb.toFixed(1)} MB, ${seconds.toFixed(1)} s, answered ${answered}, refused ${refused}`;
}

test(`graphql-ws hostile socket: ${ATTEMPTS} subscriptions on one socket at the default limits`, async () => {
  const { app, session } = await appWithOneEvent({});
  // The figure the report quotes.
  console.log(`hostile socket: ${await attack(app.url, session, 1)}`);
}, 600_000);

test(`graphql-ws ${ATTEMPTS} accepted subscriptions (5 sockets of 1,000, caps lifted to hold them)`, async () => {
  const { app, session } = await appWithOneEvent({
    WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '1000',
    WS_MAX_SUBSCRIPTIONS_PER_USER: String(ATTEMPTS),
  });
  console.log(`5,000 accepted: ${await attack(app.url, session, 5)}`);
}, 600_000);
