// The pure rules of delivery: when to retry, how to name a message, what to record of a failure.
import type { OutboxMessage } from './outbox-message.entity.js';

export interface RetryPolicy {
  /** The delay after the first failure. */
  readonly baseMs: number;
  /** No delay grows beyond this. */
  readonly maxMs: number;
}

const DEFAULT_RETRY: RetryPolicy = { baseMs: 30_000, maxMs: 3_600_000 };

/**
 * The wait after failed attempt number `attempt` (1-based): exponential,
 * capped, with "equal jitter" (a random point in the upper half), so
 * instances that failed together against one mail server do not retry in
 * lockstep, yet every wait is at least half the nominal one.
 */
export function retryDelay(attempt: number, policy: RetryPolicy = DEFAULT_RETRY, random: () => number = Math.random): number {
  const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(nominal / 2 + random() * (nominal / 2));
}

/**
 * The same for every attempt at a row, so a recipient (or their mail system)
 * can tell a retry after an uncertain send from a new message. The creation
 * instant keeps ids unique even if a database is reset and ids start over.
 */
export function messageIdFor(row: Pick<OutboxMessage, 'id' | 'createdAt'>, domain: string): string {
  return `<outbox-${row.id}.${row.createdAt.getTime()}@${domain}>`;
}

/** The domain of the sender address, else the host of the app's URL. */
export function messageIdDomain(mailFrom: string, appUrl: string): string {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(mailFrom);
  return match?.[1] ?? new URL(appUrl).hostname;
}

/** Every priority a queued email can have, first sent first (see `mailPriority`). */
export const MAIL_PRIORITIES = [0, 1] as const;
type MailPriority = (typeof MAIL_PRIORITIES)[number];

/** The sweep's emails: sent after every email about a change someone made (see `mailPriority`). */
export const SWEEP_MAIL_KINDS = ['EXPIRED', 'EXPIRY_WARNING'] as const;

/**
 * The order in which queued emails go out, lowest first (then oldest first).
 * A change someone made (a token created, revoked, disabled) is 0: its
 * confirmation, or the warning that someone else revoked a token, is news
 * the user may act on now. The sweep's warnings and expiry notices are 1:
 * a backlog of them (100,000 after a sweep of a large backlog, sent at
 * `MAIL_MAX_RATE`) must not hold up the others.
 */
export function mailPriority(kind: string): MailPriority {
  return (SWEEP_MAIL_KINDS as readonly string[]).includes(kind) ? 1 : 0;
}

/** What the transport said went wrong: its code and message, never the message being sent. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error).slice(0, 1000);
  const code = (error as { code?: unknown }).code;
  return `${typeof code === 'string' ? `${code}: ` : ''}${error.message}`.slice(0, 1000);
}
