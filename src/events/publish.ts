import type { AuditEvent } from '../audit/audit-event.entity.js';
import type { TokenEventHub } from './event-hub.js';
import { isTokenEvent, toTokenEventMessage } from './token-event.js';

/** Publishes the token events (and deactivations) among `events`; call only after the transaction that wrote them committed. */
export function publishTokenEvents(hub: TokenEventHub, events: readonly AuditEvent[]): void {
  for (const event of events) {
    if (!event.subjectUserId) continue;
    if (isTokenEvent(event)) hub.publish(toTokenEventMessage(event));
    else if (event.action === 'USER_DEACTIVATED') {
      hub.publish({ id: String(event.id), kind: 'USER_DEACTIVATED', userId: event.subjectUserId });
    }
  }
}
