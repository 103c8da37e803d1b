import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

function problems(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('hardening configuration', () => {
  it('has safe defaults: limits on, no extra origin, no metrics token, no proxy trusted', () => {
    const config = loadConfig({});
    expect(config.rateLimits).toEqual({
      tokenChanges: { points: 10, duration: { iso: 'PT1H', ms: 3_600_000 } },
      authFailures: { points: 30, duration: { iso: 'PT1M', ms: 60_000 } },
      introspection: { points: 6000, duration: { iso: 'PT1M', ms: 60_000 } },
      revoke: { points: 30, duration: { iso: 'PT1M', ms: 60_000 } },
      scim: { points: 600, duration: { iso: 'PT1M', ms: 60_000 } },
      credentialReports: { points: 60, duration: { iso: 'PT1H', ms: 3_600_000 } },
    });
    expect(config.corsOrigins).toEqual([]);
    expect(config.metricsToken).toBeNull();
    expect(config.trustProxy).toBe(false);
    expect(config.redisKeyPrefix).toBe('api-tokens:');
  });

  it('reads each knob', () => {
    const config = loadConfig({
      RATE_LIMIT_TOKEN_CHANGES: '5/P1D',
      RATE_LIMIT_AUTH_FAILURES: '100 / PT10M',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      TRUST_PROXY: '10.0.0.0/8,loopback',
      METRICS_TOKEN: 'm'.repeat(32),
    });
    expect(config.rateLimits.tokenChanges).toEqual({ points: 5, duration: { iso: 'P1D', ms: 86_400_000 } });
    expect(config.rateLimits.authFailures.points).toBe(100);
    expect(config.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(config.trustProxy).toEqual(['10.0.0.0/8', 'loopback']);
  });

  it.each([
    ['RATE_LIMIT_TOKEN_CHANGES', '10'],
    ['RATE_LIMIT_TOKEN_CHANGES', '0/PT1H'],
    ['RATE_LIMIT_REVOKE', '10/PT0.5S'],
    ['RATE_LIMIT_INTROSPECTION', 'lots/P1M'],
    ['CORS_ORIGINS', '*'],
    ['CORS_ORIGINS', 'https://app.example.com/path'],
    ['METRICS_TOKEN', 'short'],
    ['TRUST_PROXY', '2'],
    ['REDIS_KEY_PREFIX', 'has space'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(problems({ [name]: value })).toContain(name);
  });
});
