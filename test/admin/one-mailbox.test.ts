import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validEmail, validName, validReason } from '../../src/admin/validate.js';
import { runAdminCommand } from '../../src/cli/admin-command.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { BadUserInputError } from '../../src/errors.js';
import { expectError, userId } from './admin-helpers.js';
import { expectScimError, scimClient, scimToken } from '../scim/scim-client.js';
import { TEST_SESSION_SECRET, startTestApp, type TestApp } from '../support/test-app.js';

/** Each of these reads as more than one recipient (or another one) to a mailer. */
const NOT_ONE_MAILBOX = [
  'x,victim@other.example',
  'x<victim@other.example>',
  'Eve <victim@other.example>',
  'g:victim@other.example;',
  'x@acme.example,victim@other.example',
  'x@acme.example (comment)',
  '"quoted"@acme.example',
  'x@[127.0.0.1]',
  'x@acme.example\nBcc: victim@other.example',
  'a\u200b@acme.example',
  'a@acme\u202e.example',
  'x..y@acme.example',
  '.x@acme.example',
  'x@-acme.example',
  'x@acme',
];

const BREAKS_AND_HIDDEN = ['\r', '\n', '\u2028', '\u2029', '\u0085', '\u000b', '\u200b', '\u200d', '\u202e', '\u2066', '\ufeff'];

describe('one mailbox per address', () => {
  it.each(NOT_ONE_MAILBOX)('refuses %j', (email) => {
    expect(() => validEmail(email, 'email')).toThrow(BadUserInputError);
  });

  it('accepts ordinary and internationalised mailboxes, trimmed and lower-cased', () => {
    expect(validEmail(" Dana.O'Neil+tokens@Acme.Example ", 'email')).toBe("dana.o'neil+tokens@acme.example");
    expect(validEmail('josé@bücher.example', 'email')).toBe('josé@bücher.example');
    expect(validEmail('a-b_c@sub-1.acme.example', 'email')).toBe('a-b_c@sub-1.acme.example');
  });

  it.each(BREAKS_AND_HIDDEN.map((c) => [JSON.stringify(c), c]))('refuses %s in names and reasons', (_label, c) => {
    expect(() => validName(`Ada${c}Lovelace`, 'name')).toThrow(/line breaks, control characters or invisible/);
    expect(() => validReason(`Leaked${c}Click here`, 'reason')).toThrow(/one line/);
  });

  it('keeps names in any script', () => {
    expect(validName(' Zoë Ünal 李雷 ', 'name')).toBe('Zoë Ünal 李雷');
  });
});

describe('every door refuses a second mailbox', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.session('admin@example.com');
  });
  afterAll(async () => {
    await t.stop();
  });

  const CREATE_USER = 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }';

  it('createUser answers BAD_USER_INPUT on the email, and for a name with a line break', async () => {
    for (const email of ['x,victim@other.example', 'x<victim@other.example>', 'g:victim@other.example;']) {
      expectError(await t.gql(CREATE_USER, { auth: admin, variables: { input: { email, name: 'X' } } }), 'BAD_USER_INPUT', 'input.email');
    }
    expectError(
      await t.gql(CREATE_USER, { auth: admin, variables: { input: { email: 'nl@example.com', name: 'X\u2028Your token leaked' } } }),
      'BAD_USER_INPUT',
      'input.name',
    );
  });

  it('a reason with a line break is refused before anything changes', async () => {
    const bob = await userId(t, 'bob@example.com');
    const res = await t.gql(
      'mutation ($id: ID!, $reason: String) { setApiTokenAccess(userId: $id, enabled: false, reason: $reason) { apiTokensEnabled } }',
      {
        auth: admin,
        variables: { id: bob, reason: 'Policy\r\nSign in at https://evil.example' },
      },
    );
    expectError(res, 'BAD_USER_INPUT', 'reason');
    const me = await t.gql<{ me: { apiTokensEnabled: boolean } }>('{ me { apiTokensEnabled } }', {
      auth: await t.session('bob@example.com'),
    });
    expect(me.body.data?.me.apiTokensEnabled).toBe(true);
  });

  it('SCIM answers 400 invalidValue for a userName that is not one mailbox, or a zero-width name', async () => {
    const acme = scimClient(t, await scimToken(t, 'Acme'));
    for (const userName of ['x,victim@other.example', 'x<victim@other.example>', 'g:victim@other.example;']) {
      expectScimError(await acme('POST', '/Users', { userName, name: { formatted: 'X' } }), 400, 'invalidValue');
    }
    expectScimError(await acme('POST', '/Users', { userName: 'zw@example.com', displayName: 'Ad\u200bmin' }), 400, 'invalidValue');
  });
});

describe('the admin CLI refuses a second mailbox', () => {
  let dataDir: string;
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('exits 1 and names --admin', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'api-tokens-mailbox-cli-'));
    const config = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir, SESSION_SECRET: TEST_SESSION_SECRET, LOG_LEVEL: 'silent' });
    const err: string[] = [];
    const code = await runAdminCommand(['create-organization', '--name', 'Initech', '--admin', 'x<victim@other.example>'], {
      config,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      out: () => undefined,
      err: (text) => err.push(text),
    });
    expect(code).toBe(1);
    expect(err.join('')).toMatch(/one email address.*\(--admin\)/);
  });
});
