/**
 * A token bucket per organisation for SCIM: a directory's full sync is a
 * burst of requests, which the bucket absorbs, while a runaway or stolen SCIM
 * token cannot hammer the database without bound.
 *
 * Per instance and in memory: with N instances a tenant gets up to N times
 * the rate. This is the single place SCIM takes its limit from; the shared
 * rate-limit module (issue 9) can replace it here.
 */
export class ScimRateLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /**
   * @param perMinute sustained requests per minute per organisation (`SCIM_RATE_LIMIT`)
   * @param now milliseconds; injectable so tests need no fake timers
   */
  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one request from the organisation's bucket; returns the seconds to wait when it is empty, else 0. */
  take(organizationId: string): number {
    const now = this.now();
    const capacity = this.perMinute;
    const ratePerMs = this.perMinute / 60_000;
    const bucket = this.buckets.get(organizationId) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.at) * ratePerMs);
    bucket.at = now;
    this.buckets.set(organizationId, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / ratePerMs / 1000);
  }
}
