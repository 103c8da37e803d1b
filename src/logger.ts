import { pino, type DestinationStream, type Logger, type TransportSingleOptions } from 'pino';
import { redactSecrets } from './redact.js';

export interface LoggerOptions {
  /** Human-readable lines through pino-pretty instead of JSON (see `prettyLogs`). */
  readonly pretty?: boolean;
  /** Where JSON lines go instead of stdout (tests); ignored when pretty. */
  readonly destination?: DestinationStream;
}

/**
 * Pretty when asked for (`LOG_FORMAT=pretty`), or by default on a terminal
 * outside production; JSON otherwise, for log shippers.
 */
export function prettyLogs(
  config: { readonly env: string; readonly logFormat: 'json' | 'pretty' | null },
  // Node types `isTTY` as boolean, but it is undefined on a pipe or a file.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare
  isTTY = process.stdout.isTTY === true,
): boolean {
  if (config.logFormat !== null) return config.logFormat === 'pretty';
  return isTTY && config.env !== 'production';
}

const PRETTY: TransportSingleOptions = {
  target: 'pino-pretty',
  options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
};

/**
 * The service's logger. Credentials are redacted wherever they could appear,
 * as a second line of defence: no code path is meant to log them at all.
 * Known fields are censored by path, and every line is then searched for
 * token-shaped strings (a token pasted into a URL path, an error message
 * quoting one), which are replaced wherever they are.
 */
export function createLogger(level: string, options: LoggerOptions = {}): Logger {
  const settings = {
    level,
    ...(options.pretty ? { transport: PRETTY } : {}),
    hooks: { streamWrite: redactSecrets },
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'secret', '*.secret', 'token', 'connectionParams'],
      censor: '[redacted]',
    },
  };
  return options.destination && !options.pretty ? pino(settings, options.destination) : pino(settings);
}
