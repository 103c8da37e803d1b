import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditEvent } from '../../src/audit/audit-event.entity.js';
import { OutboxMessage } from '../../src/mail/outbox-message.entity.js';
import { ApiToken } from '../../src/tokens/api-token.entity.js';
import { createTokenSecret } from '../../src/tokens/token-format.js';
import type { TestApp } from '../support/test-app.js';

/** A secret scanner of our own: an ECDSA P-256 key pair, published as a GitHub-style key document. */
export interface Scanner {
  readonly identifier: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function newScanner(identifier: string): Scanner {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { identifier, privateKey, publicKey };
}

/** Writes the key document listing `scanners` to `dir` and returns its path. */
export async function writeKeyDocument(dir: string, scanners: readonly Scanner[], name = 'secret-scanning-keys.json'): Promise<string> {
  const path = join(dir, name);
  const publicKeys = scanners.map((scanner, index) => ({
    key_identifier: scanner.identifier,
    key: scanner.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    is_current: index === 0,
  }));
  await writeFile(path, JSON.stringify({ public_keys: publicKeys }));
  return path;
}

export interface Alert {
  token: string;
  type?: string;
  url?: string;
  source?: string;
}

export interface Answer {
  readonly status: number;
  readonly json: unknown;
}

/** POSTs an alert batch signed by `scanner` (or with the given headers) to `/secret-scanning/github`. */
export async function postAlerts(
  t: TestApp,
  alerts: readonly Alert[] | string,
  scanner: Scanner | null,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const body =
    typeof alerts === 'string'
      ? alerts
      : JSON.stringify(
          alerts.map((alert) => ({
            token: alert.token,
            type: alert.type ?? 'own_api_token',
            url: alert.url ?? 'https://github.com/octocat/Hello-World/blob/12345600b9cbe38a219f39a9941c9319b600c002/foo/bar.txt',
            source: alert.source ?? 'content',
          })),
        );
  const signature: Record<string, string> = scanner
    ? {
        'github-public-key-identifier': scanner.identifier,
        'github-public-key-signature': sign('sha256', Buffer.from(body), { key: scanner.privateKey, dsaEncoding: 'der' }).toString(
          'base64',
        ),
      }
    : {};
  const response = await fetch(new URL('/secret-scanning/github', t.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signature, ...headers },
    body,
  });
  return { status: response.status, json: await json(response) };
}

/** POSTs a body to `/credentials/revoke`. */
export async function reportCredentials(
  t: TestApp,
  body: unknown,
  options: { contentType?: string; forwardedFor?: string } = {},
): Promise<Answer & { headers: Headers }> {
  const response = await fetch(new URL('/credentials/revoke', t.url), {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/json',
      ...(options.forwardedFor ? { 'x-forwarded-for': options.forwardedFor } : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, json: await json(response) };
}

async function json(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Everything a report could change: tokens, audit rows and queued mail. */
export async function snapshot(t: TestApp): Promise<{ tokens: number; audit: number; mail: number }> {
  const em = t.running.orm.em.fork();
  return {
    tokens: await em.count(ApiToken, {}),
    audit: await em.count(AuditEvent, {}),
    mail: await em.count(OutboxMessage, {}),
  };
}

/** A token with our shape and a valid checksum that nobody was ever issued. */
export function madeUpToken(): string {
  return createTokenSecret().secret;
}
