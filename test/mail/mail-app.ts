import type { ParsedMail } from 'mailparser';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { TEST_METRICS_TOKEN, type TestApp } from '../support/test-app.js';

export const APP_URL = 'https://tokens.example.com/profile';
export const MAIL_FROM = 'API Tokens <tokens@mail.example.com>';

export const GENERATE = 'mutation { generateApiToken { secret token { id hint createdAt expiresAt } } }';
export const REGENERATE = 'mutation { regenerateApiToken { secret token { id hint createdAt expiresAt } } }';
export const REVOKE = 'mutation { revokeApiToken { tokenId } }';

export interface Generated {
  readonly secret: string;
  readonly token: { id: string; hint: string; createdAt: string; expiresAt: string };
}

/** Generates (or regenerates) a token for `email` through the API and returns the payload. */
export async function generate(t: TestApp, email: string, query = GENERATE): Promise<Generated> {
  const res = await t.gql<Record<string, Generated>>(query, { auth: await t.session(email) });
  const payload = res.body.data && Object.values(res.body.data)[0];
  if (!payload) throw new Error(`generate for ${email} failed: ${JSON.stringify(res.body.errors)}`);
  return payload;
}

export async function outboxRows(t: TestApp): Promise<OutboxMessage[]> {
  return t.running.orm.em.fork().find(OutboxMessage, {}, { orderBy: { id: 'asc' } });
}

export async function readyz(t: TestApp): Promise<{ mail: { pending: number; failed: number; transport: string } }> {
  const response = await fetch(new URL('/readyz', t.url), { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } });
  return (await response.json()) as never;
}

export function toAddress(mail: ParsedMail): string {
  const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
  return to?.value[0]?.address ?? '';
}
