import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { generate } from '../support/tokens.js';
import { newScanner, postAlerts, reportCredentials, writeKeyDocument, type Scanner } from './leak-helpers.js';

/** Where reports really overlap: PostgreSQL runs concurrent transactions side by side. */
describe('leak reports on PostgreSQL', () => {
  let db: TestDatabase;
  let t: TestApp;
  let keysDir: string;
  let scanner: Scanner;
  beforeAll(async () => {
    db = await createTestDatabase();
    keysDir = await mkdtemp(join(tmpdir(), 'api-tokens-scanning-keys-'));
    scanner = newScanner('pg-scanner');
    t = await startTestApp({
      DATABASE_URL: db.url,
      SECRET_SCANNING_KEYS: await writeKeyDocument(keysDir, [scanner]),
      TRUST_PROXY: 'loopback',
    });
  });
  afterAll(async () => {
    await t?.stop();
    await db?.drop();
    await rm(keysDir, { recursive: true, force: true });
  });

  it('revokes and emails once when a scanner and a finder report one token at the same time', async () => {
    const { secret, token } = await generate(t, 'alice@example.com');

    const answers = await Promise.all([
      postAlerts(t, [{ token: secret }], scanner),
      postAlerts(t, [{ token: secret }], scanner),
      reportCredentials(t, { credentials: [secret] }, { forwardedFor: '198.51.100.9' }),
      reportCredentials(t, { credentials: [secret] }, { forwardedFor: '198.51.100.9' }),
    ]);

    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 202, 202]);
    const em = t.running.orm.em.fork();
    expect(await em.count(AuditEvent, { tokenId: token.id, action: 'REVOKED' })).toBe(1);
    expect(await em.count(OutboxMessage, { recipient: 'alice@example.com', kind: 'REVOKED' })).toBe(1);
    expect(await em.count(ApiToken, { id: token.id })).toBe(0);
  });

  it('writes the last-used address with lastUsedAt, and an introspection keeps it', async () => {
    const { secret, token } = await generate(t, 'bob@example.com');
    await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}`, 'x-forwarded-for': '2001:db8:1::7' },
      body: JSON.stringify({ query: '{ me { email } }' }),
    });
    await t.running.usage.flush();
    await t.running.principals.token(secret);
    await t.running.usage.flush();

    const stored = await t.running.orm.em.fork().findOneOrFail(ApiToken, token.id);
    expect(stored.lastUsedAddress).toBe('2001:db8:1::7');
    expect(stored.lastUsedAt).not.toBeNull();
  });

  it('revokes a reported token whatever the reporter put in X-Forwarded-For, and records only an address as its address', async () => {
    const { secret, token } = await generate(t, 'admin@example.com');
    // Behind a trusted proxy the reporter writes the address: here 400 characters that are no address.
    const answer = await reportCredentials(t, { credentials: [secret] }, { forwardedFor: `not-an-address-${'x'.repeat(385)}` });

    expect(answer.status).toBe(202);
    const em = t.running.orm.em.fork();
    expect(await em.count(ApiToken, { id: token.id })).toBe(0);
    const revoked = await em.findOneOrFail(AuditEvent, { tokenId: token.id, action: 'REVOKED' });
    expect(revoked.actorLabel).toBe('report from an unknown address');

    const { secret: second, token: reissued } = await generate(t, 'admin@example.com');
    await reportCredentials(t, { credentials: [second] }, { forwardedFor: '2001:db8::5' });
    const byAddress = await t.running.orm.em.fork().findOneOrFail(AuditEvent, { tokenId: reissued.id, action: 'REVOKED' });
    expect(byAddress.actorLabel).toBe('report from 2001:db8::5');
  });
});
