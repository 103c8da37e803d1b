import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { chooseEncoding, compressedCache } from './compressed.js';

/** The key under which the profile page keeps its session; the explorer reads it to prefill Authorization. */
const SESSION_STORAGE_KEY = 'api-token-session';

/**
 * Where the explorer's script, styles and editor workers are served from, all
 * on this origin. Not under `/graphql`: the bearer check for GraphQL must
 * never apply to static files.
 */
const EXPLORER_ASSETS = '/explorer';

const WORKER_LABELS = ['editorWorkerService', 'json', 'graphql'] as const;
type WorkerLabel = (typeof WORKER_LABELS)[number];

interface ExplorerAssets {
  readonly html: string;
  readonly files: ReadonlyMap<string, { readonly type: string; readonly body: string }>;
}

/** What GraphiQL is given; the boot script adds the endpoint and, if the page left one, the session. */
const OPTIONS = {
  title: 'API token service · GraphiQL',
  subscriptionsProtocol: 'WS',
  // The session must not outlive the tab in localStorage.
  shouldPersistHeaders: false,
  defaultQuery:
    '{\n  me { email }\n  myApiToken { hint createdAt expiresAt lastUsedAt lastUsedRegion }\n  apiTokenPolicy { lifetimeDays tokensEnabled disabledReason }\n}\n',
};

/**
 * Runs before GraphiQL renders: editor workers from this origin, and the
 * session the profile page stored in this tab's sessionStorage as the
 * Authorization header (HTTP) and graphql-ws `connectionParams` (subscriptions).
 */
const BOOT = `(() => {
  const assets = ${JSON.stringify(EXPLORER_ASSETS)};
  self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_moduleId, label) => assets + '/worker-' + label + '.js' };
  const options = Object.assign(${JSON.stringify(OPTIONS)}, { endpoint: location.origin + '/graphql' });
  let session = null;
  try { session = sessionStorage.getItem(${JSON.stringify(SESSION_STORAGE_KEY)}); } catch {}
  if (session) {
    options.headers = JSON.stringify({ Authorization: 'Bearer ' + session }, null, 2);
    options.connectionParams = { authorization: 'Bearer ' + session };
  }
  YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), options);
})();
`;

/** The way back to the profile page, in a bar above GraphiQL (which otherwise fills the window). */
const BACK_CSS = `body { display: flex; flex-direction: column; height: 100vh; margin: 0; }
.explorer-back { flex: none; padding: 0.4rem 1rem; font: 14px/1.4 system-ui, sans-serif; border-bottom: 1px solid #ddd; }
.explorer-back a { color: #0b57d0; }
#root { flex: 1; min-height: 0; }
`;

let assets: Promise<ExplorerAssets> | null = null;

/**
 * GraphiQL from `@graphql-yoga/render-graphiql` in this package, served as
 * files from this origin: Apollo's own landing page loads from a CDN, and an
 * inline script would need a CSP exception. 9 MB of script, so it is loaded
 * on the first request rather than at start.
 */
function explorerAssets(): Promise<ExplorerAssets> {
  return (assets ??= (async () => {
    const graphiql = await import('@graphql-yoga/render-graphiql/graphiql');
    const workers: Record<WorkerLabel, string> = {
      editorWorkerService: graphiql.editorWorkerService,
      json: graphiql.jsonWorker,
      graphql: graphiql.graphqlWorker,
    };
    const js = 'text/javascript; charset=utf-8';
    const files = new Map([
      ['graphiql.js', { type: js, body: graphiql.js }],
      ['graphiql.css', { type: 'text/css; charset=utf-8', body: graphiql.css }],
      ['boot.js', { type: js, body: BOOT }],
      ['back.css', { type: 'text/css; charset=utf-8', body: BACK_CSS }],
      ...WORKER_LABELS.map((label) => [`worker-${label}.js`, { type: js, body: workers[label] }] as const),
    ]);
    const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${OPTIONS.title}</title>
    <link rel="icon" href="${graphiql.favicon}" />
    <link rel="stylesheet" href="${EXPLORER_ASSETS}/graphiql.css" />
    <link rel="stylesheet" href="${EXPLORER_ASSETS}/back.css" />
  </head>
  <body id="body" class="no-focus-outline">
    <nav class="explorer-back" aria-label="Explorer"><a href="/">← Back to your profile</a></nav>
    <noscript>You need to enable JavaScript to run GraphiQL.</noscript>
    <div id="root"></div>
    <script src="${EXPLORER_ASSETS}/graphiql.js"></script>
    <script src="${EXPLORER_ASSETS}/boot.js"></script>
  </body>
</html>
`;
    return { html, files };
  })());
}

/** The explorer's files under `/explorer/`, when `GRAPHQL_EXPLORER` allows the explorer. */
export function registerExplorerAssets(app: FastifyInstance, config: Pick<Config, 'graphqlExplorer'>): void {
  if (!config.graphqlExplorer) return;
  const compressed = compressedCache();
  app.get<{ Params: { file: string } }>(`${EXPLORER_ASSETS}/:file`, async (request, reply) => {
    const file = (await explorerAssets()).files.get(request.params.file);
    if (!file) {
      reply.callNotFound();
      return reply;
    }
    void reply.type(file.type).header('cache-control', 'no-cache').header('vary', 'accept-encoding');
    // About 9 MB of script and style as they are; a few hundred KB compressed.
    const encoding = chooseEncoding(request.headers['accept-encoding']);
    if (!encoding) return reply.send(file.body);
    return reply.header('content-encoding', encoding).send(await compressed(request.params.file, file.body, encoding));
  });
}

/**
 * Apollo's landing page hook: a browser GET of `/graphql` (Accept: text/html)
 * gets the offline explorer when `GRAPHQL_EXPLORER` allows it (default:
 * outside production), and no landing page at all otherwise.
 */
export function explorerPlugin(config: Pick<Config, 'graphqlExplorer'>): ApolloServerPlugin {
  if (!config.graphqlExplorer) return ApolloServerPluginLandingPageDisabled();
  return {
    async serverWillStart() {
      return {
        async renderLandingPage() {
          return { html: async () => (await explorerAssets()).html };
        },
      };
    },
  };
}
