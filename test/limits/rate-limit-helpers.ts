import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { expect } from 'vitest';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { createTokenSecret } from '../../src/tokens/token-format.js';
import type { GqlResponse, TestApp } from '../support/test-app.js';

export const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A Redis key prefix no other test run uses, so budgets are never shared by accident. */
export function uniquePrefix(): string {
  return `test-${randomBytes(6).toString('hex')}:`;
}

export const GENERATE = 'mutation { generateApiToken { secret token { id } } }';
export const REGENERATE = 'mutation { regenerateApiToken { secret token { id } } }';

/** A token with a valid checksum that names nothing: it passes the format check and costs a lookup. */
export function unknownToken(): string {
  return createTokenSecret().secret;
}

/** POSTs `{ me { email } }` with a raw Authorization value. */
export async function meWith(t: TestApp, authorization: string): Promise<Response> {
  return fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ query: '{ me { email } }' }),
  });
}

/** Asserts a GraphQL RATE_LIMITED error and returns its retryAfterSeconds. */
export function expectRateLimited(res: GqlResponse): number {
  const error = res.body.errors?.[0];
  expect(error?.extensions?.code, JSON.stringify(res.body)).toBe('RATE_LIMITED');
  const retryAfter = error?.extensions?.['retryAfterSeconds'];
  expect(typeof retryAfter).toBe('number');
  return retryAfter as number;
}

/** Asserts an HTTP 429 with a sane Retry-After and returns the parsed body. */
export async function expect429(response: Response, maxSeconds: number): Promise<Record<string, unknown>> {
  expect(response.status).toBe(429);
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
  return (await response.json()) as Record<string, unknown>;
}

/** Emails queued for one address. */
export async function mailCount(t: TestApp, recipient: string): Promise<number> {
  return t.running.orm.em.fork().count(OutboxMessage, { recipient });
}

/** A TCP port nothing listens on. */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}
