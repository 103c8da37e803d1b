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
 * The CSP allows a same-origin page and a self-hosted GraphiQL: scripts,
 * styles, fonts and images from this origin (GraphiQL sets inline styles and
 * uses data: images), fetches to this origin and its WebSocket, and nothing
 * may frame the service. HSTS tells browsers to use HTTPS from then on (they
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
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", sameHostSockets],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  });
  app.addHook('onRequest', (request, reply, done) => {
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
