import type { IncomingMessage } from 'node:http';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/** A `Host` header we are willing to echo into a CSP: a name or IP literal and a port, nothing else. */
const PLAIN_HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/**
 * The WebSocket origins of the page's own host. CSP Level 3 lets `'self'`
 * cover them, but not every browser in use does yet, and GraphiQL and the
 * profile page subscribe over `ws(s)://<same host>/graphql`.
 */
function sameHostSockets(request: IncomingMessage): string {
  const host = request.headers.host ?? '';
  return PLAIN_HOST.test(host) ? `ws://${host} wss://${host}` : '';
}

/**
 * Security headers on every response, and CORS for the listed origins only.
 *
 * The CSP allows scripts, styles, fonts and images from this origin only,
 * fetches to this origin and its WebSocket, and nothing may frame the
 * service. The self-hosted GraphiQL (its page at `/graphql`, its files under
 * `/explorer/`) alone also gets inline styles and data: images and fonts,
 * which its editor needs; the profile page and everything else do not. HSTS tells browsers to use HTTPS from then on (they
 * ignore it over plain HTTP, so local development is unaffected).
 *
 * CORS: only `CORS_ORIGINS` may call the API from a browser; by default no
 * other origin. Credentials are bearer headers, never cookies, so
 * `Access-Control-Allow-Credentials` is never sent.
 *
 * Helmet's middleware is built once here and applied by a synchronous hook:
 * `@fastify/helmet` rebuilt it (parsing every directive) on each request,
 * about a tenth of a small request's server time.
 */
export async function registerSecurityHeaders(app: FastifyInstance, corsOrigins: readonly string[]): Promise<void> {
  const headers = (relaxed: boolean) =>
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: relaxed ? ["'self'", "'unsafe-inline'"] : ["'self'"],
          imgSrc: relaxed ? ["'self'", 'data:'] : ["'self'"],
          fontSrc: relaxed ? ["'self'", 'data:'] : ["'self'"],
          connectSrc: ["'self'", sameHostSockets],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    });
  const strict = headers(false);
  const explorer = headers(true);
  app.addHook('onRequest', (request, reply, done) => {
    const securityHeaders = isExplorer(request.url) ? explorer : strict;
    securityHeaders(request.raw, reply.raw, (error?: unknown) => {
      done(error instanceof Error ? error : undefined);
    });
  });

  const allowed = new Set(corsOrigins);
  await app.register(cors, {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'POST'],
    allowedHeaders: ['authorization', 'content-type', 'apollo-require-preflight'],
    exposedHeaders: ['retry-after', 'www-authenticate'],
    maxAge: 600,
  });
}

/** The explorer's page (`/graphql`, which Apollo answers with GraphiQL for a browser) and its files. */
function isExplorer(url: string): boolean {
  const path = url.split('?', 1)[0] ?? '';
  return path === '/graphql' || path.startsWith('/explorer/');
}
