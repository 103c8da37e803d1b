import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { errorCode, startTestApp, type TestApp } from '../support/test-app.js';
import { EVENT_FIELDS, subscribe } from '../support/ws-client.js';
import { auditRows, expectError, generateToken, INTROSPECTION_ENV, introspect, userId } from './admin-helpers.js';

const SET_ACCESS = `mutation ($userId: ID!, $enabled: Boolean!, $reason: String) {
  setApiTokenAccess(userId: $userId, enabled: $enabled, reason: $reason) { id apiTokensEnabled }
}`;
const REVOKE_USER_TOKEN = `mutation ($userId: ID!, $reason: String) {
  revokeUserApiToken(userId: $userId, reason: $reason) { tokenId revokedAt }
}`;
const POLICY = '{ apiTokenPolicy { tokensEnabled disabledReason } me { apiTokensEnabled } }';

describe('support and admin controls over API tokens', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ...INTROSPECTION_ENV, REGION: 'eu-west', REGIONS: 'eu-west,us-east' });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('disabling revokes the token at once and refuses new ones until an admin re-enables them', async () => {
    const admin = await t.session('admin@example.com');
    const bobSession = await t.session('bob@example.com');
    const bob = await userId(t, 'bob@example.com');
    const token = await generateToken(t, 'bob@example.com');
    expect(await introspect(t, token.secret)).toMatchObject({ active: true });

    const disabled = await t.gql(SET_ACCESS, {
      auth: admin,
      variables: { userId: bob, enabled: false, reason: 'Token pasted in a public issue' },
    });
    expect(disabled.body.errors).toBeUndefined();
    expect(disabled.body.data).toEqual({ setApiTokenAccess: { id: bob, apiTokensEnabled: false } });

    // The token is gone, in every way a caller could notice.
    const call = await t.gql('{ me { email } }', { auth: token.secret });
    expect(call.status).toBe(401);
    expect(call.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="/);
    expect(await introspect(t, token.secret)).toEqual({ active: false });
    expect(await t.running.orm.em.fork().count(ApiToken, { user: bob })).toBe(0);

    // New tokens are refused, and the policy says why.
    expectError(await t.gql('mutation { generateApiToken { secret } }', { auth: bobSession }), 'API_TOKENS_DISABLED');
    expectError(await t.gql('mutation { regenerateApiToken { secret } }', { auth: bobSession }), 'API_TOKENS_DISABLED');
    expect((await t.gql(POLICY, { auth: bobSession })).body.data).toEqual({
      apiTokenPolicy: { tokensEnabled: false, disabledReason: 'Token pasted in a public issue' },
      me: { apiTokensEnabled: false },
    });

    const rows = await auditRows(t, bob);
    const [accessDisabled, revoked] = rows.slice(-2);
    expect(accessDisabled).toMatchObject({
      action: 'ACCESS_DISABLED',
      actorLabel: 'admin@example.com',
      reason: 'Token pasted in a public issue',
      region: 'eu-west',
    });
    expect(revoked).toMatchObject({
      action: 'REVOKED',
      actorLabel: 'admin@example.com',
      tokenId: token.id,
      reason: 'Token pasted in a public issue',
    });

    const mail = await t.running.orm.em.fork().find(OutboxMessage, { recipient: 'bob@example.com' }, { orderBy: { id: 'asc' } });
    expect(mail.map((m) => m.kind).slice(-2)).toEqual(['ACCESS_DISABLED', 'REVOKED']);

    const enabled = await t.gql(SET_ACCESS, { auth: admin, variables: { userId: bob, enabled: true } });
    expect(enabled.body.data).toEqual({ setApiTokenAccess: { id: bob, apiTokensEnabled: true } });
    expect((await auditRows(t, bob)).at(-1)).toMatchObject({ action: 'ACCESS_ENABLED', actorLabel: 'admin@example.com' });
    expect((await t.gql(POLICY, { auth: bobSession })).body.data).toEqual({
      apiTokenPolicy: { tokensEnabled: true, disabledReason: null },
      me: { apiTokensEnabled: true },
    });
    const again = await generateToken(t, 'bob@example.com');
    expect(await introspect(t, again.secret)).toMatchObject({ active: true, username: 'bob@example.com' });
  });

  it('publishes ACCESS_DISABLED, REVOKED and ACCESS_ENABLED to the user’s event stream', async () => {
    const admin = await t.session('admin@example.com');
    const alice = await userId(t, 'alice@example.com');
    await generateToken(t, 'alice@example.com');
    const before = (await auditRows(t, alice)).at(-1)?.id ?? 0;
    await t.gql(SET_ACCESS, { auth: admin, variables: { userId: alice, enabled: false, reason: 'Audit' } });
    await t.gql(SET_ACCESS, { auth: admin, variables: { userId: alice, enabled: true } });

    const stream = subscribe<{ kind: string; actor: string | null }>(
      t.url,
      await t.session('alice@example.com'),
      `subscription ($after: ID) { apiTokenEvents(after: $after) { ${EVENT_FIELDS} } }`,
      { after: String(before) },
    );
    try {
      const events = await stream.waitFor(3);
      expect(events.slice(0, 3).map((event) => [event.kind, event.actor])).toEqual([
        ['ACCESS_DISABLED', 'admin@example.com'],
        ['REVOKED', 'admin@example.com'],
        ['ACCESS_ENABLED', 'admin@example.com'],
      ]);
    } finally {
      await stream.dispose();
    }
  });

  it('records nothing when the state does not change', async () => {
    const admin = await t.session('admin@example.com');
    const alice = await userId(t, 'alice@example.com');
    const before = (await auditRows(t, alice)).length;
    const res = await t.gql(SET_ACCESS, { auth: admin, variables: { userId: alice, enabled: true } });
    expect(res.body.data).toEqual({ setApiTokenAccess: { id: alice, apiTokensEnabled: true } });
    expect(await auditRows(t, alice)).toHaveLength(before);
  });

  it('lets SUPPORT act in any organisation and ADMIN only in their own', async () => {
    const support = await t.session('support@example.com');
    const acmeAdmin = await t.session('admin@example.com');
    const globexAdmin = await t.session('admin@globex.example.com');
    const carol = await userId(t, 'carol@globex.example.com');
    const alice = await userId(t, 'alice@example.com');
    const carolToken = await generateToken(t, 'carol@globex.example.com');

    expectError(await t.gql(SET_ACCESS, { auth: acmeAdmin, variables: { userId: carol, enabled: false } }), 'BAD_USER_INPUT', 'userId');
    expectError(await t.gql(SET_ACCESS, { auth: globexAdmin, variables: { userId: alice, enabled: false } }), 'BAD_USER_INPUT', 'userId');
    expect(await introspect(t, carolToken.secret)).toMatchObject({ active: true });

    const disabled = await t.gql(SET_ACCESS, {
      auth: support,
      variables: { userId: carol, enabled: false, reason: 'Requested by Globex security' },
    });
    expect(disabled.body.data).toEqual({ setApiTokenAccess: { id: carol, apiTokensEnabled: false } });
    expect(await introspect(t, carolToken.secret)).toEqual({ active: false });
    const carolSession = await t.session('carol@globex.example.com');
    expect(errorCode(await t.gql('mutation { generateApiToken { secret } }', { auth: carolSession }))).toBe('API_TOKENS_DISABLED');
    expect((await auditRows(t, carol)).at(-2)).toMatchObject({
      action: 'ACCESS_DISABLED',
      actorLabel: 'support@example.com',
      reason: 'Requested by Globex security',
    });

    // Globex's own admin may lift it: it is their organisation.
    const enabled = await t.gql(SET_ACCESS, { auth: globexAdmin, variables: { userId: carol, enabled: true } });
    expect(enabled.body.data).toEqual({ setApiTokenAccess: { id: carol, apiTokensEnabled: true } });
    await generateToken(t, 'carol@globex.example.com');
  });

  it('refuses USERs, changes to your own access and over-long reasons', async () => {
    const bob = await userId(t, 'bob@example.com');
    const self = await userId(t, 'admin@example.com');
    const admin = await t.session('admin@example.com');
    expectError(
      await t.gql(SET_ACCESS, { auth: await t.session('alice@example.com'), variables: { userId: bob, enabled: false } }),
      'FORBIDDEN',
    );
    expectError(await t.gql(SET_ACCESS, { auth: admin, variables: { userId: self, enabled: false } }), 'FORBIDDEN');
    expectError(
      await t.gql(SET_ACCESS, { auth: admin, variables: { userId: bob, enabled: false, reason: 'x'.repeat(501) } }),
      'BAD_USER_INPUT',
      'reason',
    );
    expect((await t.gql(POLICY, { auth: await t.session('bob@example.com') })).body.data).toMatchObject({
      apiTokenPolicy: { tokensEnabled: true },
    });
  });

  it('revokeUserApiToken revokes with the admin or support as actor, in scope only', async () => {
    const admin = await t.session('admin@example.com');
    const support = await t.session('support@example.com');
    const alice = await userId(t, 'alice@example.com');
    const carol = await userId(t, 'carol@globex.example.com');
    const aliceToken = await generateToken(t, 'alice@example.com');

    const revoked = await t.gql<{ revokeUserApiToken: { tokenId: string } }>(REVOKE_USER_TOKEN, {
      auth: admin,
      variables: { userId: alice, reason: 'Leaving the project' },
    });
    expect(revoked.body.data?.revokeUserApiToken.tokenId).toBe(aliceToken.id);
    expect(await introspect(t, aliceToken.secret)).toEqual({ active: false });
    expect((await auditRows(t, alice)).at(-1)).toMatchObject({
      action: 'REVOKED',
      actorLabel: 'admin@example.com',
      tokenId: aliceToken.id,
      reason: 'Leaving the project',
    });
    expectError(await t.gql(REVOKE_USER_TOKEN, { auth: admin, variables: { userId: alice } }), 'API_TOKEN_NOT_FOUND');

    // Carol has a token (previous test); Acme's admin cannot tell, support can revoke it.
    expectError(await t.gql(REVOKE_USER_TOKEN, { auth: admin, variables: { userId: carol } }), 'BAD_USER_INPUT', 'userId');
    const bySupport = await t.gql(REVOKE_USER_TOKEN, { auth: support, variables: { userId: carol } });
    expect(bySupport.body.errors).toBeUndefined();
    expect((await auditRows(t, carol)).at(-1)).toMatchObject({ action: 'REVOKED', actorLabel: 'support@example.com' });
  });
});
