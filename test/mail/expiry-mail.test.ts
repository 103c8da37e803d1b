import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { APP_URL, generate, MAIL_FROM } from './mail-app.js';
import { eventually } from '../support/eventually.js';
import { secretLeaks, SmtpSink } from './smtp-sink.js';

const DAY = 86_400_000;

describe('expiry emails', () => {
  const clock = new ManualClock('2026-03-01T09:30:00.000Z');
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    t = await startTestApp({ SMTP_URL: sink.url, MAIL_FROM, APP_URL, MAIL_POLL_INTERVAL: 'PT0.1S' }, { clock, autoSweep: false });
  });
  afterAll(async () => {
    await t?.stop();
    await sink?.stop();
  });

  it('warns before expiry with the days left and the exact time, then reports the deletion', async () => {
    const { secret, token } = await generate(t, 'alice@example.com');
    await eventually('the created email', () => sink.to('alice@example.com').length === 1);

    clock.advance(175 * DAY);
    await t.running.sweeper.sweep();
    const warning = await eventually('the warning', () =>
      sink.to('alice@example.com').find((m) => m.parsed.subject?.startsWith('Your API token expires in')),
    );
    expect(warning.parsed.subject).toBe('Your API token expires in 5 days');
    expect(warning.parsed.text).toContain(token.hint);
    expect(warning.parsed.text).toContain('2026-08-28 09:30:00 UTC');
    expect(token.expiresAt).toBe('2026-08-28T09:30:00.000Z');
    expect(warning.parsed.text).toContain(APP_URL);
    expect(warning.parsed.html).toContain(`href="${APP_URL}"`);

    clock.advance(6 * DAY);
    await t.running.sweeper.sweep();
    const expired = await eventually('the expired email', () =>
      sink.to('alice@example.com').find((m) => m.parsed.subject === 'Your API token has expired'),
    );
    expect(expired.parsed.text).toContain(token.hint);
    expect(expired.parsed.text).toContain('has been deleted');
    expect(expired.parsed.text).toContain('generate a new token');
    expect(sink.to('alice@example.com')).toHaveLength(3);
    for (const mail of sink.to('alice@example.com')) expect(secretLeaks(mail, secret)).toEqual([]);
  });
});
