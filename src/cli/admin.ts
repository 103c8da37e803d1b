import 'reflect-metadata';
import { systemClock } from '../clock.js';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { runAdminCommand } from './admin-command.js';

/** `npm run -s admin -- <command> ...`: production bootstrap (organisations, admins, SCIM tokens). */
async function main(argv: readonly string[]): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  return runAdminCommand(argv, {
    config,
    clock: systemClock,
    logger: createLogger('warn'),
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
