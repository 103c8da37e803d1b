import { z } from 'zod';
import { DAY_MS, parseDuration, type Duration } from './duration.js';
import type { OperationLimits } from './http/operation-limits.js';

/** At most `points` in any `duration` window: what a `RATE_LIMIT_*` variable parses to. */
export interface RateLimit {
  readonly points: number;
  readonly duration: Duration;
}

/**
 * The service's whole configuration, validated once at start. Its type is
 * derived from the environment schema (`EnvSchema`, each variable written
 * once, with its check and default) and the one mapping that shapes it
 * (`toConfig`, where each field says what it is for): there is no separate
 * interface to keep in step.
 */
export type Config = DeepReadonly<ReturnType<typeof toConfig>>;
export type RateLimitsConfig = Config['rateLimits'];
export type WebSocketLimits = Config['websocket'];
export type ConnectionLimits = Config['connections'];
export type IntrospectionClientConfig = Config['introspectionClients'][number];

type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends Date | Duration | string | number | boolean | null
    ? T
    : { readonly [K in keyof T]: DeepReadonly<T[K]> };

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const duration = (name: string) =>
  z.string().transform((text, ctx) => {
    const parsed = parseDuration(text);
    if (!parsed) {
      ctx.addIssue({
        code: 'custom',
        message: `${name} must be a positive ISO-8601 duration such as P180D or PT20S, at most P36500D (years and months are not accepted), got "${text}"`,
      });
      return z.NEVER;
    }
    return parsed;
  });

/** The longest delay a timer can take: Node fires longer ones after 1 ms, which would turn a poll into a busy loop. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A duration used as a timer's delay: at most 24 days. */
const interval = (name: string) => duration(name).refine((parsed) => parsed.ms <= MAX_TIMER_MS, { error: `${name} must be at most P24D` });

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== '' ? v.trim() : null));

