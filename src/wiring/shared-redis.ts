import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * The connection for rate-limit counters and the readiness PING. Commands
 * fail at once while it is down (no offline queue, one retry), so a limiter
 * falls back to memory and `/readyz` answers, instead of both waiting.
 * Waits briefly for Redis at start, so a fresh instance counts in the shared
 * budgets and reports ready at once; it starts without Redis all the same:
 * limits then count in memory and `/readyz` says 503 until Redis is back.
 */
export async function connectSharedRedis(url: string, logger: Logger, onStop: (close: () => Promise<unknown>) => void): Promise<Redis> {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  onStop(async () => {
    if (redis.status === 'ready') await redis.quit();
    else redis.disconnect();
  });
  if (redis.status === 'ready') return redis;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    new Promise<string>((resolve) => redis.once('ready', () => resolve('ready'))),
    new Promise<string>((resolve) => redis.once('error', () => resolve('error'))),
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve('timeout'), 2_000))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') logger.warn('redis is not reachable at start: rate limits count in memory until it is');
  return redis;
}
