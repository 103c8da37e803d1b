import { LRUCache } from 'lru-cache';

/**
 * A bounded set of recently seen keys (the least recently seen fall out past
 * `limit`), optionally forgetting each after `ttlMs`.
 *
 * lru-cache preallocates every slot when given `max`: about 2 MB and 5 ms for
 * 50,000 slots with a TTL, paid at each start though such a set mostly stays
 * small. Bounded by `maxSize` with each key counting one instead, it holds the
 * same number of keys and grows only as they come.
 */
export function rememberedSet(limit: number, ttlMs?: number): LRUCache<string, true> {
  return new LRUCache<string, true>({ maxSize: limit, sizeCalculation: () => 1, ...(ttlMs === undefined ? {} : { ttl: ttlMs }) });
}
