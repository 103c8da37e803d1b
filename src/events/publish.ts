import type { AuditEvent } from '../audit/audit-event.entity.js';
import type { TokenEventHub } from './event-hub.js';
import { isPublished } from '../audit/event-rules.js';
import { toHubMessage, type HubMessage } from './token-event.js';

/**
 * Publishes what other instances and subscribers must hear of among `events`
 * (see `EVENT_RULES`); call only after the transaction that wrote them committed.
 */
export async function publishTokenEvents(hub: TokenEventHub, events: readonly AuditEvent[]): Promise<void> {
  const messages: HubMessage[] = [];
  for (const event of events) {
    const { subjectUserId } = event;
    if (subjectUserId && isPublished(event.action)) messages.push(toHubMessage(event, subjectUserId));
  }
  // One transaction's events travel together: one Redis message and one wait for the acknowledgements.
  await hub.publish(messages);
}
