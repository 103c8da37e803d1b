import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify from 'fastify';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionVerifier } from '../../src/auth/session.js';
import { loadConfig } from '../../src/config.js';
import { registerWeb } from '../../src/http/web.js';
import type { UserService } from '../../src/users/user.service.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/ports.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const origin = (t: TestApp): string => new URL(t.url).origin;
const html = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

describe('the profile page and development sign-in over HTTP', () => {
  let dev: TestApp;
  let production: TestApp;
  beforeAll(async () => {
    // Development sign-in only where nothing looks deployed: no SESSION_SECRET of its own.
    [dev, production] = await Promise.all([startTestApp({ SESSION_SECRET: '' }), startTestApp({ NODE_ENV: 'production' })]);
  });
  afterAll(async () => {
    await Promise.all([dev?.stop(), production?.stop()]);
  });

  it('serves the built page at / and its assets from the same origin', async () => {
    const page = await fetch(`${origin(dev)}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const body = await page.text();
    expect(body).toContain('<title>API token · Your profile</title>');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(body)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${origin(dev)}${script ?? ''}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect((await asset.text()).length).toBeGreaterThan(0);
  });

  it('lists the demo users and signs a working session for one', async () => {
    const list = (await (await fetch(`${origin(dev)}/dev/session`)).json()) as { users: { email: string }[] };
    expect(list.users.map((u) => u.email)).toContain('alice@example.com');
    const response = await fetch(`${origin(dev)}/dev/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'alice@example.com' }),
    });
    expect(response.status).toBe(200);
    const { session } = (await response.json()) as { session: string };
    const me = await dev.gql<{ me: { email: string } }>('{ me { email } }', { auth: session });
    expect(me.body.data?.me.email).toBe('alice@example.com');
  });

  it('refuses an unknown email (BAD_USER_INPUT) and a form post (UNSUPPORTED_MEDIA_TYPE)', async () => {
    const unknown = await fetch(`${origin(dev)}/dev/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'nobody@example.com' }),
    });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_USER_INPUT', field: 'email' } }] });
    const form = await fetch(`${origin(dev)}/dev/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=alice%40example.com',
    });
    expect(form.status).toBe(415);
    expect(await form.json()).toMatchObject({ errors: [{ extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' } }] });
  });

  it('tells the page whether development sign-in exists, so a production page never asks for it', async () => {
    const meta = /<meta name="api-token-dev-sign-in" content="(on|off)" \/>/;
    for (const [app, expected] of [
      [dev, 'on'],
      [production, 'off'],
    ] as const) {
      for (const path of ['/', '/index.html']) {
        const page = await fetch(`${origin(app)}${path}`);
        expect(page.headers.get('cache-control'), path).toBe('no-cache');
        expect(meta.exec(await page.text())?.[1], `${expected} ${path}`).toBe(expected);
      }
    }
  });

  it('has no development sign-in in production (404), but still serves the page', async () => {
    for (const method of ['GET', 'POST']) {
      const response = await fetch(`${origin(production)}/dev/session`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(method === 'POST' ? { body: JSON.stringify({ email: 'alice@example.com' }) } : {}),
      });
      expect(response.status, method).toBe(404);
      expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'NOT_FOUND' } }] });
    }
    const page = await fetch(`${origin(production)}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>API token · Your profile</title>');
  });

  it('gives a browser GraphiQL on /graphql in development, and GraphQL to everything else as before', async () => {
    const page = await fetch(dev.url, { headers: html });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const body = await page.text();
    // Everything from this origin, and no inline script, so a CSP of script-src 'self' allows it.
    const sources = [...body.matchAll(/<(?:script|link)[^>]+(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(sources.filter((src) => !src.startsWith('/') && !src.startsWith('data:'))).toEqual([]);
    expect(body.match(/<script(?![^>]*\ssrc=)[^>]*>/g)).toBeNull();
    expect(body).not.toContain('embeddable-sandbox');
    for (const src of sources.filter((path) => path.startsWith('/'))) {
      const asset = await fetch(`${origin(dev)}${src}`);
      expect(asset.status, src).toBe(200);
      expect((await asset.text()).length, src).toBeGreaterThan(0);
    }
    const boot = await fetch(`${origin(dev)}/explorer/boot.js`);
    expect(await boot.text()).toContain('YogaGraphiQL.renderYogaGraphiQL');
    // Files, not GraphQL: a stale Authorization header a browser might send does not matter here.
    const worker = await fetch(`${origin(dev)}/explorer/worker-graphql.js`, { headers: { authorization: 'Bearer own_stale' } });
    expect(worker.status).toBe(200);
    await worker.body?.cancel();

    const get = await fetch(`${dev.url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
    });
    expect(get.status).toBe(200);
    expect(await get.json()).toEqual({ data: { __typename: 'Query' } });
    const post = await dev.gql('{ __typename }');
    expect(post.body).toEqual({ data: { __typename: 'Query' } });
  });

  it('gives no explorer in production unless GRAPHQL_EXPLORER=true', async () => {
    const page = await fetch(production.url, { headers: html });
    expect(page.headers.get('content-type') ?? '').not.toContain('text/html');
    expect(await page.text()).not.toContain('GraphiQL');
    const script = await fetch(`${origin(production)}/explorer/graphiql.js`);
    expect(script.status).toBe(404);
    await script.body?.cancel();

    const enabled = await startTestApp({ NODE_ENV: 'production', GRAPHQL_EXPLORER: 'true' });
    try {
      const explorer = await fetch(enabled.url, { headers: html });
      expect(explorer.status).toBe(200);
      expect(await explorer.text()).toContain('/explorer/boot.js');
    } finally {
      await enabled.stop();
    }
  });
});

