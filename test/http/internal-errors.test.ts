import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { LogCapture } from './log-capture.js';
import { firstAnswer, rawSocket } from './raw-socket.js';

const QUERY = '{ auditEvents(first: 1) { edges { cursor } } }';

/** An outage inside a resolver: the client gets the same masked error on both transports, the log gets the details. */
describe('internal errors', () => {
  const logs = new LogCapture();
  let t: TestApp;
  let session: string;
  beforeAll(async () => {
    t = await startTestApp({}, { logger: logs.logger });
    session = await t.session('alice@example.com');
    // This app's own SQLite file: losing a table is the outage.
    await t.running.orm.em.getConnection().execute('drop table audit_events');
  });
  afterAll(async () => {
    await t.stop();
  });

  it('are masked over HTTP', async () => {
    const res = await t.gql(QUERY, { auth: session });
    expect(res.body.errors?.[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(JSON.stringify(res.body)).not.toContain('audit_events');
  });

  it('are masked over graphql-ws too, and logged', async () => {
    const before = logs.errors().length;
    const socket = await rawSocket(t.url, session);
    const answer = await firstAnswer(socket, '1', QUERY);
    expect(answer.payload).toMatchObject({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
    expect(JSON.stringify(answer.payload)).not.toContain('audit_events');
    expect(logs.errors().length).toBe(before + 1);
    expect(logs.errors().at(-1)).toContain('audit_events');
    await socket.close();
  });
});
