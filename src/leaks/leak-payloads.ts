/** At most this many tokens per request, on both endpoints. */
const MAX_REPORTED_TOKENS = 1000;

/** The longest token string looked at; ours are 53 characters, and anything far longer is not one. */
const MAX_TOKEN_LENGTH = 1024;
const MAX_URL_LENGTH = 2048;

/** One match in a GitHub secret scanning alert. */
export interface GitHubAlert {
  readonly token: string;
  readonly type: string;
  readonly url: string;
  readonly source: string | null;
}

/** GitHub's alert body, `[{token, type, url, source}]`; a string says what is wrong with it. */
export function parseGitHubAlerts(body: Buffer): GitHubAlert[] | string {
  const parsed = parseJson(body);
  if (!Array.isArray(parsed)) return 'The body must be a JSON array of {"token", "type", "url", "source"}.';
  if (parsed.length > MAX_REPORTED_TOKENS) return `At most ${MAX_REPORTED_TOKENS} alerts per request.`;
  const alerts: GitHubAlert[] = [];
  for (const [index, entry] of (parsed as unknown[]).entries()) {
    const { token, type, url, source } = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    if (typeof token !== 'string' || token === '' || token.length > MAX_TOKEN_LENGTH) {
      return `Alert ${index}: "token" must be a non-empty string.`;
    }
    if (typeof type !== 'string') return `Alert ${index}: "type" must be a string.`;
    if (typeof url !== 'string' || url.length > MAX_URL_LENGTH) return `Alert ${index}: "url" must be a string.`;
    alerts.push({ token, type, url, source: typeof source === 'string' ? source : null });
  }
  return alerts;
}

/** `{"credentials": ["own_…", …]}`; a string says what is wrong with it. */
export function parseCredentialReport(body: Buffer): string[] | string {
  const parsed = parseJson(body);
  const credentials = typeof parsed === 'object' && parsed !== null ? (parsed as { credentials?: unknown }).credentials : undefined;
  if (!Array.isArray(credentials)) return 'The body must be {"credentials": ["own_…", …]}.';
  if (credentials.length === 0) return '"credentials" must name at least one credential.';
  if (credentials.length > MAX_REPORTED_TOKENS) return `At most ${MAX_REPORTED_TOKENS} credentials per request.`;
  const list = credentials as unknown[];
  if (!list.every((item): item is string => typeof item === 'string' && item.length <= MAX_TOKEN_LENGTH)) {
    return `Each credential must be a string of at most ${MAX_TOKEN_LENGTH} characters.`;
  }
  return list;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
