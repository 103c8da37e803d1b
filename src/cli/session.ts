import 'reflect-metadata';
import { prepareDatabase } from '../app.js';
import { SessionVerifier, sessionSecret } from '../auth/session.js';
import { systemClock } from '../clock.js';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { UserService } from '../users/user.service.js';

/** Prints a session JWT for a user, and nothing else, on stdout: `npm run -s session -- alice@example.com`. */
async function main(email: string | undefined): Promise<number> {
  if (!email) {
    process.stderr.write('usage: npm run -s session -- <email>\n');
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

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
