import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { ManualClock } from '../../src/clock.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { errorCode, startTestApp, type TestApp } from '../support/test-app.js';

interface Generated {
  secret: string;
  token: { id: string; hint: string; expiresAt: string };
}

describe('audit trail of token changes', () => {
  const clock = new ManualClock('2026-04-01T10:00:00.000Z');
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ REGION: 'us-east', REGIONS: 'us-east,eu-west' }, { clock });
  });
  afterAll(async () => {
    await t.stop();
  });

  async function events(): Promise<AuditEvent[]> {
    return t.running.orm.em.fork().find(AuditEvent, {}, { orderBy: { id: 'asc' } });
  }

  it('records generate, regenerate and revoke with actor, action, token, region and time; they outlive the token', async () => {
    const session = await t.session('alice@example.com');
    const alice = await t.running.services.users.findByEmail('alice@example.com');
    if (!alice) throw new Error('alice is seeded');
    const before = (await events()).length;

    const generated = await t.gql<{ generateApiToken: Generated }>('mutation { generateApiToken { secret token { id hint expiresAt } } }', {
      auth: session,
    });
    const first = generated.body.data?.generateApiToken;
    if (!first) throw new Error('generate failed');

    // A refused change leaves no trace.
    clock.advance(1_000);
    expect(errorCode(await t.gql('mutation { generateApiToken { secret } }', { auth: session }))).toBe('API_TOKEN_EXISTS');

    clock.advance(60_000);
    const regenerated = await t.gql<{ regenerateApiToken: Generated }>(
      'mutation { regenerateApiToken { secret token { id hint expiresAt } } }',
      { auth: session },
    );
    const second = regenerated.body.data?.regenerateApiToken;
    if (!second) throw new Error('regenerate failed');

    clock.advance(60_000);
    const revoked = await t.gql('mutation { revokeApiToken { tokenId } }', { auth: second.secret });
    expect(revoked.body.errors).toBeUndefined();
    expect(await t.running.orm.em.fork().count(ApiToken, {})).toBe(0);

    const recorded = (await events()).slice(before);
    const common = {
      actorUserId: alice.id,
      actorLabel: 'alice@example.com',
      subjectUserId: alice.id,
      organizationId: alice.organization.id,
      region: 'us-east',
    };
    // Compared as plain objects: the entity's own properties, without its prototype.
    // eslint-disable-next-line @typescript-eslint/no-misused-spread
    expect(recorded.map((e) => ({ ...e }))).toEqual([
      expect.objectContaining({
        ...common,
        action: 'GENERATED',
        actorKind: 'session',
        tokenId: first.token.id,
        tokenHint: first.token.hint,
        tokenExpiresAt: new Date(first.token.expiresAt),
        occurredAt: new Date('2026-04-01T10:00:00.000Z'),
      }),
      expect.objectContaining({
        ...common,
        action: 'REVOKED',
        actorKind: 'session',
        tokenId: first.token.id,
        occurredAt: new Date('2026-04-01T10:01:01.000Z'),
      }),
      expect.objectContaining({
        ...common,
        action: 'GENERATED',
        actorKind: 'session',
        tokenId: second.token.id,
        tokenHint: second.token.hint,
        occurredAt: new Date('2026-04-01T10:01:01.000Z'),
      }),
      expect.objectContaining({
        ...common,
        action: 'REVOKED',
        actorKind: 'token',
        tokenId: second.token.id,
        occurredAt: new Date('2026-04-01T10:02:01.000Z'),
      }),
    ]);
    // Ids only grow: subscriptions replay a user's events in id order.
    const ids = recorded.map((e) => e.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
