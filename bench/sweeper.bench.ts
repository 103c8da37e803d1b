import { afterAll, test } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { ApiToken } from '../src/tokens/api-token.entity.js';
import { Role } from '../src/auth/role.js';
import { User } from '../src/users/user.entity.js';
import { startTestApp } from '../test/support/test-app.js';

/** Expiring a backlog: tokens per second through the batched, claimed path. */
const DAY = 86_400_000;
const BACKLOG = 2_000;
const clock = new ManualClock('2026-01-01T00:00:00.000Z');
const app = await startTestApp({}, { clock, autoSweep: false });
let round = 0;

async function seedBacklog(): Promise<void> {
  const em = app.running.orm.em.fork();
  const alice = await em.findOneOrFail(User, { email: 'alice@example.com' });
  round++;
  for (let i = 0; i < BACKLOG; i++) {
    const user = em.create(User, {
      organization: alice.organization,
      email: `bench-${round}-${i}@example.com`,
      name: 'Bench',
      role: Role.USER,
      createdAt: clock.now(),
    });
    em.create(ApiToken, {
      user,
      digest: `${round}-${i}`.padStart(64, '0'),
      hint: 'own_…bnch',
      createdAt: clock.now(),
      expiresAt: new Date(clock.now().getTime() + DAY),
      createdRegion: 'local',
    });
  }
  await em.flush();
  clock.advance(DAY);
}

afterAll(async () => {
  await app.stop();
});

/** Seeding alone is measured too: the sweep's own cost is the difference between the two. */
test(`sweeper: a backlog of ${BACKLOG} expired tokens (SQLite)`, async ({ bench }) => {
  await bench.compare(
    bench('seed the backlog only', async () => {
      await seedBacklog();
      await app.running.orm.em.fork().nativeDelete(ApiToken, {});
    }),
    bench('seed the backlog, then sweep it', async () => {
      await seedBacklog();
      const { expired } = await app.running.sweeper.sweep();
      if (expired !== BACKLOG) throw new Error(`expired ${expired} of ${BACKLOG}`);
    }),
    { iterations: 3, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
}, 600_000);
