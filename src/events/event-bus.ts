import { createPubSub } from '@graphql-yoga/subscription';
import type { AuditEvent } from '../audit/audit-event.entity.js';
import { isTokenEvent, toTokenEventMessage, type TokenEventMessage } from './token-event.js';

export const TOKEN_EVENTS_TOPIC = 'API_TOKEN_EVENTS';

type Topics = { [TOKEN_EVENTS_TOPIC]: [userId: string, payload: TokenEventMessage] };

export type TokenPubSub = ReturnType<typeof createPubSub<Topics>>;

/** Per-user token events; in-process by default, Redis when scaled out. */
export function createTokenPubSub(eventTarget?: Parameters<typeof createPubSub<Topics>>[0]): TokenPubSub {
  return createPubSub<Topics>(eventTarget);
}

/** Publishes the token events among `events`; call after the transaction that wrote them committed. */
export function publishTokenEvents(pubSub: TokenPubSub, events: readonly AuditEvent[]): void {
  for (const event of events) {
    if (!isTokenEvent(event) || !event.subjectUserId) continue;
    pubSub.publish(TOKEN_EVENTS_TOPIC, event.subjectUserId, toTokenEventMessage(event));
  }
}
