import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionVerifier } from '../../src/auth/session.js';
import { loadConfig } from '../../src/config.js';

const RealDate = Date;

/** A clock that moves on by `stepMs` at every reading, from `startMs`. */
function fakeClock(startMs: number, stepMs: number): void {
  let now = startMs;
  class SteppingDate extends RealDate {
    constructor(...args: [] | [string | number | Date]) {
      if (args.length === 0) {
        super(now);
        now += stepMs;
      } else super(args[0]);
    }
    static override now(): number {
      const reading = now;
      now += stepMs;
      return reading;
    }
  }
  globalThis.Date = SteppingDate as DateConstructor;
}

describe('a locally signed session', () => {
  afterEach(() => {
    globalThis.Date = RealDate;
  });

  it('lives exactly SESSION_MAX_AGE even when a second ticks while it is signed, and verifies', async () => {
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', SESSION_MAX_AGE: 'PT1H' });
    const sessions = new SessionVerifier(new TextEncoder().encode('s'.repeat(32)), config.session);
    // Each reading of the clock 1 ms after the one before, the first 1 ms before a whole second.
    const signedAt = RealDate.UTC(2026, 11, 5, 12, 0, 0, 999);
    fakeClock(signedAt, 1);
    const jwt = await sessions.sign({ id: '00000000-0000-4000-8000-000000000001', email: 'alice@example.com' });
    const { iat, exp } = decodeJwt(jwt);
    expect((exp ?? 0) - (iat ?? 0)).toBe(3600);
    // Ten seconds later, by the same clock, the service takes it.
    fakeClock(signedAt + 10_000, 0);
    expect(await sessions.check(jwt)).toEqual({ outcome: 'OK', value: '00000000-0000-4000-8000-000000000001' });
  });
});
