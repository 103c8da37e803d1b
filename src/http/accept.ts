/** The two media types a GraphQL-over-HTTP response may have. */
const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json; charset=utf-8';
const APPLICATION_JSON = 'application/json; charset=utf-8';

/** The q-value the Accept header gives `type` (exact, `application/*` or `*\/*`); 0 when not acceptable. */
function quality(accept: string, type: string): number {
  let best = -1;
  let bestSpecificity = -1;
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.split(';').map((item) => item.trim().toLowerCase());
    const specificity = range === type ? 2 : range === 'application/*' ? 1 : range === '*/*' ? 0 : -1;
    if (specificity < 0 || specificity < bestSpecificity) continue;
    const q = params.find((param) => param.startsWith('q='));
    const value = q ? Number(q.slice(2)) : 1;
    bestSpecificity = specificity;
    best = Number.isFinite(value) ? value : 0;
  }
  return Math.max(best, 0);
}

/**
 * The content type for a GraphQL error body sent before Apollo runs (the 401
 * of a bad bearer credential). Like Apollo, `application/json` wins a tie, so
 * clients that never asked for the newer type see no change; a client that
 * prefers `application/graphql-response+json` gets it, and may then read
 * the error body of a non-2xx response as GraphQL.
 */
export function graphQLResponseType(accept: string | undefined): string {
  if (!accept) return APPLICATION_JSON;
  const graphql = quality(accept, 'application/graphql-response+json');
  return graphql > 0 && graphql > quality(accept, 'application/json') ? GRAPHQL_RESPONSE_JSON : APPLICATION_JSON;
}
