import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const DAY = 86_400_000;
const SECRET = 'a-session-secret-of-at-least-32-characters';

/** The ConfigError `loadConfig(env)` throws; fails the test if it does not throw one. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('has working defaults for the embedded profile', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      host: '0.0.0.0',
      port: 4000,
      dataDir: './data',
      databaseUrl: 'sqlite:./data/api-tokens.sqlite',
      redisUrl: null,
      session: { secret: null, jwksUrl: null, issuer: null, audience: null },
      smtpUrl: null,
      appUrl: 'http://localhost:4000/',
      region: 'local',
      regions: ['local'],
      tokenLifetime: { iso: 'P180D', ms: 180 * DAY },
      expiryWarnings: [
        { iso: 'P30D', ms: 30 * DAY },
        { iso: 'P7D', ms: 7 * DAY },
        { iso: 'P1D', ms: DAY },
      ],
      sweepInterval: { iso: 'PT1M', ms: 60_000 },
      sweepMaxRate: 6_000,
      bodyLimit: 100 * 1024,
      logLevel: 'info',
    });
    expect(config.mailFrom).toContain('@');
  });

  it('reads every setting it is given', () => {
    const config = loadConfig({
      PORT: '8080',
      DATA_DIR: '/tmp/x/',
      DATABASE_URL: 'postgres://u@db:5432/tokens',
      REDIS_URL: 'redis://127.0.0.1:6379',
      SESSION_SECRET: SECRET,
      REGION: 'eu-west',
      REGIONS: 'us-east, eu-west',
      TOKEN_LIFETIME: 'P90D',
      EXPIRY_WARNINGS: 'P1D,P14D',
      SWEEP_INTERVAL: 'PT20S',
      SWEEP_MAX_RATE: '2500',
      BODY_LIMIT: '2048',
      LOG_LEVEL: 'warn',
    });
    expect(config).toMatchObject({
      port: 8080,
      databaseUrl: 'postgres://u@db:5432/tokens',
      redisUrl: 'redis://127.0.0.1:6379',
      session: { secret: SECRET },
      region: 'eu-west',
      regions: ['us-east', 'eu-west'],
      tokenLifetime: { iso: 'P90D', ms: 90 * DAY },
      sweepInterval: { iso: 'PT20S', ms: 20_000 },
      sweepMaxRate: 2500,
      bodyLimit: 2048,
      logLevel: 'warn',
    });
    expect(config.expiryWarnings.map((w) => w.iso)).toEqual(['P14D', 'P1D']);
    expect(loadConfig({ DATA_DIR: '/tmp/x/' }).databaseUrl).toBe('sqlite:/tmp/x/api-tokens.sqlite');
  });

  it.each<[string, NodeJS.ProcessEnv]>([
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '80.5' }],
    ['TOKEN_LIFETIME', { TOKEN_LIFETIME: 'six months' }],
    ['TOKEN_LIFETIME', { TOKEN_LIFETIME: 'P6M' }],
    ['TOKEN_LIFETIME', { TOKEN_LIFETIME: 'P0D' }],
    ['EXPIRY_WARNINGS', { EXPIRY_WARNINGS: 'P30D,soon' }],
    ['EXPIRY_WARNINGS', { EXPIRY_WARNINGS: 'P7D,P1W' }],
    ['SWEEP_INTERVAL', { SWEEP_INTERVAL: '60' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://db/tokens' }],
    ['DATABASE_URL', { DATABASE_URL: 'not a url' }],
    ['REDIS_URL', { REDIS_URL: 'http://127.0.0.1:6379' }],
    ['SESSION_SECRET', { SESSION_SECRET: 'too-short' }],
    ['SESSION_JWKS_URL', { SESSION_JWKS_URL: 'ftp://idp/jwks' }],
    ['SMTP_URL', { SMTP_URL: 'mail.example.com' }],
    ['REGION', { REGION: 'EU West' }],
    ['REGIONS', { REGIONS: 'us-east,eu-west' }],
    ['REGIONS', { REGIONS: 'local,EU West' }],
    ['REGIONS', { REGIONS: 'local,us-east,local' }],
    ['BODY_LIMIT', { BODY_LIMIT: '10' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['NODE_ENV', { NODE_ENV: 'staging' }],
  ])('refuses a bad %s with a ConfigError naming it (%j)', (name, env) => {
    const error = configError(env);
    expect(error.problems.length).toBeGreaterThan(0);
    for (const problem of error.problems) expect(problem).toContain(name);
    expect(error.message).toContain(name);
  });

  it('reports several bad values at once', () => {
    const error = configError({ PORT: 'abc', TOKEN_LIFETIME: 'soon', SESSION_SECRET: 'short' });
    const text = error.problems.join('\n');
    expect(text).toContain('PORT');
    expect(text).toContain('TOKEN_LIFETIME');
    expect(text).toContain('SESSION_SECRET');
  });

  it('reports checks across variables together with single bad values', () => {
    const error = configError({
      PORT: 'abc',
      EXPIRY_WARNINGS: 'P7D,nope',
      REGION: 'eu-west',
      REGIONS: 'us-east',
      NODE_ENV: 'production',
    });
    const text = error.problems.join('\n');
    for (const name of ['PORT', 'EXPIRY_WARNINGS', 'REGIONS', 'SESSION_SECRET']) expect(text).toContain(name);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', REGION: ' ', TOKEN_LIFETIME: '' })).toMatchObject({
      port: 4000,
      region: 'local',
      tokenLifetime: { iso: 'P180D' },
    });
  });

  it('refuses production without a session secret or JWKS URL', () => {
    const error = configError({ NODE_ENV: 'production' });
    expect(error.message).toMatch(/SESSION_SECRET/);
    expect(error.message).toMatch(/SESSION_JWKS_URL/);
    expect(configError({ NODE_ENV: 'production', SESSION_SECRET: '  ' }).message).toMatch(/SESSION_SECRET/);
  });

  it('accepts production with either a session secret or a JWKS URL', () => {
    expect(loadConfig({ NODE_ENV: 'production', SESSION_SECRET: SECRET }).session.secret).toBe(SECRET);
    expect(loadConfig({ NODE_ENV: 'production', SESSION_JWKS_URL: 'https://idp.example.com/jwks' }).session).toMatchObject({
      secret: null,
      jwksUrl: 'https://idp.example.com/jwks',
    });
  });
});
