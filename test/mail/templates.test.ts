import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { messageIdDomain, messageIdFor, retryDelay } from '../../src/mail/delivery-rules.js';
import { renderMail, type MailEvent } from '../../src/mail/templates.js';

const ALICE = 'a1a1a1a1-0000-4000-8000-000000000001';
const SUPPORT = 'b2b2b2b2-0000-4000-8000-000000000002';
const config = { appUrl: 'https://tokens.example.com/profile?tab=api&x="y"' };
const to = { email: 'alice@example.com', name: 'Alice <b>Example</b>' };

function event(overrides: Partial<MailEvent>): MailEvent {
  return {
    action: 'GENERATED',
    occurredAt: new Date('2026-03-01T10:00:00.000Z'),
    actorKind: 'session',
    actorUserId: ALICE,
    actorLabel: 'alice@example.com',
    subjectUserId: ALICE,
    tokenHint: 'own_…Ab12',
    tokenExpiresAt: new Date('2026-08-28T10:00:00.000Z'),
    threshold: null,
    daysLeft: null,
    region: 'eu-west',
    reason: null,
    ...overrides,
  };
}

describe('mail templates', () => {
  it('escapes every interpolated value in the HTML part and keeps the text part literal', () => {
    const reason = '<a href="https://evil.example">click</a> & more';
    const mail = renderMail(
      event({ action: 'REVOKED', actorKind: 'session', actorUserId: SUPPORT, actorLabel: 'sup<port>@example.com', reason }),
      to,
      config,
    )!;
    expect(mail.html).not.toContain('<a href="https://evil.example">');
    expect(mail.html).not.toContain('<b>Example</b>');
    expect(mail.html).toContain('&lt;a href=&quot;https://evil.example&quot;&gt;click&lt;/a&gt; &amp; more');
    expect(mail.html).toContain('Alice &lt;b&gt;Example&lt;/b&gt;');
    expect(mail.html).toContain('sup&lt;port&gt;@example.com');
    expect(mail.html).toContain('href="https://tokens.example.com/profile?tab=api&amp;x=&quot;y&quot;"');
    expect(mail.text).toContain(reason);
    expect(mail.text).toContain('Hi Alice <b>Example</b>,');
  });

  it('says who revoked a token and that it cannot be undone', () => {
    const bySupport = renderMail(
      event({ action: 'REVOKED', actorUserId: SUPPORT, actorLabel: 'support@example.com', reason: 'leaked in a public repo' }),
      to,
      config,
    )!;
    expect(bySupport.subject).toBe('Your API token was revoked');
    expect(bySupport.text).toMatch(/Revoked by:\s+support@example\.com \(support or an administrator\)/);
    expect(bySupport.text).toMatch(/Reason:\s+leaked in a public repo/);
    expect(bySupport.text).toContain('This cannot be undone');
    expect(bySupport.text).toContain('contact your support team');
    expect(bySupport.text).toContain('generate a new token');

    const bySelf = renderMail(event({ action: 'REVOKED' }), to, config)!;
    expect(bySelf.text).toMatch(/Revoked by:\s+you \(signed in as alice@example\.com\)/);
    expect(bySelf.text).not.toContain('Reason');

    const byToken = renderMail(event({ action: 'REVOKED', actorKind: 'token' }), to, config)!;
    expect(byToken.text).toMatch(/Revoked by:\s+a request made with the token itself/);
  });

  it('writes an expiry warning with the days left and the exact expiry time', () => {
    const week = renderMail(event({ action: 'EXPIRY_WARNING', threshold: 'P7D', daysLeft: 7 }), to, config)!;
    expect(week.subject).toBe('Your API token expires in 7 days');
    expect(week.text).toContain('2026-08-28 10:00:00 UTC');
    expect(week.text).toContain(config.appUrl);
    expect(renderMail(event({ action: 'EXPIRY_WARNING', threshold: 'P1D', daysLeft: 1 }), to, config)!.subject).toBe(
      'Your API token expires in 1 day',
    );
  });

  it('writes the support access messages, and nothing for admin actions', () => {
    const disabled = renderMail(
      event({ action: 'ACCESS_DISABLED', actorUserId: SUPPORT, actorLabel: 'support@example.com', reason: 'policy' }),
      to,
      config,
    )!;
    expect(disabled.subject).toBe('API tokens were turned off for your account');
    expect(disabled.text).toContain('has been revoked');
    expect(disabled.text).toMatch(/Reason:\s+policy/);
    const enabled = renderMail(event({ action: 'ACCESS_ENABLED', actorUserId: SUPPORT }), to, config)!;
    expect(enabled.subject).toBe('API tokens were turned back on for your account');
    expect(enabled.text).toContain(config.appUrl);
    for (const action of ['USER_CREATED', 'USER_UPDATED', 'USER_DEACTIVATED', 'BUSINESS_UNIT_CREATED'] as const) {
      expect(renderMail(event({ action }), to, config)).toBeNull();
    }
  });
});

describe('delivery rules', () => {
  it('backs off exponentially with jitter in the upper half, up to a cap', () => {
    const policy = { baseMs: 1_000, maxMs: 60_000 };
    expect(retryDelay(1, policy, () => 0)).toBe(500);
    expect(retryDelay(1, policy, () => 0.999_999)).toBe(1_000);
    expect(retryDelay(4, policy, () => 0)).toBe(4_000);
    expect(retryDelay(20, policy, () => 0.999_999)).toBe(60_000);
    expect(retryDelay(20, policy, () => 0)).toBe(30_000);
  });

  it('derives a stable Message-ID from the outbox row and the sender domain', () => {
    const row = { id: 42, createdAt: new Date('2026-03-01T10:00:00.000Z') };
    expect(messageIdFor(row, 'mail.example.com')).toBe(`<outbox-42.${row.createdAt.getTime()}@mail.example.com>`);
    expect(messageIdDomain('API Tokens <no-reply@mail.example.com>', 'https://app.example.com/')).toBe('mail.example.com');
    expect(messageIdDomain('no-reply@mail.example.com', 'https://app.example.com/')).toBe('mail.example.com');
    expect(messageIdDomain('API Tokens', 'https://app.example.com/profile')).toBe('app.example.com');
  });

  it('rejects bad mail settings by name', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        return error instanceof ConfigError ? error.problems : [String(error)];
      }
    };
    expect(problems({ MAIL_MAX_ATTEMPTS: '0' })).toEqual(['MAIL_MAX_ATTEMPTS: MAIL_MAX_ATTEMPTS must be between 1 and 100']);
    expect(problems({ MAIL_MAX_ATTEMPTS: 'many' })[0]).toContain('MAIL_MAX_ATTEMPTS must be a number');
    expect(problems({ MAIL_POLL_INTERVAL: '5s' })[0]).toContain('MAIL_POLL_INTERVAL must be a positive ISO-8601 duration');
    const defaults = loadConfig({});
    expect(defaults.mailPollInterval.ms).toBe(5_000);
    expect(defaults.mailMaxAttempts).toBe(12);
  });
});
