import { afterAll, test } from 'vitest';
import WebSocket from 'ws';
import { startTestApp } from '../test/support/test-app.js';

/**
 * What one hostile socket costs the server: 5,000 `apiTokenEvents(after: "0")`
 * subscriptions sent on one graphql-ws socket. Reported as the growth of the
 * process's resident memory (server and this client share the process), and
 * as the time until the server has answered every one (a `next` with the
 * replayed event for an accepted subscription, an `error` for a refused one).
 */
const ATTEMPTS = 5_000;
const app = await startTestApp();
const session = await app.session('alice@example.com');
await app.gql('mutation { generateApiToken { token { id } } }', { auth: session });

afterAll(async () => {
  await app.stop();
});

async function attack(): Promise<{ rssGrowthMb: number; answered: number; refused: number }> {
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  const socket = new WebSocket(app.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let answered = 0;
  let refused = 0;
  const done = new Promise<void>((resolve) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string };
      if (message.type === 'connection_ack') {
        for (let i = 0; i < ATTEMPTS; i++) {
          socket.send(
            JSON.stringify({ id: String(i), type: 'subscribe', payload: { query: 'subscription { apiTokenEvents(after: "0") { id } }' } }),
          );
        }
      }
      if (message.type === 'next' || message.type === 'error') answered++;
      if (message.type === 'error') refused++;
      if (answered >= ATTEMPTS) resolve();
    });
    socket.once('close', () => resolve());
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${session}` } }));
  await done;
  const rssGrowthMb = (process.memoryUsage().rss - before) / 1024 / 1024;
  socket.close();
  await new Promise((resolve) => socket.once('close', resolve));
  return { rssGrowthMb, answered, refused };
}

test(`graphql-ws: ${ATTEMPTS} subscriptions on one socket: subscribe until every attempt is answered`, async () => {
  const result = await attack();
  // The figure the report quotes.
  console.log(`rss growth ${result.rssGrowthMb.toFixed(1)} MB, answered ${result.answered}, refused ${result.refused}`);
}, 600_000);
