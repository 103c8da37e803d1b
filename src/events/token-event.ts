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

/** What a hub message is made of: a stored audit row, as an entity or as the log follower's plain row. */
export type StoredEvent = Pick<
  AuditEvent,
  | 'id'
  | 'action'
  | 'subjectUserId'
  | 'organizationId'
  | 'tokenId'
  | 'occurredAt'
  | 'tokenExpiresAt'
  | 'daysLeft'
  | 'threshold'
  | 'actorLabel'
  | 'reason'
>;

export function isTokenEvent<T extends StoredEvent>(event: T): event is T & { action: TokenEventKind } {
  return isTokenEventKind(event.action);
}

/** The hub message for a stored event about a user. */
export function toHubMessage(event: StoredEvent, userId: string): HubMessage {
  if (isTokenEvent(event)) return toTokenEventMessage(event);
  // Not a token event, so one of the admin actions.
  return { id: String(event.id), kind: event.action as AdminAction, userId };
}

export function toTokenEventMessage(event: StoredEvent & { action: TokenEventKind }): TokenEventMessage {
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
