import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.js';
import { humanMessage } from '../../web/src/errors.js';

// Every code the service can send (the closed set in src/errors.ts), and the page's own OFFLINE.
const CODES: Record<ErrorCode | 'OFFLINE', RegExp> = {
  UNAUTHENTICATED: /session has expired/,
  FORBIDDEN: /not allowed/,
  BAD_USER_INPUT: /went wrong/,
  API_TOKEN_EXISTS: /already have an API token/,
  API_TOKEN_NOT_FOUND: /no longer exists/,
  API_TOKENS_DISABLED: /turned off for your account/,
  RATE_LIMITED: /Too many attempts/,
  USER_INACTIVE: /account has been deactivated/,
  OFFLINE: /offline/,
};

describe('the page’s error messages', () => {
  it.each(Object.entries(CODES))('%s reads as words, without the code', (code, words) => {
    const message = humanMessage(code);
    expect(message).toMatch(words);
    expect(message).not.toContain(code);
    expect(message).not.toMatch(/[A-Z]{2,}_[A-Z]/);
  });

  it('says something went wrong for a code it does not know', () => {
    expect(humanMessage('SOMETHING_NEW')).toBe('Something went wrong on our side. Try again in a moment.');
  });
});
