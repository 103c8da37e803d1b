import { describe, expect, it } from 'vitest';
import { ReplayStream } from '../../src/events/replay-stream.js';
import type { TokenEventMessage } from '../../src/events/token-event.js';

const event = (id: number): TokenEventMessage => ({
  id: String(id),
  kind: 'GENERATED',
  userId: 'u',
  tokenId: null,
  occurredAt: '2026-01-01T00:00:00.000Z',
  expiresAt: null,
  daysLeft: null,
  threshold: null,
  actor: 'system',
});

/** A store of events 1..count that records which pages were read. */
function store(count: number, pageSize: number) {
  const reads: number[] = [];
  const readPage = async (afterId: number) => {
    reads.push(afterId);
    return Array.from({ length: Math.max(0, Math.min(pageSize, count - afterId)) }, (_, i) => event(afterId + i + 1));
  };
  return { reads, readPage };
}

async function take(stream: AsyncIterator<TokenEventMessage>, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const { value, done } = await stream.next();
    if (done) break;
    ids.push(Number(value.id));
  }
  return ids;
}

describe('ReplayStream', () => {
  it('reads the next page only when the consumer has taken the previous one', async () => {
    const { reads, readPage } = store(10_000, 10);
    let closed = 0;
    const stream = await new ReplayStream(readPage, 0, { pageSize: 10, maxBuffered: 100, onClose: () => closed++ }).start();
    expect(reads).toEqual([0]);
    expect(await take(stream, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(reads).toEqual([0]);
    expect(await take(stream, 1)).toEqual([11]);
    expect(reads).toEqual([0, 10]);
    await stream.return();
    expect(closed).toBe(1);
  });

  it('holds live events during the replay and delivers them after it in id order, without duplicates', async () => {
    const { readPage } = store(25, 10);
    const stream = new ReplayStream(readPage, 0, { pageSize: 10, maxBuffered: 100, onClose: () => undefined });
    // Live events that arrive while the replay runs, some of them also stored, out of order.
    stream.push(event(27));
    stream.push(event(24));
    stream.push(event(26));
    await stream.start();
    expect(await take(stream, 27)).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
    stream.push(event(26));
    stream.push(event(28));
    expect(await take(stream, 1)).toEqual([28]);
    await stream.return();
  });

  it('cuts off a consumer that lets too many live events pile up during its replay', async () => {
    const { readPage } = store(1_000, 10);
    let closed = 0;
    const stream = await new ReplayStream(readPage, 0, { pageSize: 10, maxBuffered: 5, onClose: () => closed++ }).start();
    for (let id = 2_000; id < 2_006; id++) stream.push(event(id));
    expect(closed).toBe(1);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });

  it('ends at once when closed while waiting for a live event', async () => {
    const { readPage } = store(0, 10);
    const stream = await new ReplayStream(readPage, null, { pageSize: 10, maxBuffered: 5, onClose: () => undefined }).start();
    const waiting = stream.next();
    await stream.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });
});
