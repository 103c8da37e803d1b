import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { openDatabase } from '../../src/db/orm.js';
import { createTestDatabase, withClient, type TestDatabase } from '../support/postgres.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { eventually } from '../support/eventually.js';
import { SmtpSink } from '../mail/smtp-sink.js';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';

/**
 * Databases made by the last release on MikroORM 6 (dumped by `sqlite3 .dump`
 * and `pg_dump --inserts` right after its first start and one generated
 * token each) must open under this release: no migration runs twice, the
 * data reads back, and a token issued then still authenticates.
 */
const FIXTURES = join(import.meta.dirname, 'fixtures');
/** The tokens those releases minted, on 2026-12-05, for alice@example.com. */
const V6_TOKENS = {
  sqlite: { secret: 'own_7VbBAHPliw5fsXzwpKcvPi8hOJlbKoFdcnbEy13fjhY1ShzRD', id: 'a521e6e2-6d4b-448e-8d98-bae6676e4f16' },
  postgresql: { secret: 'own_oGdjMPxii0JCjqNsMcovdkRmbCGEcg4uwVXmvjWkKDq0T2TWu', id: '090d3df2-e89a-405c-bb8b-ad674f267ebf' },
};
/** A day after the dumps were made: the fixture tokens are then live whatever today's date is. */
const clock = () => new ManualClock('2026-12-06T00:00:00.000Z');

describe('upgrading a database made by the MikroORM 6 release', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  /**
   * `outboxIdsFrom`: the id the next queued email must get at least (the old
   * release's sequence goes on, so no Message-ID is ever repeated).
   */
  async function checkUpgraded(url: string, token: { secret: string; id: string }, outboxIdsFrom = 2): Promise<void> {
    const orm = await openDatabase(url);
    try {
      expect(await orm.migrator.getPending()).toEqual([]);
      const executed = (await orm.migrator.getExecuted()).map((row) => row.name);
      // Each migration ran once: the old release's rows were recognised, not run again.
      expect(new Set(executed).size).toBe(executed.length);
    } finally {
      await orm.close();
    }
    const sink = await SmtpSink.start();
    cleanups.push(() => sink.stop());
    const app: TestApp = await startTestApp({ DATABASE_URL: url, SMTP_URL: sink.url, MAIL_POLL_INTERVAL: 'PT0.2S' }, { clock: clock() });
    cleanups.push(() => app.stop());
    // The old release queued alice's "created" email rendered, and it was never sent: it goes out as it was written.
    const [old] = await eventually(
      'the email the old release queued',
      () => sink.to('alice@example.com').length > 0 && sink.to('alice@example.com'),
    );
    expect(old!.parsed.subject).toBe('Your API token was created');
    expect(old!.parsed.text).toContain('Hi Alice Example,');
    expect(old!.parsed.text).toMatch(/Created by: you \(signed in as alice@example\.com\)/);
    expect(old!.parsed.messageId).toMatch(/^<outbox-1\./);
    const read = await app.gql<{ me: { email: string }; myApiToken: { id: string } | null }>('{ me { email } myApiToken { id } }', {
      auth: token.secret,
    });
    expect(read.body.errors).toBeUndefined();
    expect(read.body.data).toEqual({ me: { email: 'alice@example.com' }, myApiToken: { id: token.id } });
    // The upgraded database takes writes: bob, who had no token, gets one.
    const generated = await app.gql<{ generateApiToken: { secret: string } }>('mutation { generateApiToken { secret } }', {
      auth: await app.session('bob@example.com'),
    });
    expect(generated.body.errors).toBeUndefined();
    expect(generated.body.data?.generateApiToken.secret).toMatch(/^own_/);
    // Bob's email is queued the new way and rendered when sent.
    const [created] = await eventually("bob's created email", () => sink.to('bob@example.com').length > 0 && sink.to('bob@example.com'));
    expect(created!.parsed.subject).toBe('Your API token was created');
    expect(created!.parsed.text).toContain('Hi Bob Example,');
    // The sink holds the message before the worker has the relay's answer and marks the row sent.
    const rows = await eventually('both rows marked sent', async () => {
      const found = await app.running.orm.em.fork().find(OutboxMessage, {}, { orderBy: { id: 'asc' } });
      return found.every((row) => row.status === 'SENT') && found;
    });
    expect(rows.map((row) => [row.recipient, row.status])).toEqual([
      ['alice@example.com', 'SENT'],
      ['bob@example.com', 'SENT'],
    ]);
    expect(rows[0]!.id).toBe(1);
    expect(rows[1]!.id).toBeGreaterThanOrEqual(outboxIdsFrom);
  }

  it('SQLite: the old file migrates, reads back and takes writes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'api-tokens-upgrade-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'v6.sqlite');
    const db = new DatabaseSync(file);
    db.exec(await readFile(join(FIXTURES, 'v6-sqlite.sql'), 'utf8'));
    // As if emails 2-41 had been queued and removed since: the rebuilt outbox must not hand out their ids again.
    db.exec("update sqlite_sequence set seq = 41 where name = 'outbox_messages'");
    db.close();
    await checkUpgraded(`sqlite:${file}`, V6_TOKENS.sqlite, 42);
  });

  it('PostgreSQL: the old database migrates, reads back and takes writes', async () => {
    const database: TestDatabase = await createTestDatabase();
    cleanups.push(() => database.drop());
    const fixture = await readFile(join(FIXTURES, 'v6-postgresql.sql'), 'utf8');
    await withClient(database.url, (client) => client.query(fixture));
    await checkUpgraded(database.url, V6_TOKENS.postgresql);
  });
});
