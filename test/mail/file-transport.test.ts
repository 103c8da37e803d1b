import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { simpleParser } from 'mailparser';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { generate, readyz, REVOKE, toAddress } from './mail-app.js';
import { eventually } from '../support/eventually.js';
import { secretLeaks } from './smtp-sink.js';

describe('email without SMTP_URL', () => {
  let t: TestApp;
  const logs: { msg: string; file?: string }[] = [];

  beforeAll(async () => {
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          logs.push(JSON.parse(chunk.toString()) as { msg: string });
          done();
        },
      }),
    );
    t = await startTestApp({ MAIL_POLL_INTERVAL: 'PT0.1S' }, { logger });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('writes each message as an .eml file under DATA_DIR/mail that a mail parser reads', async () => {
    const { secret, token } = await generate(t, 'alice@example.com');
    expect((await t.gql(REVOKE, { auth: await t.session('alice@example.com') })).body.errors).toBeUndefined();

    const dir = join(t.dataDir, 'mail');
    const files = await eventually('two .eml files', async () => {
      const names = await readdir(dir).catch(() => [] as string[]);
      return names.filter((name) => name.endsWith('.eml')).length === 2 && names;
    });
    expect(files.every((name) => name.endsWith('.eml'))).toBe(true);

    const mails = await Promise.all(
      files.sort().map(async (name) => {
        const raw = await readFile(join(dir, name), 'utf8');
        return { raw, parsed: await simpleParser(raw), envelopeTo: [] };
      }),
    );
    expect(mails.map((m) => m.parsed.subject)).toEqual(['Your API token was created', 'Your API token was revoked']);
    for (const mail of mails) {
      expect(toAddress(mail.parsed)).toBe('alice@example.com');
      expect(mail.parsed.text).toContain(token.hint);
      expect(mail.parsed.html).toContain('<html>');
      expect(mail.parsed.messageId).toMatch(/^<outbox-\d+\.\d+@localhost>$/);
      expect(secretLeaks(mail, secret)).toEqual([]);
    }
    for (const name of files) {
      expect(logs.filter((line) => line.file === join(dir, name) && line.msg.includes(name))).toHaveLength(1);
    }
    const ready = await eventually('an empty queue', async () => {
      const { mail } = await readyz(t);
      return mail.pending === 0 && mail;
    });
    expect(ready).toMatchObject({ transport: 'file', failed: 0 });
  });
});
