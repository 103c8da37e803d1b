import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { digestToken } from '../../src/tokens/token-format.js';
import { startTestApp, type GqlResponse, type TestApp } from '../support/test-app.js';

/** Everything the service logs, at the most verbose level, without redaction: no code path may log a secret. */
class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.lines.push(chunk.toString('utf8'));
    done();
  }
}

/** The parts of a secret that must not appear anywhere: the whole, and the random body on its own. */
function needles(secret: string): string[] {
  return [secret, secret.slice('own_'.length), secret.slice('own_'.length, 24), secret.slice(-20)];
}

describe('the secret is nowhere but in the response that created it', () => {
  const logs = new LogCapture();
  let t: TestApp;
  const secrets: string[] = [];
  const otherResponses: GqlResponse[] = [];
  const creatingPayloads: { secret: string; rest: unknown }[] = [];

  beforeAll(async () => {
    t = await startTestApp({}, { logger: pino({ level: 'trace' }, logs) });
    const session = await t.session('alice@example.com');
    const other = async (query: string, auth?: string, variables?: Record<string, unknown>) => {
      otherResponses.push(await t.gql(query, { ...(auth ? { auth } : {}), ...(variables ? { variables } : {}) }));
    };

    const generated = await t.gql<{ generateApiToken: { secret: string; token: unknown } }>(
      'mutation { generateApiToken { secret token { id hint createdAt expiresAt } } }',
      { auth: session },
    );
    const first = generated.body.data?.generateApiToken;
    if (!first) throw new Error('generate failed');
    secrets.push(first.secret);
    creatingPayloads.push({ secret: first.secret, rest: first.token });

    // Use it: the read path, the last-used update, and the error paths.
    await other(
      '{ me { id email name role businessUnits { id name } } myApiToken { id hint createdAt expiresAt lastUsedAt lastUsedRegion } }',
      first.secret,
    );
    await other('{ apiTokenPolicy { lifetimeDays warningDays } }', first.secret);
    await other('mutation { generateApiToken { secret } }', first.secret);
    await other('mutation { generateApiToken { secret } }', session);
    await other('mutation($id: ID) { revokeApiToken(id: $id) { tokenId } }', first.secret, { id: first.secret });
    await other('{ myApiToken { id hint } nope }', first.secret);

    const regenerated = await t.gql<{ regenerateApiToken: { secret: string; token: unknown } }>(
      'mutation { regenerateApiToken { secret token { id hint createdAt expiresAt lastUsedAt lastUsedRegion } } }',
      { auth: session },
    );
    const second = regenerated.body.data?.regenerateApiToken;
    if (!second) throw new Error('regenerate failed');
    secrets.push(second.secret);
    creatingPayloads.push({ secret: second.secret, rest: second.token });

    await other('{ me { email } myApiToken { id hint lastUsedAt } }', second.secret);
    await other('{ me { email } }', first.secret);
    await other('{ me { email } }', `${first.secret.slice(0, -1)}x`);
    await other('{ myApiToken { id hint createdAt expiresAt lastUsedAt lastUsedRegion } }', session);
  });
  afterAll(async () => {
    await t.stop();
  });

  it('is returned by generate and regenerate, in the secret field only', () => {
    expect(secrets).toHaveLength(2);
    for (const { secret, rest } of creatingPayloads) {
      expect(secret).toMatch(/^own_/);
      for (const needle of needles(secret)) expect(JSON.stringify(rest)).not.toContain(needle);
    }
  });

  it('appears in no other response, error or header', () => {
    expect(otherResponses.length).toBeGreaterThan(8);
    const text = otherResponses.map((r) => JSON.stringify(r.body) + JSON.stringify([...r.headers.entries()])).join('\n');
    for (const secret of secrets) for (const needle of needles(secret)) expect(text).not.toContain(needle);
  });

  it('appears in no log line, even at trace level', () => {
    expect(logs.lines.length).toBeGreaterThan(10);
    const text = logs.lines.join('');
    for (const secret of secrets) for (const needle of needles(secret)) expect(text).not.toContain(needle);
  });

  it('appears in no audit row', async () => {
    const rows = await t.running.orm.em.fork().find(AuditEvent, {});
    expect(rows.length).toBeGreaterThanOrEqual(3);
    const text = JSON.stringify(rows);
    for (const secret of secrets) for (const needle of needles(secret)) expect(text).not.toContain(needle);
  });

  it('appears in none of the SQLite files, which do hold its digest', async () => {
    const base = join(t.dataDir, 'api-tokens.sqlite');
    const read = async () => {
      const files = [base, `${base}-wal`, `${base}-shm`].filter((file) => existsSync(file));
      return Promise.all(files.map(async (file) => ({ file, bytes: await readFile(file) })));
    };
    const check = (contents: { file: string; bytes: Buffer }[]) => {
      expect(contents.length).toBeGreaterThan(0);
      for (const { file, bytes } of contents) {
        for (const secret of secrets) {
          for (const needle of needles(secret)) expect(bytes.includes(Buffer.from(needle)), file).toBe(false);
        }
      }
      // The search looks where the data is: the live token's digest is found.
      const digest = Buffer.from(digestToken(secrets[1] ?? ''));
      expect(contents.some(({ bytes }) => bytes.includes(digest))).toBe(true);
    };

    check(await read()); // while running (WAL mode: recent writes are in -wal)
    await t.stop({ keepData: true });
    check(await read()); // after shutdown and checkpoint
  });
});
