import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { SmtpSink } from '../mail/smtp-sink.js';
import { eventually } from '../support/eventually.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { generate } from '../support/tokens.js';
import { subscribe } from '../support/ws-client.js';
import { madeUpToken, newScanner, postAlerts, snapshot, writeKeyDocument, type Scanner } from './leak-helpers.js';

const EVENTS = 'subscription { apiTokenEvents { kind tokenId actor reason } }';
const LEAK_URL = 'https://github.com/octocat/Hello-World/blob/12345600b9cbe38a219f39a9941c9319b600c002/config/ci.env';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('POST /secret-scanning/github', () => {
  let t: TestApp;
  let smtp: SmtpSink;
  let keysDir: string;
  let scanner: Scanner;
  let previous: Scanner;

  beforeAll(async () => {
    smtp = await SmtpSink.start();
    keysDir = await mkdtemp(join(tmpdir(), 'api-tokens-scanning-keys-'));
    scanner = newScanner('f9525bf080f75b3506ca1ead061add62b8633a346606dc5fe544e29231c6ee0d');
    previous = newScanner('90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a');
    const keys = await writeKeyDocument(keysDir, [scanner, previous]);
    t = await startTestApp({ SECRET_SCANNING_KEYS: keys, SMTP_URL: smtp.url, PUBLIC_URL: 'https://tokens.example.com/' });
  });
  afterAll(async () => {
    await t.stop();
    await smtp.stop();
    await rm(keysDir, { recursive: true, force: true });
  });

  it('revokes a reported live token at once, emails its owner where it was found, and tells subscribers', async () => {
    const { secret, token } = await generate(t, 'alice@example.com');
    const events = subscribe<{ kind: string; tokenId: string; actor: string; reason: string | null }>(
      t.url,
      await t.session('alice@example.com'),
      EVENTS,
    );
    await events.connected;

    const answer = await postAlerts(t, [{ token: secret, url: LEAK_URL }], scanner);

    expect(answer.status).toBe(200);
    expect(answer.json).toEqual([{ token_hash: sha256(secret), token_type: 'own_api_token', label: 'true_positive' }]);
    expect(JSON.stringify(answer.json)).not.toContain(secret);
    // Revoked before the answer: the token no longer authenticates anywhere.
    expect((await t.gql('{ me { email } }', { auth: secret })).status).toBe(401);
    const audit = await t.running.orm.em.fork().findOneOrFail(AuditEvent, { tokenId: token.id, action: 'REVOKED' });
    expect(audit).toMatchObject({ actorKind: 'leak', actorLabel: 'github-secret-scanning', reason: `found in public at ${LEAK_URL}` });

    const [event] = await events.waitFor(1);
    expect(event).toEqual({
      kind: 'REVOKED',
      tokenId: token.id,
      actor: 'github-secret-scanning',
      reason: `found in public at ${LEAK_URL}`,
    });
    await events.dispose();

    const mails = await eventually('the leak email', () => {
      const found = smtp.received.filter((mail) => mail.parsed.subject === 'Your API token was exposed and has been revoked');
      return found.length > 0 && found;
    });
    expect(mails).toHaveLength(1);
    const text = mails[0]?.parsed.text ?? '';
    expect(mails[0]?.envelopeTo).toEqual(['alice@example.com']);
    expect(text).toContain(LEAK_URL);
    expect(text).toContain('https://tokens.example.com/');
    expect(mails[0]?.raw).not.toContain(secret);
  });

  it('answers false_positive for a made-up token, an expired one and a revoked one, and changes nothing', async () => {
    const { secret: revoked } = await generate(t, 'bob@example.com');
    expect((await t.gql('mutation { revokeApiToken { tokenId } }', { auth: revoked })).status).toBe(200);
    const madeUp = madeUpToken();
    const before = await snapshot(t);

    const answer = await postAlerts(
      t,
      [{ token: madeUp }, { token: revoked, type: 'other_type' }, { token: 'own_typo' }, { token: 'not ours at all' }],
      previous,
    );

    expect(answer.status).toBe(200);
    expect(answer.json).toEqual([
      { token_hash: sha256(madeUp), token_type: 'own_api_token', label: 'false_positive' },
      { token_hash: sha256(revoked), token_type: 'other_type', label: 'false_positive' },
      { token_hash: sha256('own_typo'), token_type: 'own_api_token', label: 'false_positive' },
      { token_hash: sha256('not ours at all'), token_type: 'own_api_token', label: 'false_positive' },
    ]);
    expect(await snapshot(t)).toEqual(before);
  });

  it('refuses a bad, missing or unknown signature with 401 and changes nothing', async () => {
    const { secret } = await generate(t, 'carol@globex.example.com');
    const before = await snapshot(t);
    const stranger = newScanner(scanner.identifier);
    const unknownKey = newScanner('0000000000000000000000000000000000000000000000000000000000000000');

    const attempts = [
      await postAlerts(t, [{ token: secret }], stranger),
      await postAlerts(t, [{ token: secret }], unknownKey),
      await postAlerts(t, [{ token: secret }], null),
      await postAlerts(t, [{ token: secret }], scanner, { 'github-public-key-signature': 'bm90IGEgc2lnbmF0dXJl' }),
    ];
    for (const answer of attempts) {
      expect(answer.status).toBe(401);
      expect(answer.json).toMatchObject({ error: 'invalid_signature' });
      expect(JSON.stringify(answer.json)).not.toContain(secret);
    }
    expect(await snapshot(t)).toEqual(before);
    expect((await t.gql('{ me { email } }', { auth: secret })).status).toBe(200);
  });

  it('revokes and emails once when two requests report the same token at the same time', async () => {
    const { secret, token } = await generate(t, 'admin@globex.example.com');

    const answers = await Promise.all([
      postAlerts(t, [{ token: secret, url: LEAK_URL }], scanner),
      postAlerts(
        t,
        [
          { token: secret, url: LEAK_URL },
          { token: secret, url: LEAK_URL },
        ],
        scanner,
      ),
    ]);

    for (const answer of answers) expect(answer.status).toBe(200);
    const revocations = await t.running.orm.em.fork().find(AuditEvent, { tokenId: token.id, action: 'REVOKED' });
    expect(revocations).toHaveLength(1);
    expect(await t.running.orm.em.fork().count(ApiToken, { id: token.id })).toBe(0);
    const queued = await t.running.orm.em.fork().find(OutboxMessage, { recipient: 'admin@globex.example.com', kind: 'REVOKED' });
    expect(queued).toHaveLength(1);
    await eventually('the mail queue to empty', async () => (await t.running.mail.status()).pending === 0);
    const leakMails = smtp.received.filter(
      (mail) => mail.envelopeTo.includes('admin@globex.example.com') && mail.parsed.subject?.includes('exposed'),
    );
    expect(leakMails).toHaveLength(1);
  });

  it('answers a batch of 1,000 alerts, one entry each in order', async () => {
    const { secret } = await generate(t, 'bob@example.com');
    const tokens = Array.from({ length: 999 }, () => madeUpToken());
    tokens.splice(500, 0, secret);

    const answer = await postAlerts(
      t,
      tokens.map((token) => ({ token })),
      scanner,
    );

    expect(answer.status).toBe(200);
    const feedback = answer.json as { token_hash: string; label: string }[];
    expect(feedback).toHaveLength(1000);
    expect(feedback.map((entry) => entry.token_hash)).toEqual(tokens.map(sha256));
    expect(feedback.filter((entry) => entry.label === 'true_positive').map((entry) => entry.token_hash)).toEqual([sha256(secret)]);
  });

  it('refuses a body that is not an alert batch with 400', async () => {
    for (const body of ['not json', '{"token":"own_x"}', '[{"type":"x","url":"y"}]', '[1]']) {
      const answer = await postAlerts(t, body, scanner);
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ error: 'invalid_request' });
    }
  });
});

describe('POST /secret-scanning/github without SECRET_SCANNING_KEYS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('is not served', async () => {
    const answer = await postAlerts(t, [{ token: madeUpToken() }], newScanner('k'));
    expect(answer.status).toBe(404);
  });
});
