import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AuditAction } from '../../src/audit/event-rules.js';
import { LogFollower } from '../../src/events/log-follower.js';
import type { StoredLog } from '../../src/events/stored-log.js';
import type { HubMessage } from '../../src/events/token-event.js';

const USER = '00000000-0000-4000-8000-000000000003';
const ORGANIZATION = '00000000-0000-4000-8000-000000000009';

/** The audit table as the follower reads it: rows committed so far, any id order. */
function auditTable() {
  const committed: { id: number; action: AuditAction; subjectUserId: string | null; organizationId: string | null }[] = [];
  const log: StoredLog = {
    newestId: () => Promise.resolve(Math.max(0, ...committed.map((row) => row.id))),
    after: (cursor, gaps, limit) =>
      Promise.resolve(
        committed
          .filter((row) => row.id > cursor || gaps.includes(row.id))
          .sort((x, y) => x.id - y.id)
          .slice(0, limit)
          .map((row) => ({
            ...row,
            tokenId: 't',
            occurredAt: new Date(0),
            tokenExpiresAt: null,
            daysLeft: null,
            threshold: null,
            actorLabel: 'system',
            reason: null,
          })),
      ),
  };
  return {
    log,
    commit: (id: number, action: AuditAction = 'REVOKED') =>
      committed.push({ id, action, subjectUserId: USER, organizationId: ORGANIZATION }),
    /** An organisation-level event: no subject user. */
    commitForOrganization: (id: number, action: AuditAction) =>
      committed.push({ id, action, subjectUserId: null, organizationId: ORGANIZATION }),
  };
}

/** `deliveredBefore`: event ids the hub had delivered already (from Redis). */
function follower(log: StoredLog, deliveredBefore: ReadonlySet<string> = new Set()) {
  const received: string[] = [];
  const organizationsChanged: string[] = [];
  const hub = {
    receive: (message: HubMessage) => received.push(message.id),
    delivered: (eventId: string) => deliveredBefore.has(eventId),
    memberSince: () => -Infinity,
  };
  // A long interval: the test reads by hand.
  const following = new LogFollower({
    log,
    hub,
    logger: pino({ level: 'silent' }),
    intervalMs: 60_000,
    onOrganizationChange: (organizationId) => organizationsChanged.push(organizationId),
  });
  return { following, received, organizationsChanged };
}

describe('LogFollower', () => {
  it('starts after what is stored, then delivers each new event once, in id order', async () => {
    const table = auditTable();
    table.commit(1);
    const { following, received } = follower(table.log);
    await following.start();
    table.commit(2);
    table.commit(3, 'USER_CREATED'); // not published: no instance needs to hear of it
    table.commit(4);
    await following.read();
    await following.read();
    expect(received).toEqual(['2', '4']);
    expect(following.trusted()).toBe(true);
    await following.stop();
  });

  it('hands the hub only what it has not delivered yet (what Redis brought first is not built again)', async () => {
    const table = auditTable();
    const { following, received } = follower(table.log, new Set(['2', '4']));
    await following.start();
    for (const id of [1, 2, 3, 4, 5]) table.commit(id);
    await following.read();
    expect(received).toEqual(['1', '3', '5']);
    // Read past all the same: nothing is read again.
    table.commit(6);
    await following.read();
    expect(received).toEqual(['1', '3', '5', '6']);
    await following.stop();
  });

  it('tells of SCIM token changes (organisation-level, no user) outside the hub, and of nothing else', async () => {
    const table = auditTable();
    const { following, received, organizationsChanged } = follower(table.log);
    await following.start();
    table.commitForOrganization(1, 'SCIM_TOKEN_ISSUED');
    table.commitForOrganization(2, 'DOMAIN_ADDED');
    table.commitForOrganization(3, 'SCIM_TOKEN_ROTATED');
    table.commit(4);
    table.commitForOrganization(5, 'SCIM_TOKEN_REVOKED');
    await following.read();
    expect(organizationsChanged).toEqual([ORGANIZATION, ORGANIZATION, ORGANIZATION]);
    expect(received).toEqual(['4']);
    await following.stop();
  });

  it('delivers an event whose transaction committed after a later id was read (PostgreSQL commits out of id order)', async () => {
    const table = auditTable();
    const { following, received } = follower(table.log);
    await following.start();
    table.commit(2); // id 1 is taken by a transaction still open
    await following.read();
    expect(received).toEqual(['2']);
    table.commit(1);
    table.commit(3);
    await following.read();
    await following.read();
    expect(received).toEqual(['2', '1', '3']);
    await following.stop();
  });
});
