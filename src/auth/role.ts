import { registerEnumType } from 'type-graphql';

/** A user's role. SUPPORT users belong to the vendor and act across organisations. */
export enum Role {
  ADMIN = 'ADMIN',
  USER = 'USER',
  SUPPORT = 'SUPPORT',
}

registerEnumType(Role, {
  name: 'Role',
  description: 'What a user may do.',
  valuesConfig: {
    ADMIN: { description: 'Manages the users, business units and API token access of their organisation.' },
    USER: { description: 'Manages their own API token.' },
    SUPPORT: { description: 'The vendor’s staff: controls API token access across organisations.' },
  },
});
