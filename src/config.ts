import { z } from 'zod';
import { DAY_MS, parseDuration, type Duration } from './duration.js';

/** The service's whole configuration, validated once at start. */
export interface Config {
  readonly env: 'development' | 'test' | 'production';
  readonly host: string;
  readonly port: number;
  /** Where the embedded default keeps its database, session secret and mail. */
  readonly dataDir: string;
  /** `sqlite:<file>` or `postgres://…`; defaults to `<dataDir>/api-tokens.sqlite`. */
  readonly databaseUrl: string;
  /** Null: events stay in this process. */
  readonly redisUrl: string | null;
  readonly session: SessionConfig;
  /** Null: emails are written as `.eml` files under `<dataDir>/mail/`. */
  readonly smtpUrl: string | null;
  readonly mailFrom: string;
  /** How often the mail worker looks for due outbox rows when no commit nudged it. */
  readonly mailPollInterval: Duration;
  /** Delivery attempts per email before it is marked FAILED. */
  readonly mailMaxAttempts: number;
  /** The profile page; links in emails point here. From `PUBLIC_URL` (or the older `APP_URL`). */
  readonly appUrl: string;
  /** Whether a browser GET of `/graphql` gets the offline GraphiQL explorer (default: outside production). */
  readonly graphqlExplorer: boolean;
  /** This instance's region, recorded as a token's last-used region. */
  readonly region: string;
  /** Every region a token works in. */
  readonly regions: readonly string[];
  readonly tokenLifetime: Duration;
  /** Largest first. */
  readonly expiryWarnings: readonly Duration[];
  readonly sweepInterval: Duration;
  /** Largest accepted request body, in bytes. */
  readonly bodyLimit: number;
  readonly logLevel: string;
  /**
   * Who may call `POST /oauth/introspect` (HTTP Basic). Empty: none configured;
   * outside production a development client is then generated.
   */
  readonly introspectionClients: readonly IntrospectionClientConfig[];
}

export interface IntrospectionClientConfig {
  readonly id: string;
  readonly secret: string;
}

export interface SessionConfig {
  /** HS256 secret shared with the identity provider. Null when `jwksUrl` is used. */
  readonly secret: string | null;
  readonly jwksUrl: string | null;
  readonly issuer: string | null;
  readonly audience: string | null;
}

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
        message: `${name} must be a positive ISO-8601 duration such as P180D or PT20S (years and months are not accepted), got "${text}"`,
      });
      return z.NEVER;
    }
    return parsed;
  });

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
    { message: `${name} must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );

const list = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

const DEFAULT_EXPIRY_WARNINGS = 'P30D,P7D,P1D';

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce
    .number({ message: 'PORT must be a number' })
    .int('PORT must be a whole number')
    .min(0, 'PORT must be between 0 and 65535')
    .max(65535, 'PORT must be between 0 and 65535')
    .default(4000),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: url('DATABASE_URL', ['sqlite:', 'postgres:', 'postgresql:']),
  REDIS_URL: url('REDIS_URL', ['redis:', 'rediss:']),
  SESSION_SECRET: optionalText.refine((v) => v === null || v.length >= 32, {
    message: 'SESSION_SECRET must be at least 32 characters',
  }),
  SESSION_JWKS_URL: url('SESSION_JWKS_URL', ['https:', 'http:']),
  SESSION_ISSUER: optionalText,
  SESSION_AUDIENCE: optionalText,
  SMTP_URL: url('SMTP_URL', ['smtp:', 'smtps:']),
  MAIL_FROM: z.string().default('API Tokens <no-reply@localhost>'),
  MAIL_POLL_INTERVAL: duration('MAIL_POLL_INTERVAL').default({ iso: 'PT5S', ms: 5_000 }),
  MAIL_MAX_ATTEMPTS: z.coerce
    .number({ message: 'MAIL_MAX_ATTEMPTS must be a number' })
    .int('MAIL_MAX_ATTEMPTS must be a whole number')
    .min(1, 'MAIL_MAX_ATTEMPTS must be between 1 and 100')
    .max(100, 'MAIL_MAX_ATTEMPTS must be between 1 and 100')
    .default(12),
  APP_URL: url('APP_URL', ['http:', 'https:']),
  PUBLIC_URL: url('PUBLIC_URL', ['http:', 'https:']),
  GRAPHQL_EXPLORER: z.enum(['true', 'false'], { message: 'GRAPHQL_EXPLORER must be true or false' }).optional(),
  REGION: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/, 'REGION must be 1-32 lowercase letters, digits or dashes')
    .default('local'),
  REGIONS: optionalText,
  TOKEN_LIFETIME: duration('TOKEN_LIFETIME').default({ iso: 'P180D', ms: 180 * DAY_MS }),
  EXPIRY_WARNINGS: z.string().default(DEFAULT_EXPIRY_WARNINGS),
  SWEEP_INTERVAL: duration('SWEEP_INTERVAL').default({ iso: 'PT1M', ms: 60_000 }),
  BODY_LIMIT: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(100 * 1024),
  INTROSPECTION_CLIENTS: optionalText,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/**
 * Reads the configuration from environment variables. Every bad value is
 * reported at once, by name, so a misconfigured deployment fails at start with
 * one readable message instead of at the first request.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
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
  const region = given['REGION'] ?? 'local';
  const regions = given['REGIONS'] ? list(given['REGIONS']) : [region];
  if (!regions.includes(region)) {
    problems.push(`REGIONS: must include this instance's REGION "${region}"`);
  }
  if (!given['SESSION_SECRET'] && !given['SESSION_JWKS_URL'] && given['NODE_ENV'] === 'production') {
    problems.push('SESSION_SECRET or SESSION_JWKS_URL must be set when NODE_ENV=production');
  }
  const introspectionClients = parseIntrospectionClients(given['INTROSPECTION_CLIENTS'] ?? null, problems);
  if (!parsed.success || problems.length) throw new ConfigError(problems);
  const e = parsed.data;

  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL ?? `sqlite:${e.DATA_DIR.replace(/\/$/, '')}/api-tokens.sqlite`,
    redisUrl: e.REDIS_URL,
    session: {
      secret: e.SESSION_SECRET,
      jwksUrl: e.SESSION_JWKS_URL,
      issuer: e.SESSION_ISSUER,
      audience: e.SESSION_AUDIENCE,
    },
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    mailPollInterval: e.MAIL_POLL_INTERVAL,
    mailMaxAttempts: e.MAIL_MAX_ATTEMPTS,
    appUrl: e.PUBLIC_URL ?? e.APP_URL ?? `http://localhost:${e.PORT}/`,
    graphqlExplorer: e.GRAPHQL_EXPLORER ? e.GRAPHQL_EXPLORER === 'true' : e.NODE_ENV !== 'production',
    region: e.REGION,
    regions,
    tokenLifetime: e.TOKEN_LIFETIME,
    expiryWarnings,
    sweepInterval: e.SWEEP_INTERVAL,
    bodyLimit: e.BODY_LIMIT,
    logLevel: e.LOG_LEVEL,
    introspectionClients,
  };
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
