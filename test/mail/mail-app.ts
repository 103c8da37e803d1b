import type { EntityManager } from '@mikro-orm/core';
import type { ParsedMail } from 'mailparser';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { contentOf } from '../../src/mail/outbox.js';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import type { MailContent } from '../../src/mail/templates.js';
import { TEST_METRICS_TOKEN, type TestApp } from '../support/test-app.js';

export { generate } from '../support/tokens.js';

export const APP_URL = 'https://tokens.example.com/profile';
export const MAIL_FROM = 'API Tokens <tokens@mail.example.com>';

export const REGENERATE = 'mutation { regenerateApiToken { secret token { id hint createdAt expiresAt } } }';
export const REVOKE = 'mutation { revokeApiToken { tokenId } }';

export async function outboxRows(t: TestApp): Promise<OutboxMessage[]> {
  return t.running.orm.em.fork().find(OutboxMessage, {}, { orderBy: { id: 'asc' } });
}

/** What a queued row will send, rendered from the event it reports as the mail worker renders it. */
export async function queuedContent(em: EntityManager, row: OutboxMessage, appUrl = APP_URL): Promise<MailContent> {
  const event = row.auditEvent ? ((await em.findOne(AuditEvent, { id: row.auditEvent.id })) ?? undefined) : undefined;
  const content = contentOf(row, event, { appUrl });
  if ('unsendable' in content) throw new Error(`outbox row ${row.id} cannot be sent: ${content.unsendable}`);
  return content;
}

export async function readyz(t: TestApp): Promise<{ mail: { pending: number; failed: number; transport: string } }> {
  const response = await fetch(new URL('/readyz', t.url), { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } });
  return (await response.json()) as never;
}

export function toAddress(mail: ParsedMail): string {
  const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
  return to?.value[0]?.address ?? '';
}
