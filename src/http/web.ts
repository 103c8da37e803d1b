import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { SessionVerifier } from '../auth/session.js';
import type { Config } from '../config.js';
import { chooseEncoding, compress, type Encoding } from './compressed.js';
import { registerExplorerAssets } from './graphiql.js';
import { DEMO_ORGANIZATIONS } from '../users/seed.js';
import type { UserService } from '../users/user.service.js';

export interface WebOptions {
  readonly config: Config;
  readonly sessions: SessionVerifier;
  readonly users: UserService;
  /** Where the Vite build of `web/` is; defaults to the `web/` folder of the build this file runs from (see `defaultWebDir`). */
  readonly webDir?: string;
}

/** The package root, found from this file whether it runs from `src/` (tests) or `dist/src/` (npm start). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'api-token-service') {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json of api-token-service not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/**
 * Compiled (`<build>/src/http/web.js`), the page built next to it:
 * `dist/web` for `npm start`, `dist-test/web` for the tests' own build. Run
 * from source, `dist/web`.
 */
function defaultWebDir(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), '..', '..', 'web');
  return join(packageRoot(), 'dist', 'web');
}

/**
 * The profile page at `/` (static files built by Vite), the explorer's files,
 * and outside production the development sign-in endpoint the page uses.
 */
export async function registerWeb(app: FastifyInstance, options: WebOptions): Promise<void> {
  const webDir = options.webDir ?? defaultWebDir();
  const indexFile = join(webDir, 'index.html');
  if (existsSync(indexFile)) {
    await app.register(fastifyStatic, {
      root: webDir,
      // Files are listed once at start: unknown paths fall through to the JSON 404.
      wildcard: false,
      // The page itself is served below, with what it needs to know about this service.
      index: false,
      globIgnore: ['index.html', 'index.html.br', 'index.html.gz'],
      // The build writes each text file brotli- and gzip-compressed too (web/precompress.ts): send the
      // smallest the browser accepts, with Content-Encoding and Vary: Accept-Encoding.
      preCompressed: true,
      setHeaders: (reply) => {
        // Asset names carry a content hash.
        void reply.header('cache-control', 'public, max-age=31536000, immutable');
      },
    });
    const page = pageFor(readFileSync(indexFile, 'utf8'), options.config);
    // Rewritten per posture, so not the build's precompressed files: compressed here, once.
    const encoded: Record<Encoding, Buffer> = { br: await compress(page, 'br'), gzip: await compress(page, 'gzip') };
    for (const path of ['/', '/index.html']) {
      app.get(path, async (request, reply) => {
        // The page must always be revalidated: a new build or posture changes it.
        void reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').header('vary', 'accept-encoding');
        const encoding = chooseEncoding(request.headers['accept-encoding']);
        if (!encoding) return reply.send(page);
        return reply.header('content-encoding', encoding).send(encoded[encoding]);
      });
    }
  } else {
    app.get('/', async (_request, reply) =>
      reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send('The profile page is not built. Run `npm run build` (or `npm start`, which builds it).\n'),
    );
  }
  registerExplorerAssets(app, options.config);
  // A session minted for anyone who asks is only acceptable on a developer's
  // machine: never in production, never where the deployment looks real (its
  // own session key or PostgreSQL; see `deploymentSignals`).
  if (options.config.devSignIn) registerDevSession(app, options);
}

/** The `<meta>` through which the page learns whether development sign-in exists (web/src/session.ts). */
const DEV_SIGN_IN_META = /<meta name="api-token-dev-sign-in" content="off"\s*\/?>/;

/**
 * The built page, told whether `/dev/session` exists here, so a page in
 * production never asks for it (which answered 404 at every load). The
 * built file says `off`, so a page served any other way fails closed.
 */
function pageFor(html: string, config: Config): string {
  if (!DEV_SIGN_IN_META.test(html)) throw new Error('The built profile page lacks its api-token-dev-sign-in meta tag; rebuild it');
  return config.devSignIn ? html.replace(DEV_SIGN_IN_META, '<meta name="api-token-dev-sign-in" content="on" />') : html;
}

/** What arrives: JSON of any shape, `null` included. */
type DevSessionBody = { readonly email?: unknown } | null;

function badInput(message: string) {
  return { errors: [{ message, extensions: { code: 'BAD_USER_INPUT', field: 'email' } }] };
}

const DEMO_EMAILS: ReadonlySet<string> = new Set(
  DEMO_ORGANIZATIONS.flatMap((organization) => organization.users.map((user) => user.email)),
);

/**
 * `GET /dev/session` lists the demo users; `POST /dev/session {email}` signs a
 * session for one of them, and for nobody else (not a user an admin created,
 * even on a development database). Neither exists unless `config.devSignIn`.
 */
function registerDevSession(app: FastifyInstance, { sessions, users }: WebOptions): void {
  app.get('/dev/session', async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
    return {
      users: DEMO_ORGANIZATIONS.flatMap((organization) =>
        organization.users.map((user) => ({ email: user.email, name: user.name, role: user.role, organization: organization.name })),
      ),
    };
  });
  app.post<{ Body: DevSessionBody }>('/dev/session', async (request, reply) => {
    void reply.header('cache-control', 'no-store');
    // JSON only: a cross-site form cannot send it without a preflight, so another site cannot sign you in.
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return reply.status(415).send({
        errors: [{ message: 'Send {"email": …} as application/json.', extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' } }],
      });
    }
    const email = request.body?.email;
    if (typeof email !== 'string' || email.trim() === '') return reply.status(400).send(badInput('Give the email of a user.'));
    if (!DEMO_EMAILS.has(email.trim().toLowerCase())) {
      return reply.status(400).send(badInput('Development sign-in is for the demo users only.'));
    }
    const user = await users.findByEmail(email);
    if (!user || !user.active) return reply.status(400).send(badInput('No such user.'));
    return { session: await sessions.sign(user) };
  });
}
