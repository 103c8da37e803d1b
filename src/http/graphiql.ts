import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { Config } from '../config.js';

/** The key under which the profile page keeps its session; the explorer reads it to prefill Authorization. */
export const SESSION_STORAGE_KEY = 'api-token-session';

/** Keeps `</script>` and friends inside a string literal from ending the inline script. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

/**
 * GraphiQL, self-contained: its script, styles and editor workers come from
 * `@graphql-yoga/render-graphiql` in this package and are inlined, so the page
 * makes no request to any other origin (Apollo's own landing page loads from
 * a CDN). Queries go to `/graphql` over HTTP, subscriptions over graphql-ws on
 * the same URL. The session the profile page stored in this tab's
 * sessionStorage, if any, becomes the Authorization header and the graphql-ws
 * `connectionParams`; headers are not persisted, so the session never lands in
 * localStorage.
 */
export async function renderExplorer(): Promise<string> {
  // 9 MB of script: loaded on the first request, not at start.
  const { css, js, favicon, editorWorkerService, jsonWorker, graphqlWorker } = await import(
    '@graphql-yoga/render-graphiql/graphiql'
  );
  const options = {
    title: 'API token service · GraphiQL',
    subscriptionsProtocol: 'WS',
    shouldPersistHeaders: false,
    defaultQuery: '{\n  me { email }\n  myApiToken { hint createdAt expiresAt lastUsedAt lastUsedRegion }\n  apiTokenPolicy { lifetimeDays tokensEnabled disabledReason }\n}\n',
  };
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${options.title}</title>
    <link rel="icon" href="${favicon}" />
    <style>${css}</style>
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run GraphiQL.</noscript>
    <div id="root"></div>
    <script>
      const workers = Object.fromEntries(
        Object.entries({
          editorWorkerService: ${scriptJson(editorWorkerService)},
          json: ${scriptJson(jsonWorker)},
          graphql: ${scriptJson(graphqlWorker)},
        }).map(([label, code]) => [label, URL.createObjectURL(new Blob([code], { type: 'application/javascript' }))]),
      );
      self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_moduleId, label) => workers[label] };
      ${js};
      const options = ${scriptJson(options)};
      options.endpoint = location.origin + '/graphql';
      let session = null;
      try { session = sessionStorage.getItem(${scriptJson(SESSION_STORAGE_KEY)}); } catch {}
      if (session) {
        options.headers = JSON.stringify({ Authorization: 'Bearer ' + session }, null, 2);
        options.connectionParams = { authorization: 'Bearer ' + session };
      }
      YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), options);
    </script>
  </body>
</html>
`;
}

/**
 * Apollo's landing page hook: a browser GET of `/graphql` (Accept: text/html)
 * gets the offline explorer when `GRAPHQL_EXPLORER` allows it (default:
 * outside production), and no landing page at all otherwise.
 */
export function explorerPlugin(config: Pick<Config, 'graphqlExplorer'>): ApolloServerPlugin {
  if (!config.graphqlExplorer) return ApolloServerPluginLandingPageDisabled();
  let html: Promise<string> | null = null;
  return {
    async serverWillStart() {
      return {
        async renderLandingPage() {
          return { html: () => (html ??= renderExplorer()) };
        },
      };
    },
  };
}
