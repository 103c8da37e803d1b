import { expect } from 'vitest';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { User } from '../../src/users/user.entity.js';
import { errorCode, type GqlResponse, type TestApp } from '../support/test-app.js';
import { generate } from '../support/tokens.js';

/** A resource server allowed to introspect, as a deployment would configure it. */
export const INTROSPECTION_CLIENT = { id: 'resource-server', secret: 'resource-server-secret-0123456789' };
export const INTROSPECTION_ENV = {
  INTROSPECTION_CLIENTS: `${INTROSPECTION_CLIENT.id}:${INTROSPECTION_CLIENT.secret},other-client:other-client-secret-abcdef`,
};

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

export async function userId(t: TestApp, email: string): Promise<string> {
  const user = await t.running.services.users.findByEmail(email);
  if (!user) throw new Error(`no user ${email}`);
  return user.id;
}

/** Generates an API token for a user (through their session) and returns its secret and id. */
/**
 * Waits until a session signed now would be issued (`iat`, whole seconds) at or
 * after the user's credentials-valid-after bound, which a deactivation sets:
 * a session signed in the same second as the deactivation is refused for good.
 */
export async function untilSessionsCount(t: TestApp, id: string): Promise<void> {
  const user = await t.running.orm.em.fork().findOneOrFail(User, id);
  const bound = user.credentialsValidAfter?.getTime() ?? 0;
  expect(bound).toBeGreaterThan(0);
  while (Date.now() < bound) await new Promise((resolve) => setTimeout(resolve, bound - Date.now()));
}

export async function generateToken(t: TestApp, email: string): Promise<{ secret: string; id: string }> {
  const { secret, token } = await generate(t, email);
  return { secret, id: token.id };
}

export interface FormResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: Record<string, unknown> | null;
}

/** POSTs to an OAuth endpoint; `body` is form-encoded unless `contentType` says otherwise. */
export async function oauthPost(
  t: TestApp,
  path: '/oauth/introspect' | '/oauth/revoke',
  body: Record<string, string> | string | null,
  options: { authorization?: string; contentType?: string | null } = {},
): Promise<FormResponse> {
  const headers: Record<string, string> = {};
  if (options.authorization) headers['authorization'] = options.authorization;
  const contentType = options.contentType === undefined ? 'application/x-www-form-urlencoded' : options.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  const response = await fetch(new URL(path, t.url), {
    method: 'POST',
    headers,
    ...(body === null ? {} : { body: typeof body === 'string' ? body : new URLSearchParams(body).toString() }),
  });
  const text = await response.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = text === '' ? null : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export async function introspect(t: TestApp, token: string): Promise<Record<string, unknown> | null> {
  const res = await oauthPost(
    t,
    '/oauth/introspect',
    { token },
    {
      authorization: basic(INTROSPECTION_CLIENT.id, INTROSPECTION_CLIENT.secret),
    },
  );
  expect(res.status).toBe(200);
  return res.json;
}

/** Audit rows about a user, oldest first. */
export async function auditRows(t: TestApp, subjectUserId: string): Promise<AuditEvent[]> {
  return t.running.orm.em.fork().find(AuditEvent, { subjectUserId }, { orderBy: { id: 'asc' } });
}

/** Asserts a GraphQL error's code (and field, when given). */
export function expectError(res: GqlResponse, code: string, field?: string): void {
  expect(res.body.errors, JSON.stringify(res.body)).toBeDefined();
  expect(errorCode(res)).toBe(code);
  if (field !== undefined) expect(res.body.errors?.[0]?.extensions?.['field']).toBe(field);
}
