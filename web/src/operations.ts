import { gql, type TypedDocumentNode } from '@urql/core';

/*
 * The page's operations, with hand-written result types. test/browser/operations.test.ts
 * validates every source here against schema.graphql, so a renamed or removed
 * field fails the tests rather than the page.
 */

export interface TokenFields {
  readonly id: string;
  readonly hint: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly lastUsedAt: string | null;
  readonly lastUsedRegion: string | null;
}

export interface Policy {
  /** ISO-8601, e.g. P180D; shown when the lifetime is under a day (lifetimeDays 0). */
  readonly lifetime: string;
  readonly lifetimeDays: number;
  readonly warningDays: readonly number[];
  readonly regions: readonly string[];
  readonly tokensEnabled: boolean;
  readonly disabledReason: string | null;
}

export interface PageStateData {
  readonly me: { readonly email: string; readonly name: string };
  readonly myApiToken: TokenFields | null;
  readonly apiTokenPolicy: Policy;
}

export interface GeneratedToken {
  readonly secret: string;
  readonly token: TokenFields;
}

export type ApiTokenEventKind = 'GENERATED' | 'EXPIRY_WARNING' | 'REVOKED' | 'EXPIRED' | 'ACCESS_DISABLED' | 'ACCESS_ENABLED';

export interface ApiTokenEvent {
  readonly id: string;
  readonly kind: ApiTokenEventKind;
  readonly tokenId: string | null;
  readonly occurredAt: string;
  readonly expiresAt: string | null;
  readonly daysLeft: number | null;
  readonly actor: string | null;
}

const TOKEN_FIELDS = 'id hint createdAt expiresAt lastUsedAt lastUsedRegion';

export const sources = {
  pageState: `query PageState {
  me { email name }
  myApiToken { ${TOKEN_FIELDS} }
  apiTokenPolicy { lifetime lifetimeDays warningDays regions tokensEnabled disabledReason }
}`,
  generate: `mutation Generate { generateApiToken { secret token { ${TOKEN_FIELDS} } } }`,
  regenerate: `mutation Regenerate { regenerateApiToken { secret token { ${TOKEN_FIELDS} } } }`,
  revoke: `mutation Revoke($id: ID) { revokeApiToken(id: $id) { tokenId revokedAt } }`,
  events: `subscription Events($after: ID) {
  apiTokenEvents(after: $after) { id kind tokenId occurredAt expiresAt daysLeft actor }
}`,
} as const;

type NoVariables = Record<string, never>;

export const PageState: TypedDocumentNode<PageStateData, NoVariables> = gql(sources.pageState);
export const Generate: TypedDocumentNode<{ generateApiToken: GeneratedToken }, NoVariables> = gql(sources.generate);
export const Regenerate: TypedDocumentNode<{ regenerateApiToken: GeneratedToken }, NoVariables> = gql(sources.regenerate);
export const Revoke: TypedDocumentNode<
  { revokeApiToken: { tokenId: string; revokedAt: string } },
  { id: string | null }
> = gql(sources.revoke);
