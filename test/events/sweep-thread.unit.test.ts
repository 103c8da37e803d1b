import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { SweepThread } from '../../src/expiry/sweep-thread.js';

const FIXTURE = new URL('./fixtures/dying-sweep-worker.mjs', import.meta.url);
const SETTINGS = {
  databaseUrl: 'postgres://unused',
  region: 'eu',
  tokenLifetime: { iso: 'P180D', ms: 180 * 86_400_000 },
  expiryWarnings: [],
  sweepInterval: { iso: 'PT0.05S', ms: 50 },
  sweepMaxRate: 6_000,
};

describe('SweepThread', () => {
  it("publishes the thread's changes before it goes on, counts its sweeps, relays its logs, and restarts it when it dies", async () => {
    const happened: string[] = [];
    const published: (readonly AuditEvent[])[] = [];
    const lines: Record<string, unknown>[] = [];
    const counts = { ok: 0, failed: 0, expired: 0 };
    const thread = new SweepThread({
      workerUrl: FIXTURE,
      settings: SETTINGS,
      logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }),
      afterCommit: async (events) => {
        published.push(events);
        await new Promise((resolve) => setTimeout(resolve, 20));
        happened.push('published');
      },
      metrics: {
        sweeps: {
          inc: ({ outcome }) => {
            counts[outcome]++;
            happened.push(`swept ${outcome}`);
          },
        },
        tokensExpired: { inc: (n) => (counts.expired += n) },
        expiryWarnings: { inc: () => undefined },
      },
    });
    thread.start();
    // The fixture dies after each sweep: a second change means the thread was started again.
    await expect.poll(() => published.length).toBeGreaterThanOrEqual(2);
    await thread.stop();
    const afterStop = published.length;

    expect(published[0]).toEqual([{ id: 7, action: 'EXPIRED', subjectUserId: 'u-1', occurredAt: new Date('2026-01-01T00:00:00Z') }]);
    // The thread reported its sweep only once the host had published its change; then it died.
    expect(happened.slice(0, 3)).toEqual(['published', 'swept ok', 'swept failed']);
    expect(counts.expired).toBeGreaterThanOrEqual(1);
    expect(thread.lastCompletedAt).toEqual(new Date('2026-01-01T00:00:01Z'));
    expect(lines.find((line) => line['msg'] === 'a line from the thread')).toMatchObject({ level: 50, thread: 'sweep', detail: 42 });
    expect(lines.find((line) => line['msg'] === 'a line from the thread')?.['hostname']).not.toBe('thread');
    expect(lines.some((line) => String(line['msg']).startsWith('the sweep thread stopped unexpectedly'))).toBe(true);

    // Stopped: not started again.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(published.length).toBe(afterStop);
  });
});
