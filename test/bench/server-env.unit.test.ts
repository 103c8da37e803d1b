import { describe, expect, it } from 'vitest';
import { serverEnv } from '../../bench/load/server-env.js';

describe('BENCH_SERVER_ENV', () => {
  it('gives every bench server the settings named, values kept whole', () => {
    expect(serverEnv('')).toEqual({});
    expect(serverEnv('SWEEP_INTERVAL=PT1S,DATABASE_URL=postgres://a/b?x=1')).toEqual({
      SWEEP_INTERVAL: 'PT1S',
      DATABASE_URL: 'postgres://a/b?x=1',
    });
  });

  it('refuses an entry that is not NAME=value, rather than running without it', () => {
    expect(() => serverEnv('SWEEP_INTERVAL')).toThrow('BENCH_SERVER_ENV: "SWEEP_INTERVAL" is not NAME=value');
    expect(() => serverEnv('=PT1S')).toThrow('is not NAME=value');
  });
});