const url = (name: string, protocols: readonly string[]) =>
  optionalText.refine(
    (v) => {
      if (v === null) return true;
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { error: `${name} must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

/** `<count>/<ISO-8601 duration>`, e.g. `10/PT1H`; windows are whole seconds, as Redis counts them. */
const rateLimit = (name: string) =>
  z.string().transform((text, ctx): RateLimit => {
    const match = /^\s*(\d{1,7})\s*\/\s*(\S+)\s*$/.exec(text);
    const points = Number(match?.[1] ?? 0);
    const duration = parseDuration(match?.[2] ?? '');
    if (!match || points < 1 || !duration || duration.ms % 1000 !== 0) {
      ctx.addIssue({
        code: 'custom',
        message: `${name} must be <count>/<duration> such as 10/PT1H (count 1-9999999, a whole number of seconds), got "${text}"`,
      });
      return z.NEVER;
    }
    return { points, duration };
  });

const limitDefault = (points: number, iso: string, ms: number): RateLimit => ({ points, duration: { iso, ms } });
/** A whole number within bounds, named in the message when it is not. */
const count = (name: string, min: number, max: number, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be a whole number`)
    .min(min, `${name} must be between ${min} and ${max}`)
    .max(max, `${name} must be between ${min} and ${max}`)
    .default(fallback);

const flag = (name: string) => z.enum(['true', 'false'], { error: `${name} must be true or false` }).optional();

const list = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

const DEFAULT_EXPIRY_WARNINGS = 'P30D,P7D,P1D';
/** Open connections one client address may hold when the service is reached directly. */
const DEFAULT_CONNECTIONS_PER_ADDRESS = 64;
const DEFAULT_REGION = 'local';
const REGION_NAME = /^[a-z0-9-]{1,32}$/;

const EnvSchema = z.object({
  // No default: `choosePosture` decides from what else is set.
  NODE_ENV: z.enum(['development', 'test', 'production']).optional(),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce
    .number({ error: 'PORT must be a number' })
    .int('PORT must be a whole number')
    .min(0, 'PORT must be between 0 and 65535')
    .max(65535, 'PORT must be between 0 and 65535')
    .default(4000),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: url('DATABASE_URL', ['sqlite:', 'postgres:', 'postgresql:']),
  REDIS_URL: url('REDIS_URL', ['redis:', 'rediss:']),
  SESSION_SECRET: optionalText.refine((v) => v === null || v.length >= 32, {
    error: 'SESSION_SECRET must be at least 32 characters',
  }),
  SESSION_JWKS_URL: url('SESSION_JWKS_URL', ['https:', 'http:']),
  SESSION_ISSUER: optionalText,
  SESSION_AUDIENCE: optionalText,
  SMTP_URL: url('SMTP_URL', ['smtp:', 'smtps:']),
  MAIL_FROM: z.string().default('API Tokens <no-reply@localhost>'),
  MAIL_POLL_INTERVAL: interval('MAIL_POLL_INTERVAL').default({ iso: 'PT5S', ms: 5_000 }),
  EVENT_POLL_INTERVAL: interval('EVENT_POLL_INTERVAL')
    .refine((parsed) => parsed.ms >= 50 && parsed.ms <= 10_000, { error: 'EVENT_POLL_INTERVAL must be between PT0.05S and PT10S' })
    .default({ iso: 'PT0.5S', ms: 500 }),
  MAIL_MAX_ATTEMPTS: z.coerce
    .number({ error: 'MAIL_MAX_ATTEMPTS must be a number' })
    .int('MAIL_MAX_ATTEMPTS must be a whole number')
    .min(1, 'MAIL_MAX_ATTEMPTS must be between 1 and 100')
    .max(100, 'MAIL_MAX_ATTEMPTS must be between 1 and 100')
    .default(12),
  MAIL_MAX_RATE: count('MAIL_MAX_RATE', 1, 10_000, 20),
  APP_URL: url('APP_URL', ['http:', 'https:']),
  PUBLIC_URL: url('PUBLIC_URL', ['http:', 'https:']),
  GRAPHQL_EXPLORER: z.enum(['true', 'false'], { error: 'GRAPHQL_EXPLORER must be true or false' }).optional(),
  REGION: z.string().regex(REGION_NAME, 'REGION must be 1-32 lowercase letters, digits or dashes').default(DEFAULT_REGION),
  REGIONS: optionalText,
  TOKEN_LIFETIME: duration('TOKEN_LIFETIME').default({ iso: 'P180D', ms: 180 * DAY_MS }),
  EXPIRY_WARNINGS: z.string().default(DEFAULT_EXPIRY_WARNINGS),
  SWEEP_INTERVAL: interval('SWEEP_INTERVAL').default({ iso: 'PT1M', ms: 60_000 }),
  SWEEP_MAX_RATE: count('SWEEP_MAX_RATE', 1, 1_000_000, 6_000),
  BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .max(10 * 1024 * 1024)
    .default(100 * 1024),
  INTROSPECTION_CLIENTS: optionalText,
  RATE_LIMIT_TOKEN_CHANGES: rateLimit('RATE_LIMIT_TOKEN_CHANGES').default(limitDefault(10, 'PT1H', 3_600_000)),
  RATE_LIMIT_AUTH_FAILURES: rateLimit('RATE_LIMIT_AUTH_FAILURES').default(limitDefault(30, 'PT1M', 60_000)),
  RATE_LIMIT_INTROSPECTION: rateLimit('RATE_LIMIT_INTROSPECTION').default(limitDefault(6000, 'PT1M', 60_000)),
  RATE_LIMIT_REVOKE: rateLimit('RATE_LIMIT_REVOKE').default(limitDefault(30, 'PT1M', 60_000)),
  // GitHub's credential revocation API allows 60 requests an hour.
  RATE_LIMIT_CREDENTIAL_REPORTS: rateLimit('RATE_LIMIT_CREDENTIAL_REPORTS').default(limitDefault(60, 'PT1H', 3_600_000)),
  SECRET_SCANNING_KEYS: optionalText.refine((v) => v === null || !/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || v.startsWith('https://'), {
    error: 'SECRET_SCANNING_KEYS must be an https:// URL or a file path',
  }),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{1,64}$/, 'REDIS_KEY_PREFIX must be 1-64 letters, digits or : . _ -')
    .default('api-tokens:'),
  CORS_ORIGINS: optionalText,
  METRICS_TOKEN: optionalText.refine((v) => v === null || (v.length >= 32 && !/\s/.test(v)), {
    error: 'METRICS_TOKEN must be at least 32 characters without spaces',
  }),
  TRUST_PROXY: optionalText,
  ALLOW_LOCAL_MAIL: flag('ALLOW_LOCAL_MAIL'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty'], { error: 'LOG_FORMAT must be json or pretty' }).optional(),
  SCIM_RATE_LIMIT: z.coerce
    .number({ error: 'SCIM_RATE_LIMIT must be a number' })
    .int('SCIM_RATE_LIMIT must be a whole number')
    .min(1, 'SCIM_RATE_LIMIT must be between 1 and 100000')
    .max(100_000, 'SCIM_RATE_LIMIT must be between 1 and 100000')
    .default(600),
  SESSION_MAX_AGE: duration('SESSION_MAX_AGE').default({ iso: 'PT12H', ms: 12 * 60 * 60_000 }),
  // Our data types nest at most 6 deep; 15 is what GraphiQL's introspection query needs.
  GRAPHQL_MAX_DEPTH: count('GRAPHQL_MAX_DEPTH', 1, 100, 15),
  GRAPHQL_MAX_ALIASES: count('GRAPHQL_MAX_ALIASES', 0, 1_000, 15),
  GRAPHQL_MAX_DIRECTIVES: count('GRAPHQL_MAX_DIRECTIVES', 0, 1_000, 50),
  GRAPHQL_MAX_TOKENS: count('GRAPHQL_MAX_TOKENS', 100, 100_000, 1_000),
  // The standard introspection query writes 72 fields, the page's operations 46 together.
  GRAPHQL_MAX_FIELDS: count('GRAPHQL_MAX_FIELDS', 10, 10_000, 200),
  // A full page (first: 100) of apiTokens with every field costs about 10,200.
  GRAPHQL_MAX_COST: count('GRAPHQL_MAX_COST', 1, 10_000_000, 20_000),
  GRAPHQL_INTROSPECTION: flag('GRAPHQL_INTROSPECTION'),
  HTTP_REQUEST_TIMEOUT: interval('HTTP_REQUEST_TIMEOUT')
    .refine((parsed) => parsed.ms >= 1_000, { error: 'HTTP_REQUEST_TIMEOUT must be at least PT1S' })
    .default({ iso: 'PT30S', ms: 30_000 }),
  HTTP_MAX_CONNECTIONS_PER_ADDRESS: z.coerce
    .number({ error: 'HTTP_MAX_CONNECTIONS_PER_ADDRESS must be a number' })
    .int('HTTP_MAX_CONNECTIONS_PER_ADDRESS must be a whole number')
    .min(0, 'HTTP_MAX_CONNECTIONS_PER_ADDRESS must be between 0 and 1000000')
    .max(1_000_000, 'HTTP_MAX_CONNECTIONS_PER_ADDRESS must be between 0 and 1000000')
    .optional(),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: count('WS_MAX_SUBSCRIPTIONS_PER_SOCKET', 1, 1_000, 10),
  WS_MAX_SUBSCRIPTIONS_PER_USER: count('WS_MAX_SUBSCRIPTIONS_PER_USER', 1, 100_000, 100),
  // The page sends a subscribe and a ping every 15 s; a flood sends thousands a second.
  WS_MAX_MESSAGES: count('WS_MAX_MESSAGES', 10, 1_000_000, 100),
  WS_MESSAGE_WINDOW: interval('WS_MESSAGE_WINDOW').default({ iso: 'PT10S', ms: 10_000 }),
  WS_MAX_SOCKETS_PER_USER: count('WS_MAX_SOCKETS_PER_USER', 1, 100_000, 32),
  PRINCIPAL_CACHE_SIZE: count('PRINCIPAL_CACHE_SIZE', 100, 1_000_000, 10_000),
  WS_MAX_SOCKETS_PER_ADDRESS: count('WS_MAX_SOCKETS_PER_ADDRESS', 1, 1_000_000, 256),
});

interface LoadOptions {
  /**
   * For the service itself (`main.ts`), not a CLI: production then also needs
   * to know where its mail goes (`SMTP_URL`) and where its links point
   * (`PUBLIC_URL`), unless `ALLOW_LOCAL_MAIL=true` says that is meant.
   * @default false
   */
  readonly server?: boolean;
}

/**
 * Reads the configuration from environment variables. Every bad value is
 * reported at once, by name, so a misconfigured deployment fails at start with
 * one readable message instead of at the first request.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Config {
  // An empty variable means "not set", as deployment tools often leave them.
  const given = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== ''),
  );
  const parsed = EnvSchema.safeParse(given);
  const problems: string[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message));

  // Checks across variables read the raw values, so they are reported together with the rest.
  const expiryWarnings = parseWarnings(given['EXPIRY_WARNINGS'] ?? DEFAULT_EXPIRY_WARNINGS, problems);
  const region = parsed.success ? parsed.data.REGION : (given['REGION'] ?? DEFAULT_REGION);
  const regions = given['REGIONS'] ? list(given['REGIONS']) : [region];
  for (const name of regions.filter((entry) => !REGION_NAME.test(entry))) {
    problems.push(`REGIONS: "${name}" is not a region name (1-32 lowercase letters, digits or dashes)`);
  }
  if (new Set(regions).size !== regions.length) problems.push('REGIONS: each region may appear once');
  if (!regions.includes(region)) {
    problems.push(`REGIONS: must include this instance's REGION "${region}"`);
  }
  const posture = choosePosture(given);
  if (!given['SESSION_SECRET'] && !given['SESSION_JWKS_URL'] && posture.env === 'production') {
    problems.push(`SESSION_SECRET or SESSION_JWKS_URL must be set in production (${posture.reason})`);
  }
  if (options.server && posture.env === 'production' && given['ALLOW_LOCAL_MAIL'] !== 'true') {
    const missing = [given['SMTP_URL'] ? null : 'SMTP_URL', given['PUBLIC_URL'] || given['APP_URL'] ? null : 'PUBLIC_URL'].filter(
      (name): name is string => name !== null,
    );
    if (missing.length) {
      problems.push(
        `${missing.join(' and ')} must be set in production (${posture.reason}): without them, emails are only written ` +
          'under DATA_DIR/mail and link to http://localhost. Set ALLOW_LOCAL_MAIL=true to start without them on purpose.',
      );
    }
  }
  const introspectionClients = parseIntrospectionClients(given['INTROSPECTION_CLIENTS'] ?? null, problems);
  const corsOrigins = parseOrigins(given['CORS_ORIGINS'] ?? null, problems);
  const trustProxy = parseTrustProxy(given['TRUST_PROXY'] ?? null, problems);
  if (!parsed.success || problems.length) throw new ConfigError(problems);
  return toConfig(parsed.data, {
    posture,
    signals: deploymentSignals(given),
    regions,
    expiryWarnings,
    introspectionClients,
    corsOrigins,
    trustProxy,
  });
}

/** What `loadConfig` works out across variables, before the configuration is shaped. */
interface Derived {
  readonly posture: { readonly env: 'development' | 'test' | 'production'; readonly reason: string };
  /** `deploymentSignals`: why the deployment looks real; empty for a developer's embedded default. */
  readonly signals: readonly string[];
  readonly regions: string[];
  readonly expiryWarnings: Duration[];
  readonly introspectionClients: { readonly id: string; readonly secret: string }[];
  readonly corsOrigins: string[];
  readonly trustProxy: boolean | string[];
}

/** The configuration's shape, and so its type (`Config`): every field is documented here. */
function toConfig(e: z.output<typeof EnvSchema>, derived: Derived) {
  const mode = derived.posture.env;
  const { signals, trustProxy } = derived;
  return {
    /** The posture (see `choosePosture`): `production` unless development was asked for or nothing looks deployed. */
    env: mode,
    /** How `env` was chosen, in words, for the start-up line (`NODE_ENV=production`, `NODE_ENV is not set and …`). */
    posture: derived.posture.reason,
    /**
     * Whether `POST /dev/session` signs sessions for the demo users: only
     * outside production, and never when the deployment looks real
     * (`deploymentSignals`), whatever `NODE_ENV` says.
     */
    devSignIn: mode !== 'production' && signals.length === 0,
    /** Why development sign-in is off although the posture is development; null otherwise. */
    devSignInOff: mode !== 'production' && signals.length > 0 ? signals.join(', ') : null,
    host: e.HOST,
    port: e.PORT,
    /** Where the embedded default keeps its database, session secret and mail. */
    dataDir: e.DATA_DIR,
    /** `sqlite:<file>` or `postgres://…`; defaults to `<dataDir>/api-tokens.sqlite`. */
    databaseUrl: e.DATABASE_URL ?? `sqlite:${e.DATA_DIR.replace(/\/$/, '')}/api-tokens.sqlite`,
    /** Null: events stay in this process. */
    redisUrl: e.REDIS_URL,
    session: {
      /** HS256 secret shared with the identity provider. Null when `jwksUrl` is used. */
      secret: e.SESSION_SECRET,
      jwksUrl: e.SESSION_JWKS_URL,
      issuer: e.SESSION_ISSUER,
      audience: e.SESSION_AUDIENCE,
      /** Longest lifetime (`exp - iat`) a session JWT may have. */
      maxAge: e.SESSION_MAX_AGE,
    },
    /** Null: emails are written as `.eml` files under `<dataDir>/mail/`. */
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    /** How often the mail worker looks for due outbox rows when no commit nudged it. */
    mailPollInterval: e.MAIL_POLL_INTERVAL,
    /** Delivery attempts per email before it is marked FAILED. */
    mailMaxAttempts: e.MAIL_MAX_ATTEMPTS,
    /** Emails one instance's worker sends a second at most: a relay's limit, and the cores the requests keep while a queue drains. */
    mailMaxRate: e.MAIL_MAX_RATE,
    /**
     * How often every instance reads the stored audit log for changes Redis did
     * not bring (lost, delayed, or never published). Three of them bound how
     * stale a cache may be, and how long a change waits for an instance that
     * does not acknowledge it.
     */
    eventPollInterval: e.EVENT_POLL_INTERVAL,
    /**
     * Credentials each instance keeps resolved (API tokens by digest, session
     * users), each kind apart; about 1.6 KiB of heap each (bench/REPORT.md, "Scale").
     */
    principalCacheSize: e.PRINCIPAL_CACHE_SIZE,
    /** The profile page; links in emails point here. From `PUBLIC_URL` (or the older `APP_URL`). */
    appUrl: e.PUBLIC_URL ?? e.APP_URL ?? `http://localhost:${e.PORT}/`,
    /** `PUBLIC_URL` (or `APP_URL`) as given; null when unset. SCIM builds its URLs from it, never from the Host header. */
    publicUrl: e.PUBLIC_URL ?? e.APP_URL ?? null,
    /** Whether a browser GET of `/graphql` gets the offline GraphiQL explorer (default: outside production). */
    graphqlExplorer: e.GRAPHQL_EXPLORER ? e.GRAPHQL_EXPLORER === 'true' : mode !== 'production',
    /** This instance's region, recorded as a token's last-used region. */
    region: e.REGION,
    /** Every region a token works in. */
    regions: derived.regions,
    tokenLifetime: e.TOKEN_LIFETIME,
    /** Largest first. */
    expiryWarnings: derived.expiryWarnings,
    sweepInterval: e.SWEEP_INTERVAL,
    /** Tokens one instance's sweeper expires or warns a second at most, so a large backlog leaves the database and the cores room for requests. */
    sweepMaxRate: e.SWEEP_MAX_RATE,
    /** Largest accepted request body, in bytes. */
    bodyLimit: e.BODY_LIMIT,
    logLevel: e.LOG_LEVEL,
    /**
     * Who may call `POST /oauth/introspect` (HTTP Basic). Empty: none configured;
     * outside production a development client is then generated.
     */
    introspectionClients: derived.introspectionClients,
    /** Per-user, per-IP and per-client budgets; see `src/http/rate-limits.ts`. */
    rateLimits: {
      /** generate/regenerate per user (a revoke is never refused): also bounds the emails they send. */
      tokenChanges: e.RATE_LIMIT_TOKEN_CHANGES,
      /** Failed credentials per client IP (HTTP and graphql-ws, SCIM, metrics). */
      authFailures: e.RATE_LIMIT_AUTH_FAILURES,
      /** `POST /oauth/introspect` calls per authenticated client id. */
      introspection: e.RATE_LIMIT_INTROSPECTION,
      /** `POST /oauth/revoke` calls per client IP (it needs no client authentication). */
      revoke: e.RATE_LIMIT_REVOKE,
      /** SCIM requests per organisation (`SCIM_RATE_LIMIT` a minute). */
      scim: { points: e.SCIM_RATE_LIMIT, duration: { iso: 'PT1M', ms: 60_000 } } satisfies RateLimit,
      /** `POST /credentials/revoke` calls per client IP (anyone may report exposed tokens). */
      credentialReports: e.RATE_LIMIT_CREDENTIAL_REPORTS,
    },
    /** Prefix of every key and channel this service uses in Redis. */
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    /** Origins a browser may call the API from (CORS). Empty: none but the service's own. */
    corsOrigins: derived.corsOrigins,
    /**
     * Bearer token a Prometheus scraper sends to `GET /metrics`, which also
     * unlocks operational details on `/readyz`. Null: `/metrics` is not served
     * and `/readyz` details go only to the logs.
     */
    metricsToken: e.METRICS_TOKEN,
    /**
     * Which proxies to believe about the client's address (`X-Forwarded-For`),
     * as Fastify's `trustProxy`: false, true, or a list of proxy addresses.
     * Per-IP limits are only as good as this.
     */
    trustProxy,
    /** `pretty` (pino-pretty) or `json`; null: pretty on a terminal outside production, JSON otherwise. */
    logFormat: e.LOG_FORMAT ?? null,
    /** What one GraphQL operation may ask for, over HTTP and graphql-ws. */
    operationLimits: {
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxDirectives: e.GRAPHQL_MAX_DIRECTIVES,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      maxFields: e.GRAPHQL_MAX_FIELDS,
      maxCost: e.GRAPHQL_MAX_COST,
      introspection: e.GRAPHQL_INTROSPECTION === undefined ? mode !== 'production' : e.GRAPHQL_INTROSPECTION === 'true',
      // Suggestions spell out field names that introspection would otherwise hide.
      hideSuggestions: mode === 'production',
    } satisfies OperationLimits,
    websocket: {
      /** Operations (subscriptions, and queries still running) one socket may have at once. */
      maxSubscriptionsPerSocket: e.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
      /** The same, over all of one user's sockets on this instance. */
      maxSubscriptionsPerUser: e.WS_MAX_SUBSCRIPTIONS_PER_USER,
      /** Messages (pings included) one socket may send per `messageWindow`; past it the socket is closed. */
      maxMessages: e.WS_MAX_MESSAGES,
      messageWindow: e.WS_MESSAGE_WINDOW,
      /** Acknowledged sockets one user may hold on this instance. */
      maxSocketsPerUser: e.WS_MAX_SOCKETS_PER_USER,
      /** Open sockets one client address (IPv6 per /64) may hold on this instance. */
      maxSocketsPerAddress: e.WS_MAX_SOCKETS_PER_ADDRESS,
    },
    connections: {
      /** How long a client may take to send a whole request, headers and body; then 408 and the connection is closed. */
      requestTimeout: e.HTTP_REQUEST_TIMEOUT,
      /** Open TCP connections (sockets included) per client address (IPv6 per /64); 0: no cap. */
      // Behind a proxy every connection comes from the proxy: the cap is then the proxy's job, unless asked for.
      maxPerAddress: e.HTTP_MAX_CONNECTIONS_PER_ADDRESS ?? (trustProxy === false ? DEFAULT_CONNECTIONS_PER_ADDRESS : 0),
    },
    /**
     * Where the secret scanner's public keys are (`https://` URL or file path).
     * Null: `POST /secret-scanning/github` is not served.
     */
    secretScanningKeys: e.SECRET_SCANNING_KEYS,
  };
}

/**
 * What says a deployment is real rather than a developer's embedded default:
 * its own session key (a secret shared with an identity provider, or its
 * JWKS) or a PostgreSQL database. Development sign-in is refused whenever one
 * is present, and without `NODE_ENV` any of them means production.
 */
function deploymentSignals(given: Readonly<Record<string, string>>): string[] {
  const signals: string[] = [];
  if (given['SESSION_SECRET']?.trim()) signals.push('SESSION_SECRET is set');
  if (given['SESSION_JWKS_URL']?.trim()) signals.push('SESSION_JWKS_URL is set');
  if (/^postgres(?:ql)?:/i.test(given['DATABASE_URL']?.trim() ?? '')) signals.push('DATABASE_URL is PostgreSQL');
  return signals;
}

/**
 * Fail closed: development conveniences (demo seed, development sign-in, open
 * introspection, the explorer by default) need `NODE_ENV=development` (or
 * `test`), or a process that runs on the embedded default with nothing of a
 * deployment about it (a fresh clone's `npm start`). Everything else,
 * `NODE_ENV` unset included, is production.
 */
function choosePosture(given: Readonly<Record<string, string>>): { env: Config['env']; reason: string } {
  const named = given['NODE_ENV'];
  if (named === 'development' || named === 'test' || named === 'production') return { env: named, reason: `NODE_ENV=${named}` };
  const signals = deploymentSignals(given);
  // (A NODE_ENV outside the three is refused by the schema.)
  if (signals.length > 0) return { env: 'production', reason: `NODE_ENV is not set and ${signals.join(', ')}` };
  return { env: 'development', reason: 'NODE_ENV is not set and nothing looks deployed: embedded SQLite, generated session secret' };
}

/** Exact origins (`scheme://host[:port]`), as browsers send them in `Origin`; no wildcards. */
function parseOrigins(text: string | null, problems: string[]): string[] {
  const origins: string[] = [];
  for (const item of list(text ?? '')) {
    let origin: string | null = null;
    try {
      const parsed = new URL(item);
      if ((parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.origin === item.replace(/\/$/, '')) {
        origin = parsed.origin;
      }
    } catch {
      origin = null;
    }
    if (origin) origins.push(origin);
    else problems.push(`CORS_ORIGINS: "${item}" is not an origin such as https://app.example.com (no path, no wildcard)`);
  }
  return origins;
}

/**
 * `true` (every hop: only behind a proxy that overwrites `X-Forwarded-For`),
 * or comma-separated proxy addresses, CIDRs or `loopback` / `linklocal` /
 * `uniquelocal`. Hop counts are not offered: Fastify cannot check the
 * immediate peer with them, so a direct client could forge its address.
 */
function parseTrustProxy(text: string | null, problems: string[]): boolean | string[] {
  if (text === null || text === 'false') return false;
  if (text === 'true') return true;
  const addresses = list(text);
  const valid = (a: string) =>
    /^(loopback|linklocal|uniquelocal)$/.test(a) || /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*)(?:\/\d{1,3})?$/.test(a);
  if (addresses.length > 0 && addresses.every(valid)) return addresses;
  problems.push('TRUST_PROXY: must be true, false, or comma-separated proxy addresses, CIDRs, loopback, linklocal or uniquelocal');
  return false;
}

const CLIENT_ID = /^[A-Za-z0-9._~-]{1,64}$/;
const MIN_CLIENT_SECRET = 16;

/** `id:secret` pairs, comma-separated. Problems name the entry by position and id, never by secret. */
function parseIntrospectionClients(text: string | null, problems: string[]): IntrospectionClientConfig[] {
  const clients: IntrospectionClientConfig[] = [];
  list(text ?? '').forEach((item, index) => {
    const colon = item.indexOf(':');
    const id = colon === -1 ? '' : item.slice(0, colon);
    const secret = colon === -1 ? '' : item.slice(colon + 1);
    const where = `INTROSPECTION_CLIENTS: entry ${index + 1}`;
    if (!CLIENT_ID.test(id)) {
      problems.push(`${where} must be id:secret, the id 1-64 letters, digits or . _ ~ -`);
    } else if (secret.length < MIN_CLIENT_SECRET || /\s/.test(secret)) {
      problems.push(`${where} ("${id}") needs a secret of at least ${MIN_CLIENT_SECRET} characters without spaces`);
    } else if (clients.some((client) => client.id === id)) {
      problems.push(`${where}: client id "${id}" appears twice`);
    } else {
      clients.push({ id, secret });
    }
  });
  return clients;
}

/** Expiry warning thresholds, largest first. */
function parseWarnings(text: string, problems: string[]): Duration[] {
  const warnings: Duration[] = [];
  for (const item of list(text)) {
    const d = parseDuration(item);
    if (d) warnings.push(d);
    else problems.push(`EXPIRY_WARNINGS: "${item}" is not a positive ISO-8601 duration such as P7D`);
  }
  warnings.sort((a, b) => b.ms - a.ms);
  if (new Set(warnings.map((d) => d.ms)).size !== warnings.length) {
    problems.push('EXPIRY_WARNINGS: thresholds must be distinct');
  }
  return warnings;
}