describe('an unbuilt page', () => {
  it('answers / with 503 and how to build it, instead of a bare 404', async () => {
    const app = Fastify();
    const config = loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(32), GRAPHQL_EXPLORER: 'false' });
    // Production: no development sign-in, so neither sessions nor users are used.
    await registerWeb(app, { config, sessions: {} as SessionVerifier, users: {} as UserService, webDir: '/nonexistent/web' });
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(503);
    expect(response.body).toContain('npm run build');
    await app.close();
  });
});

describe('PUBLIC_URL', () => {
  it('defaults to this port on localhost; PUBLIC_URL wins over the older APP_URL', () => {
    expect(loadConfig({ PORT: '4123' }).appUrl).toBe('http://localhost:4123/');
    expect(loadConfig({ PUBLIC_URL: 'https://tokens.example.com/', APP_URL: 'https://old.example.com/' }).appUrl).toBe(
      'https://tokens.example.com/',
    );
    expect(() => loadConfig({ PUBLIC_URL: 'ftp://x' })).toThrow(/PUBLIC_URL/);
    expect(() => loadConfig({ GRAPHQL_EXPLORER: 'yes' })).toThrow(/GRAPHQL_EXPLORER/);
  });

  it('is the link in emails, and the link opens the profile page', async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}/`;
    const t = await startTestApp({ PORT: String(port), PUBLIC_URL: publicUrl, MAIL_POLL_INTERVAL: 'PT0.1S' });
    try {
      await t.gql('mutation { generateApiToken { token { id } } }', { auth: await t.session('alice@example.com') });
      const dir = join(t.dataDir, 'mail');
      const [name] = await eventually('an .eml file', async () => {
        const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.eml'));
        return names.length > 0 && names;
      });
      const mail = await simpleParser(await readFile(join(dir, name ?? ''), 'utf8'));
      const links = [...(mail.text ?? '').matchAll(/https?:\/\/\S+/g)].map((m) => m[0]);
      expect(links).toContain(publicUrl);
      expect(mail.html).toContain(`href="${publicUrl}"`);
      const page = await fetch(publicUrl);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>API token · Your profile</title>');
    } finally {
      await t.stop();
    }
  });
});
