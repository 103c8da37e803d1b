import type { AuditEvent } from '../audit/audit-event.entity.js';
import type { TokenEventHub } from './event-hub.js';
import { isTokenEvent, toTokenEventMessage } from './token-event.js';

/** Publishes the token events among `events`; call only after the transaction that wrote them committed. */
export function publishTokenEvents(hub: TokenEventHub, events: readonly AuditEvent[]): void {
  for (const event of events) {
    if (isTokenEvent(event) && event.subjectUserId) hub.publish(toTokenEventMessage(event));
  }
}
