import { expect, vi } from 'vitest';
import { digestScimToken } from '../../src/scim/scim-token-format.js';
import type { TestApp } from '../support/test-app.js';

export interface ScimResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown> | null;
}

/** One SCIM request, as an identity provider sends it: `application/scim+json` unless told otherwise. */
async function scim(
  baseUrl: string,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
  options: { contentType?: string; rawBody?: string } = {},
): Promise<ScimResponse> {
  const headers: Record<string, string> = { accept: 'application/scim+json' };
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  const payload = options.rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
  if (payload !== undefined) headers['content-type'] = options.contentType ?? 'application/scim+json';
  const response = await fetch(new URL(`/scim/v2${path}`, baseUrl), {
    method,
    headers,
    ...(payload === undefined ? {} : { body: payload }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
}

/** A SCIM client bound to a test app and a token. */
export function scimClient(t: TestApp, token: string | null) {
  return (method: string, path: string, body?: unknown, options?: { contentType?: string; rawBody?: string }) =>
    scim(t.url, token, method, path, body, options);
}

/** Asserts an RFC 7644 §3.12 error. */
export function expectScimError(res: ScimResponse, status: number, scimType?: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
  expect(res.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status) });
  expect(typeof res.body?.['detail']).toBe('string');
  if (scimType !== undefined) expect(res.body?.['scimType']).toBe(scimType);
}

export const ROLE_EXTENSION = 'urn:ietf:params:scim:schemas:extension:ApiTokenService:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** Issues an organisation's SCIM token through the same service the CLI uses. */
export async function scimToken(t: TestApp, organization: string): Promise<string> {
  const issued = await t.running.scim.issue(organization);
  if (!issued) throw new Error(`no organisation ${organization}`);
  return issued.secret;
}

/**
 * Lookups of a SCIM token by `t` during `work`. Every query runs on the app's
 * one connection (the mail worker and the sweeper share it): those that carry
 * the token's digest are the ones that look it up.
 */
export async function lookupsDuring(t: TestApp, secret: string, work: () => Promise<void>): Promise<number> {
  const spy = vi.spyOn(t.running.orm.em.getConnection(), 'execute');
  try {
    await work();
    const digest = digestScimToken(secret);
    return spy.mock.calls.filter(([, params]) => JSON.stringify(params ?? []).includes(digest)).length;
  } finally {
    spy.mockRestore();
  }
}
