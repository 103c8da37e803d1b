import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { subscribe } from '../support/ws-client.js';

const MISSED = 450;

/** A client that missed more events than one replay page holds gets them all, in order, then live ones. */
describe('replay across pages', () => {
  let t: TestApp;
  let session: string;
  let aliceId: string;
  beforeAll(async () => {
    t = await startTestApp();
    session = await t.session('alice@example.com');
    aliceId = (await t.running.services.users.findByEmail('alice@example.com'))?.id ?? '';
    const em = t.running.orm.em.fork();
    for (let i = 0; i < MISSED; i++) {
      em.create(AuditEvent, {
        occurredAt: new Date(),
        action: i % 2 === 0 ? 'GENERATED' : 'REVOKED',
        actorKind: 'system',
        actorLabel: 'system',
        subjectUserId: aliceId,
        tokenId: '00000000-0000-4000-8000-000000000000',
        region: 'local',
      });
    }
    await em.flush();
  });
  afterAll(async () => {
    await t.stop();
  });

  it(`replays ${MISSED} missed events in id order without a gap or a duplicate, then continues live`, async () => {
    const socket = subscribe<{ id: string; kind: string }>(t.url, session, 'subscription { apiTokenEvents(after: "0") { id kind } }');
    const replayed = await socket.waitFor(MISSED, 20_000);
    expect(replayed).toHaveLength(MISSED);
    const ids = replayed.map((event) => Number(event.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(MISSED);
    await t.gql('mutation { generateApiToken { token { id } } }', { auth: session });
    const all = await socket.waitFor(MISSED + 1);
    expect(all.at(-1)?.kind).toBe('GENERATED');
    expect(Number(all.at(-1)?.id)).toBeGreaterThan(ids.at(-1) ?? 0);
    expect(socket.errors).toEqual([]);
    await socket.dispose();
  });
});
