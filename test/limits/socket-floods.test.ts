import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE_CODES } from '../../src/close-codes.js';
import { loadConfig } from '../../src/config.js';
import { MessageBudget, MessageTurns } from '../../src/http/socket-guards.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { firstAnswer, rawSocket } from '../http/raw-socket.js';

const ME = '{ me { email } }';

describe('a graphql-ws socket flooding the service', () => {
  let t: TestApp;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    t = await startTestApp({ WS_MAX_MESSAGES: '50', WS_MESSAGE_WINDOW: 'PT1M' });
    alice = await t.session('alice@example.com');
    bob = await t.session('bob@example.com');
  });
  afterAll(async () => {
    await t.stop();
  });

  it.each([
    ['pings', (i: number) => ({ type: 'ping', payload: { i } })],
    [
      'subscribe/complete pairs',
      (i: number) => (i % 2 === 0 ? { id: `s${i}`, type: 'subscribe', payload: { query: ME } } : { id: `s${i - 1}`, type: 'complete' }),
    ],
  ])('with %s is closed with TOO_MANY_MESSAGES, while another client’s socket and /healthz keep working', async (_name, message) => {
    const other = await rawSocket(t.url, bob);
    const flooder = await rawSocket(t.url, alice);
    // Thousands of messages sent in one go: most arrive in the same reads.
    for (let i = 0; i < 5_000; i++) flooder.send(message(i));
    const health = await fetch(new URL('/healthz', t.url));
    expect(health.status).toBe(200);
    expect((await firstAnswer(other, '1', ME)).payload).toEqual({ data: { me: { email: 'bob@example.com' } } });
    expect((await flooder.closed).code).toBe(CLOSE_CODES.TOO_MANY_MESSAGES);
    // Answered no more than its budget (pongs or results): the rest were never handled.
    expect(flooder.received.filter((m) => m.type !== 'connection_ack').length).toBeLessThanOrEqual(50);
    // The other socket is still open and answering.
    expect((await firstAnswer(other, '2', ME)).payload).toEqual({ data: { me: { email: 'bob@example.com' } } });
    await other.close();
  });

  it('counts WebSocket ping frames too', async () => {
    const flooder = await rawSocket(t.url, alice);
    for (let i = 0; i < 200; i++) flooder.socket.ping();
    expect((await flooder.closed).code).toBe(CLOSE_CODES.TOO_MANY_MESSAGES);
  });

  it('resets the budget with each window', () => {
    let now = 0;
    const budget = new MessageBudget(2, 1_000, () => now);
    expect([budget.take(), budget.take(), budget.take()]).toEqual([true, true, false]);
    now = 1_000;
    expect(budget.take()).toBe(true);
  });

  it('handles a lone message at once and the rest of a burst one per turn of the event loop', async () => {
    const turns = new MessageTurns();
    const handled: number[] = [];
    // A lone message is not deferred: a request read after it must not overtake it.
    turns.run(() => handled.push(1));
    expect(handled).toEqual([1]);
    turns.run(() => handled.push(2));
    turns.run(() => handled.push(3));
    expect(handled).toEqual([1]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(handled).toEqual([1, 2]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(handled).toEqual([1, 2, 3]);
  });
});

describe('sockets per user and per address', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ WS_MAX_SOCKETS_PER_USER: '2', WS_MAX_SOCKETS_PER_ADDRESS: '4' });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('refuses a user’s socket past WS_MAX_SOCKETS_PER_USER with TOO_MANY_SOCKETS; others are not affected; a freed place is usable', async () => {
    const alice = await t.session('alice@example.com');
    const first = await rawSocket(t.url, alice);
    const second = await rawSocket(t.url, alice);
    const third = await rawSocket(t.url);
    third.send({ type: 'connection_init', payload: { authorization: `Bearer ${alice}` } });
    expect((await third.closed).code).toBe(CLOSE_CODES.TOO_MANY_SOCKETS);
    const bobSocket = await rawSocket(t.url, await t.session('bob@example.com'));
    expect((await firstAnswer(bobSocket, '1', ME)).type).toBe('next');
    await first.close();
    const again = await rawSocket(t.url, alice);
    expect((await firstAnswer(again, '1', ME)).payload).toEqual({ data: { me: { email: 'alice@example.com' } } });
    for (const socket of [second, bobSocket, again]) await socket.close();
  });

  it('refuses an address’s socket past WS_MAX_SOCKETS_PER_ADDRESS before it authenticates', async () => {
    const held = await Promise.all(Array.from({ length: 4 }, () => rawSocket(t.url)));
    const refused = await rawSocket(t.url);
    expect((await refused.closed).code).toBe(CLOSE_CODES.TOO_MANY_SOCKETS);
    for (const socket of held) await socket.close();
    const afterwards = await rawSocket(t.url, await t.session('bob@example.com'));
    expect((await firstAnswer(afterwards, '1', ME)).type).toBe('next');
    await afterwards.close();
  });

  it('have safe defaults', () => {
    expect(loadConfig({ SESSION_SECRET: 'x'.repeat(32) }).websocket).toMatchObject({
      maxMessages: 100,
      messageWindow: { iso: 'PT10S', ms: 10_000 },
      maxSocketsPerUser: 32,
      maxSocketsPerAddress: 256,
    });
  });
});
