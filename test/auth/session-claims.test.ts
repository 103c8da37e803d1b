import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TEST_SESSION_SECRET, type TestApp } from '../support/test-app.js';
import { LogCapture } from '../http/log-capture.js';
import { rawSocket } from '../http/raw-socket.js';

const KEY = new TextEncoder().encode(TEST_SESSION_SECRET);
const ISSUER = 'https://idp.example.com';
const AUDIENCE = 'api-tokens';
const HOUR = 3_600;
const now = () => Math.floor(Date.now() / 1000);

interface Claims {
  readonly iss?: string | null;
  readonly aud?: string | null;
  readonly iat?: number | null;
  readonly exp?: number | null;
  readonly sub?: string | null;
}

describe('session JWT claims', () => {
  let t: TestApp;
  let aliceId: string;
  beforeAll(async () => {
    t = await startTestApp({ SESSION_ISSUER: ISSUER, SESSION_AUDIENCE: AUDIENCE });
    aliceId = (await t.running.services.users.findByEmail('alice@example.com'))?.id ?? '';
  });
  afterAll(async () => {
    await t.stop();
  });

  /** An HS256 session for alice with the given claims; `null` leaves a claim out. */
  function sign(claims: Claims = {}): Promise<string> {
    const payload: Record<string, unknown> = {
      iss: ISSUER,
      aud: AUDIENCE,
      sub: aliceId,
      iat: now(),
      exp: now() + HOUR,
      ...claims,
    };
    for (const [name, value] of Object.entries(payload)) if (value === null) delete payload[name];
    return new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(KEY);
  }

  async function status(jwt: string): Promise<number> {
    const res = await t.gql('{ me { email } }', { auth: jwt });
    if (res.status === 401) expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    return res.status;
  }

  it('accepts a session with every required claim', async () => {
    expect(await status(await sign())).toBe(200);
    expect(await status(await sign({ iat: now() - 11 * HOUR, exp: now() + HOUR / 2 }))).toBe(200);
  });

  it.each<[string, Claims]>([
    ['no exp (it would never expire)', { exp: null }],
    ['no iat', { iat: null }],
    ['no sub', { sub: null }],
    ['a lifetime over SESSION_MAX_AGE (12h), even while fresh', { exp: now() + 24 * HOUR }],
    ['issued longer ago than SESSION_MAX_AGE', { iat: now() - 13 * HOUR, exp: now() + 60 }],
    ['issued in the future', { iat: now() + HOUR, exp: now() + 2 * HOUR }],
    ['expired', { iat: now() - 2 * HOUR, exp: now() - HOUR }],
    ['a wrong issuer', { iss: 'https://evil.example.com' }],
    ['no issuer', { iss: null }],
    ['a wrong audience', { aud: 'someone-else' }],
    ['no audience', { aud: null }],
  ])('refuses %s with 401', async (_name, claims) => {
    expect(await status(await sign(claims))).toBe(401);
  });

  it('refuses the same over graphql-ws', async () => {
    const socket = await rawSocket(t.url);
    socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${await sign({ exp: null })}` } });
    expect((await socket.closed).code).toBe(4403);
  });

  it('signs sessions (as the session CLI does) that pass these rules', async () => {
    const jwt = await t.session('alice@example.com');
    expect(await status(jwt)).toBe(200);
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Required<Claims>;
    expect(claims).toMatchObject({ iss: ISSUER, aud: AUDIENCE, sub: aliceId });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(12 * HOUR);
  });
});

describe('session settings at start in production', () => {
  it('warns when SESSION_ISSUER and SESSION_AUDIENCE are not set, and not when they are', async () => {
    const bare = new LogCapture();
    const set = new LogCapture();
    const warnings = (logs: LogCapture) =>
      logs.lines.filter((line) => line.includes('SESSION_ISSUER') && (JSON.parse(line) as { level: number }).level === 40);
    const production = { NODE_ENV: 'production', SESSION_SECRET: TEST_SESSION_SECRET };
    const first = await startTestApp(production, { logger: bare.logger });
    await first.stop();
    const second = await startTestApp(
      { ...production, SESSION_ISSUER: ISSUER, SESSION_AUDIENCE: AUDIENCE, SESSION_MAX_AGE: 'PT1H' },
      { logger: set.logger },
    );
    await second.stop();
    expect(warnings(bare)).toHaveLength(1);
    expect(warnings(bare)[0]).toContain('SESSION_ISSUER and SESSION_AUDIENCE not set');
    expect(warnings(set)).toEqual([]);
  });
});
