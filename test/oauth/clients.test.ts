import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { IntrospectionClients } from '../../src/oauth/introspection-clients.js';
import { startTestApp } from '../support/test-app.js';
import { basic, generateToken, oauthPost } from '../admin/admin-helpers.js';

function configProblems(value: string): string[] {
  try {
    loadConfig({ INTROSPECTION_CLIENTS: value });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

describe('INTROSPECTION_CLIENTS', () => {
  it('parses id:secret pairs', () => {
    const config = loadConfig({ INTROSPECTION_CLIENTS: ' a:0123456789abcdef:x , b.c:fedcba9876543210 ' });
    expect(config.introspectionClients).toEqual([
      { id: 'a', secret: '0123456789abcdef:x' },
      { id: 'b.c', secret: 'fedcba9876543210' },
    ]);
    expect(loadConfig({}).introspectionClients).toEqual([]);
  });

  it.each([
    ['no-colon-here-at-all', /entry 1 must be id:secret/],
    [':0123456789abcdef', /entry 1 must be id:secret/],
    ['bad id!:0123456789abcdef', /entry 1 must be id:secret/],
    ['ok:0123456789abcdef,short:tooshort', /entry 2 \("short"\) needs a secret of at least 16/],
    ['dup:0123456789abcdef,dup:fedcba9876543210', /client id "dup" appears twice/],
  ])('refuses %s with a message that names the entry', (value, message) => {
    const problems = configProblems(value);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
    // A config error is printed at start: it must not echo a secret.
    for (const secret of ['0123456789abcdef', 'fedcba9876543210', 'tooshort']) expect(problems[0]).not.toContain(secret);
  });
});

describe('IntrospectionClients', () => {
  const clients = new IntrospectionClients([{ id: 'rs', secret: 'p@ss+word:with%stuff' }]);

  it('accepts the raw and the form-encoded credentials of RFC 6749 §2.3.1', () => {
    expect(clients.authenticate(basic('rs', 'p@ss+word:with%stuff'))).toBe('rs');
    expect(clients.authenticate(basic('rs', encodeURIComponent('p@ss+word:with%stuff')))).toBe('rs');
    expect(clients.authenticate(basic('rs', 'p@ss word:with%stuff'))).toBeNull();
    expect(clients.authenticate(basic('rs', ''))).toBeNull();
    expect(clients.authenticate(undefined)).toBeNull();
  });

  it('accepts the scheme in any case, other spacing and other encodings of the same pair, and nothing near them', () => {
    const pair = Buffer.from('rs:p@ss+word:with%stuff').toString('base64');
    expect(clients.authenticate(`basic ${pair}`)).toBe('rs');
    expect(clients.authenticate(`Basic  ${pair} `)).toBe('rs');
    // Encoded otherwise than the canonical form (the id's `s` as `%73`, `@` left alone), decoding to the same pair.
    expect(clients.authenticate(basic('r%73', 'p@ss%2Bword%3Awith%25stuff'))).toBe('rs');
    expect(clients.authenticate(`Basic ${pair}x`)).toBeNull();
    expect(clients.authenticate(`Bearer ${pair}`)).toBeNull();
    expect(clients.authenticate(basic('RS', 'p@ss+word:with%stuff'))).toBeNull();
  });
});

describe('the introspection client outside and inside production', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('generates a development client once, keeps it in DATA_DIR and logs how to use it, not the secret', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'api-tokens-dev-client-'));
    dirs.push(dataDir);
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    const t = await startTestApp({ NODE_ENV: 'development', LOG_LEVEL: 'info' }, { dataDir, logger });
    const file = join(dataDir, 'introspection-client');
    const credentials = readFileSync(file, 'utf8').trim();
    const [id, secret] = [credentials.slice(0, credentials.indexOf(':')), credentials.slice(credentials.indexOf(':') + 1)];
    try {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const token = await generateToken(t, 'alice@example.com');
      const res = await oauthPost(t, '/oauth/introspect', { token: token.secret }, { authorization: basic(id, secret) });
      expect(res.json).toMatchObject({ active: true, username: 'alice@example.com' });

      const hint = lines.filter((line) => line.includes('curl'));
      expect(hint).toHaveLength(1);
      expect(hint[0]).toContain(file);
      expect(lines.join('')).not.toContain(secret);
    } finally {
      await t.stop({ keepData: true });
    }

    // A restart keeps the same client, so scripts written against it keep working.
    const again = await startTestApp({ NODE_ENV: 'development' }, { dataDir });
    try {
      expect(readFileSync(file, 'utf8').trim()).toBe(credentials);
      const res = await oauthPost(again, '/oauth/introspect', { token: 'x' }, { authorization: basic(id, secret) });
      expect(res.status).toBe(200);
    } finally {
      await again.stop({ keepData: true });
    }
  });

  it('in production, with no client configured, answers 401 invalid_client to everyone', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'api-tokens-prod-client-'));
    dirs.push(dataDir);
    const t = await startTestApp({ NODE_ENV: 'production' }, { dataDir });
    try {
      for (const authorization of [undefined, basic('dev-introspector', 'anything-at-all-0123')]) {
        const res = await oauthPost(t, '/oauth/introspect', { token: 'x' }, authorization ? { authorization } : {});
        expect(res.status).toBe(401);
        expect(res.json).toMatchObject({ error: 'invalid_client' });
      }
      expect(() => statSync(join(dataDir, 'introspection-client'))).toThrow();
    } finally {
      await t.stop({ keepData: true });
    }
  });
});
