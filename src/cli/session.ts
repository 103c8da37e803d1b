import 'reflect-metadata';
import { prepareDatabase } from '../wiring/database.js';
import { SessionVerifier, sessionSecret } from '../auth/session.js';
import { systemClock } from '../clock.js';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { UserService } from '../users/user.service.js';

const USAGE = `usage: npm run -s session -- <email>

Prints a session JWT for the active user with that email, and nothing else, on
stdout. It signs with SESSION_SECRET (or, where that is unset outside
production, the development secret in <DATA_DIR>/session-secret), and cannot
sign where sessions come from the identity provider (SESSION_JWKS_URL).

Exit codes: 0 printed, 1 no such active user, 2 bad arguments or configuration.
`;

/** Prints a session JWT for a user, and nothing else, on stdout: `npm run -s session -- alice@example.com`. */
async function main(args: readonly string[]): Promise<number> {
  const [email, ...rest] = args;
  if (email === '--help' || email === '-h' || rest.some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  // Anything else that looks like an option is a mistake, not an email to look up.
  if (!email || rest.length > 0 || email.startsWith('-')) {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = loadConfig();
  if (!config.session.secret && config.session.jwksUrl) {
    process.stderr.write('Sessions come from the identity provider (SESSION_JWKS_URL is set); this CLI cannot sign them.\n');
    return 2;
  }
  const orm = await prepareDatabase(config, systemClock, createLogger('warn'));
  try {
    const user = await new UserService(orm).findByEmail(email);
    if (!user || !user.active) {
      process.stderr.write(`No active user with email ${email}.\n`);
      return 1;
    }
    const jwt = await new SessionVerifier(sessionSecret(config), config.session).sign(user);
    process.stdout.write(`${jwt}\n`);
    return 0;
  } finally {
    await orm.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
