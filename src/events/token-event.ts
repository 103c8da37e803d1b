import type { AuditEvent, TokenEventKind } from '../audit/audit-event.entity.js';
import { TOKEN_EVENT_KINDS } from '../audit/audit-event.entity.js';

/**
 * A token event as it travels between instances and to subscribers. Plain
 * JSON (dates as ISO strings), so it crosses Redis unchanged.
 */
export interface TokenEventMessage {
  readonly id: string;
  readonly kind: TokenEventKind;
  readonly userId: string;
  readonly tokenId: string | null;
  readonly occurredAt: string;
  readonly expiresAt: string | null;
  readonly daysLeft: number | null;
  readonly threshold: string | null;
  readonly actor: string;
}

/**
 * Tells every instance that a user was deactivated, so sockets opened with
 * their session close too. Never shown to subscribers: it is not a token event.
 */
export interface UserDeactivatedMessage {
  readonly id: string;
  readonly kind: 'USER_DEACTIVATED';
  readonly userId: string;
}

/** What crosses the hub on a user's channel. */
export type HubMessage = TokenEventMessage | UserDeactivatedMessage;

export function isTokenEventMessage(message: HubMessage): message is TokenEventMessage {
  return message.kind !== 'USER_DEACTIVATED';
}

export function isTokenEvent(event: AuditEvent): event is AuditEvent & { action: TokenEventKind } {
  return (TOKEN_EVENT_KINDS as readonly string[]).includes(event.action);
}

export function toTokenEventMessage(event: AuditEvent & { action: TokenEventKind }): TokenEventMessage {
  return {
    id: String(event.id),
    kind: event.action,
    userId: event.subjectUserId ?? '',
    tokenId: event.tokenId,
    occurredAt: event.occurredAt.toISOString(),
    expiresAt: event.tokenExpiresAt?.toISOString() ?? null,
    daysLeft: event.daysLeft,
    threshold: event.threshold,
    actor: event.actorLabel,
  };
}
