import type { Principal } from '../auth/principal.js';
import type { ActorKind } from './audit-event.entity.js';

/** Who caused an audited change. */
export interface Actor {
  readonly kind: ActorKind;
  readonly userId: string | null;
  /** The actor's email, or `system`. */
  readonly label: string;
}

export const SYSTEM_ACTOR: Actor = { kind: 'system', userId: null, label: 'system' };

export function actorOf(principal: Principal): Actor {
  if (principal.via === 'scim') return { kind: 'scim', userId: null, label: principal.email };
  return { kind: principal.via, userId: principal.userId, label: principal.email };
}
