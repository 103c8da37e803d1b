import { registerEnumType } from 'type-graphql';

/** A user's role. SUPPORT users belong to the vendor and act across organisations. */
export enum Role {
  ADMIN = 'ADMIN',
  USER = 'USER',
  SUPPORT = 'SUPPORT',
}

registerEnumType(Role, { name: 'Role' });
