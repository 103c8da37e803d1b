import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { generate } from '../support/tokens.js';
import { madeUpToken, reportCredentials, snapshot } from './leak-helpers.js';
import { queuedContent } from '../mail/mail-app.js';

describe('POST /credentials/revoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Behind a proxy on loopback, so each test can be its own client address.
    t = await startTestApp({ TRUST_PROXY: 'loopback', RATE_LIMIT_CREDENTIAL_REPORTS: '3/PT1H' });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('revokes every live token named, emails each owner once, and keeps the reporter in the audit trail', async () => {
    const alice = await generate(t, 'alice@example.com');
    const bob = await generate(t, 'bob@example.com');

    const answer = await reportCredentials(
      t,
      { credentials: [alice.secret, bob.secret, alice.secret, madeUpToken()] },
      { forwardedFor: '198.51.100.7' },
    );

    expect(answer.status).toBe(202);
    for (const secret of [alice.secret, bob.secret]) {
      expect((await t.gql('{ me { email } }', { auth: secret })).status).toBe(401);
    }
    const em = t.running.orm.em.fork();
    for (const token of [alice.token, bob.token]) {
      const rows = await em.find(AuditEvent, { tokenId: token.id, action: 'REVOKED' });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ actorKind: 'leak', actorLabel: 'report from 198.51.100.7', reason: 'reported as exposed' });
    }
    for (const email of ['alice@example.com', 'bob@example.com']) {
      const mails = await em.find(OutboxMessage, { recipient: email, kind: 'REVOKED' });
      expect(mails).toHaveLength(1);
      const content = await queuedContent(em, mails[0]!);
      expect(content.subject).toBe('Your API token was exposed and has been revoked');
      expect(content.text).toContain('reported as exposed');
    }
  });

  it('answers the same whatever the credentials are, and changes nothing for ones that are not live', async () => {
    const { secret } = await generate(t, 'carol@globex.example.com');
    const live = await reportCredentials(t, { credentials: [secret] }, { forwardedFor: '198.51.100.8' });
    const before = await snapshot(t);

    const others = [
      await reportCredentials(t, { credentials: [secret] }, { forwardedFor: '198.51.100.8' }),
      await reportCredentials(t, { credentials: [madeUpToken(), 'own_typo', 'ghp_not_ours'] }, { forwardedFor: '198.51.100.8' }),
    ];

    expect(live.status).toBe(202);
    for (const answer of others) {
      expect(answer.status).toBe(live.status);
      expect(answer.json).toEqual(live.json);
    }
    expect(await snapshot(t)).toEqual(before);
  });

  it('counts requests per client address: past the budget, 429 with Retry-After, and nothing is revoked', async () => {
    const address = '203.0.113.50';
    for (let i = 0; i < 3; i++) {
      expect((await reportCredentials(t, { credentials: [madeUpToken()] }, { forwardedFor: address })).status).toBe(202);
    }
    const { secret } = await generate(t, 'admin@example.com');

    const refused = await reportCredentials(t, { credentials: [secret] }, { forwardedFor: address });

    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.json).toMatchObject({ error: 'too_many_requests' });
    expect((await t.gql('{ me { email } }', { auth: secret })).status).toBe(200);
    // Another address has its own budget.
    expect((await reportCredentials(t, { credentials: [secret] }, { forwardedFor: '203.0.113.51' })).status).toBe(202);
    expect((await t.gql('{ me { email } }', { auth: secret })).status).toBe(401);
  });

  it('refuses a malformed body with a clear 400 (415 for a body that is not JSON), never a 500', async () => {
    const bad: unknown[] = [
      'not json',
      {},
      { credentials: 'own_x' },
      { credentials: [] },
      { credentials: [1, 2] },
      { credentials: Array.from({ length: 1001 }, () => 'own_x') },
      [],
      null,
    ];
    let n = 0;
    for (const body of bad) {
      const answer = await reportCredentials(t, body, { forwardedFor: `192.0.2.${++n}` });
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ error: 'invalid_request', error_description: expect.any(String) });
    }
    const form = await reportCredentials(t, 'credentials=own_x', {
      contentType: 'application/x-www-form-urlencoded',
      forwardedFor: '192.0.2.99',
    });
    expect(form.status).toBe(415);
    expect(form.json).toMatchObject({ error: 'invalid_request' });
  });
});
