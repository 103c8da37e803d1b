import type { AuditEvent } from '../audit/audit-event.entity.js';
import { isTokenEventKind, type AdminAction, type TokenEventKind } from '../audit/event-rules.js';

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
  /** Why, when someone gave a reason (support's, or where a leaked token was found). */
  readonly reason?: string | null;
}

/**
 * Tells every instance that a user's access changed (deactivated, new role or
 * units), so caches drop the user and sockets re-check or close. Never shown
 * to subscribers: it is not a token event.
 */
interface AccessChangeMessage {
  readonly id: string;
  readonly kind: AdminAction;
  readonly userId: string;
}

/** What crosses the hub about a user. */
export type HubMessage = TokenEventMessage | AccessChangeMessage;

export function isTokenEventMessage(message: HubMessage): message is TokenEventMessage {
  return isTokenEventKind(message.kind);
}

export function isTokenEvent(event: AuditEvent): event is AuditEvent & { action: TokenEventKind } {
  return isTokenEventKind(event.action);
}

/** The hub message for a stored event about a user. */
export function toHubMessage(event: AuditEvent, userId: string): HubMessage {
  if (isTokenEvent(event)) return toTokenEventMessage(event);
  // Not a token event, so one of the admin actions.
  return { id: String(event.id), kind: event.action as AdminAction, userId };
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
    reason: event.reason,
  };
}
