import { describe, expect, it } from 'vitest';
import { ApiTokenEventKind } from '../../src/events/api-token-event.type.js';
import { EVENT_RULES, TOKEN_EVENT_KINDS, endsCredential, isPublished, ruleOf } from '../../src/audit/event-rules.js';

const token = (tokenId: string) => ({ via: 'token' as const, tokenId });
const session = { via: 'session' as const, tokenId: null };

describe('event rules', () => {
  it('end exactly the credentials they name', () => {
    expect(endsCredential({ kind: 'REVOKED', tokenId: 't1' }, token('t1'))).toBe(true);
    expect(endsCredential({ kind: 'EXPIRED', tokenId: 't1' }, token('t1'))).toBe(true);
    // Another token of the user (a regenerate's new one) and sessions survive a revoke.
    expect(endsCredential({ kind: 'REVOKED', tokenId: 't1' }, token('t2'))).toBe(false);
    expect(endsCredential({ kind: 'REVOKED', tokenId: 't1' }, session)).toBe(false);
    expect(endsCredential({ kind: 'ACCESS_DISABLED', tokenId: null }, token('t2'))).toBe(true);
    expect(endsCredential({ kind: 'ACCESS_DISABLED', tokenId: null }, session)).toBe(false);
    expect(endsCredential({ kind: 'USER_DEACTIVATED' }, session)).toBe(true);
    expect(endsCredential({ kind: 'USER_UPDATED' }, session)).toBe(false);
    expect(endsCredential({ kind: 'GENERATED', tokenId: 't1' }, token('t1'))).toBe(false);
  });

  it('invalidate on every change to access, and fail safe on actions they do not know', () => {
    const invalidating = Object.entries(EVENT_RULES)
      .filter(([, rule]) => rule.invalidates)
      .map(([action]) => action);
    expect(invalidating.sort()).toEqual(
      ['ACCESS_DISABLED', 'ACCESS_ENABLED', 'EXPIRED', 'REVOKED', 'USER_DEACTIVATED', 'USER_REACTIVATED', 'USER_UPDATED'].sort(),
    );
    expect(ruleOf('SOMETHING_NEW')).toMatchObject({ invalidates: true, subscribed: false, mailed: false });
    expect(isPublished('SOMETHING_NEW')).toBe(true);
    expect(isPublished('USER_CREATED')).toBe(false);
    expect(isPublished('BUSINESS_UNIT_CREATED')).toBe(false);
  });

  it('drop an organisation’s cached SCIM token on its issue, rotation and revocation, and on actions they do not know', () => {
    const invalidating = Object.entries(EVENT_RULES)
      .filter(([, rule]) => rule.invalidatesOrganization)
      .map(([action]) => action);
    expect(invalidating.sort()).toEqual(['SCIM_TOKEN_ISSUED', 'SCIM_TOKEN_REVOKED', 'SCIM_TOKEN_ROTATED']);
    expect(ruleOf('SOMETHING_NEW').invalidatesOrganization).toBe(true);
    // No user to deliver them to: they cross no hub, so no subscriber or socket ever sees them.
    for (const action of invalidating) expect(isPublished(action)).toBe(false);
  });

  it('mail and show subscribers the token events only, and the GraphQL enum lists the same kinds', () => {
    for (const [action, rule] of Object.entries(EVENT_RULES)) {
      const tokenEvent = (TOKEN_EVENT_KINDS as readonly string[]).includes(action);
      expect({ action, subscribed: rule.subscribed, mailed: rule.mailed }).toEqual({
        action,
        subscribed: tokenEvent,
        mailed: tokenEvent,
      });
    }
    expect(Object.keys(ApiTokenEventKind)).toEqual([...TOKEN_EVENT_KINDS]);
  });
});
