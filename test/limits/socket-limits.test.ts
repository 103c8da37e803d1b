import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { codes, firstAnswer, rawSocket, type RawSocket } from '../http/raw-socket.js';

const EVENTS = 'subscription { apiTokenEvents { id kind } }';

/** Starts `count` live subscriptions; a live one answers nothing until an event comes. */
function subscribeMany(socket: RawSocket, ids: readonly string[]): void {
  for (const id of ids) socket.send({ id, type: 'subscribe', payload: { query: EVENTS } });
}

describe('operations per socket and per user', () => {
  let t: TestApp;
  let session: string;
  beforeAll(async () => {
    t = await startTestApp({ WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '3', WS_MAX_SUBSCRIPTIONS_PER_USER: '5' });
    session = await t.session('alice@example.com');
  });
  afterAll(async () => {
    await t.stop();
  });

  it('refuses a subscription past the socket limit with RATE_LIMITED, and the socket stays usable', async () => {
    const socket = await rawSocket(t.url, session);
    subscribeMany(socket, ['1', '2', '3']);
    const refused = await firstAnswer(socket, '4', EVENTS);
    expect(refused.type).toBe('error');
    expect(codes(refused)).toEqual(['RATE_LIMITED']);
    expect(JSON.stringify(refused.payload)).toContain('This socket already has 3 operations running');
    // Nothing else was refused, and a query is an operation too.
    expect(socket.received.filter((m) => m.type === 'error')).toHaveLength(1);
    expect(codes(await firstAnswer(socket, '5', '{ me { email } }'))).toEqual(['RATE_LIMITED']);

    socket.send({ id: '1', type: 'complete' });
    expect((await firstAnswer(socket, '6', '{ me { email } }')).payload).toEqual({ data: { me: { email: 'alice@example.com' } } });
    await socket.close();
  });

  it("counts all of a user's sockets, and forgets a socket once it closes", async () => {
    const first = await rawSocket(t.url, session);
    const second = await rawSocket(t.url, session);
    subscribeMany(first, ['a', 'b', 'c']);
    subscribeMany(second, ['d', 'e']);
    const refused = await firstAnswer(second, 'f', EVENTS);
    expect(codes(refused)).toEqual(['RATE_LIMITED']);
    expect(JSON.stringify(refused.payload)).toContain('You already have 5 operations running');
    // Another user is not affected.
    const bob = await rawSocket(t.url, await t.session('bob@example.com'));
    expect((await firstAnswer(bob, '1', '{ me { email } }')).payload).toEqual({ data: { me: { email: 'bob@example.com' } } });
    await bob.close();

    await first.close();
    // The server learns of the close a moment after the client: ask again until it has (bounded).
    let answer = await firstAnswer(second, 'g0', '{ me { email } }');
    for (let i = 1; answer.type === 'error' && i < 50; i++) answer = await firstAnswer(second, `g${i}`, '{ me { email } }');
    expect(answer.payload).toEqual({ data: { me: { email: 'alice@example.com' } } });
    await second.close();
  });
});
