import { pino, type Logger } from 'pino';

/**
 * The service's logger. Credentials are redacted wherever they could appear,
 * as a second line of defence: no code path is meant to log them at all.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'authorization',
        'secret',
        '*.secret',
        'token',
        'connectionParams',
      ],
      censor: '[redacted]',
    },
  });
}
