import type { EventsData, GenerateData, PageStateData } from './operations.generated.js';

/*
 * Names the page uses for the generated operation types (web/src/operations.graphql,
 * typed from schema.graphql by `npm run web:types`).
 */
export { Events, EventsCursor, EventsSource, Generate, PageState, Regenerate, Revoke } from './operations.generated.js';
export type { ApiTokenEventKind, PageStateData } from './operations.generated.js';

export type TokenFields = NonNullable<PageStateData['myApiToken']>;
export type Policy = PageStateData['apiTokenPolicy'];
export type GeneratedToken = GenerateData['generateApiToken'];
export type ApiTokenEvent = EventsData['apiTokenEvents'];
