import type { Logger } from 'pino';
import { AuditLog } from '../audit/audit-log.js';
import { Changes } from '../audit/changes.js';
import { bootstrapOrganization } from '../admin/bootstrap.js';
import { OrganizationDomains } from '../admin/domains.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { openDatabase } from '../db/orm.js';
import { BadUserInputError } from '../errors.js';
import { followerLeaseMs } from '../events/log-follower.js';
import { ScimCredentials } from '../scim/scim-credentials.js';

/** What the admin CLI was asked to do, once its arguments are checked. */
export type AdminCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'create-organization'; readonly name: string; readonly admin: string; readonly adminName: string | null }
  | { readonly kind: 'scim-token'; readonly organization: string }
  | { readonly kind: 'revoke-scim-token'; readonly organization: string }
  | { readonly kind: 'add-domain' | 'remove-domain'; readonly organization: string; readonly domain: string }
  | { readonly kind: 'list-domains'; readonly organization: string };

export class UsageError extends Error {}

export const USAGE = `usage:
  npm run -s admin -- create-organization --name <organisation> --admin <email> [--admin-name <name>]
  npm run -s admin -- scim-token --organization <organisation>
  npm run -s admin -- revoke-scim-token --organization <organisation>
  npm run -s admin -- add-domain --organization <organisation> --domain <domain>
  npm run -s admin -- remove-domain --organization <organisation> --domain <domain>
  npm run -s admin -- list-domains --organization <organisation>

create-organization  creates the organisation and its first ADMIN; running it again changes nothing.
scim-token           prints a new SCIM bearer token for the organisation (only the token, on stdout);
                     the organisation's previous SCIM token stops working.
revoke-scim-token    removes the organisation's SCIM token; directory sync stops until a new one is issued.
add-domain           records a verified email domain as the organisation's: from then on its users are created
                     only at its domains, and no other organisation can create users there. Refused when
                     another organisation has the domain. Existing users keep their accounts.
remove-domain        removes one of the organisation's domains (with none left, any unclaimed domain is allowed).
list-domains         prints the organisation's domains, one a line.
`;

const OPTIONS: Record<Exclude<AdminCommand['kind'], 'help'>, { required: readonly string[]; optional: readonly string[] }> = {
  'create-organization': { required: ['name', 'admin'], optional: ['admin-name'] },
  'scim-token': { required: ['organization'], optional: [] },
  'revoke-scim-token': { required: ['organization'], optional: [] },
  'add-domain': { required: ['organization', 'domain'], optional: [] },
  'remove-domain': { required: ['organization', 'domain'], optional: [] },
  'list-domains': { required: ['organization'], optional: [] },
};

/** Checks the arguments (after `--`); throws UsageError with a message for the person at the shell. */
export function parseAdminArgs(argv: readonly string[]): AdminCommand {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return { kind: 'help' };
  if (!Object.hasOwn(OPTIONS, command)) throw new UsageError(`Unknown command "${command}".`);
  const kind = command as keyof typeof OPTIONS;
  const spec = OPTIONS[kind];
  const values = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? '';
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!match?.[1]) throw new UsageError(`Unexpected argument "${arg}".`);
    const option = match[1];
    if (!spec.required.includes(option) && !spec.optional.includes(option)) {
      throw new UsageError(`${command} has no option --${option}.`);
    }
    if (values.has(option)) throw new UsageError(`--${option} is given twice.`);
    let value = match[2];
    if (value === undefined) {
      value = rest[i + 1];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${option} needs a value.`);
      i++;
    }
    if (value.trim() === '') throw new UsageError(`--${option} must not be empty.`);
    values.set(option, value.trim());
  }
  const missing = spec.required.filter((option) => !values.has(option));
  if (missing.length) throw new UsageError(`${command} needs ${missing.map((option) => `--${option}`).join(' and ')}.`);
  const value = (option: string) => values.get(option) ?? '';
  switch (kind) {
    case 'create-organization':
      return { kind, name: value('name'), admin: value('admin'), adminName: values.get('admin-name') ?? null };
    case 'scim-token':
    case 'revoke-scim-token':
    case 'list-domains':
      return { kind, organization: value('organization') };
    case 'add-domain':
    case 'remove-domain':
      return { kind, organization: value('organization'), domain: value('domain') };
  }
}

export interface CliIo {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/**
 * Runs the admin CLI and returns its exit code: 0 done (or nothing to do),
 * 1 refused (no such organisation, an email taken elsewhere, invalid input),
 * 2 bad arguments. What a script needs (the SCIM token) goes to stdout alone;
 * everything for the person goes to stderr, except create-organization's report.
 */
export async function runAdminCommand(argv: readonly string[], io: CliIo): Promise<number> {
  let command: AdminCommand;
  try {
    command = parseAdminArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (command.kind === 'help') {
    io.out(USAGE);
    return 0;
  }
  // Migrates, never seeds: run against production with NODE_ENV forgotten, it must not plant the demo users.
  const orm = await openDatabase(io.config.databaseUrl, io.logger);
  try {
    // No events to publish: an organisation or a SCIM token is nobody's token event.
    const changes = new Changes(orm, new AuditLog(io.config.region), () => undefined);
    switch (command.kind) {
      case 'create-organization': {
        const outcome = await bootstrapOrganization(changes, io.clock, {
          name: command.name,
          adminEmail: command.admin,
          adminName: command.adminName,
        });
        if (outcome.kind === 'conflict') {
          io.err(`${outcome.message}\n`);
          return 1;
        }
        const messages = {
          created: `Created organisation ${command.name} with admin ${command.admin.toLowerCase()}.`,
          'admin-added': `Organisation ${command.name} already existed; added admin ${command.admin.toLowerCase()}.`,
          unchanged: `Organisation ${command.name} and admin ${command.admin.toLowerCase()} already exist; nothing changed.`,
        } as const;
        io.out(`${messages[outcome.kind]}\n`);
        return 0;
      }
      case 'scim-token': {
        const issued = await new ScimCredentials(orm, changes, io.clock).issue(command.organization);
        if (!issued) return noSuchOrganization(io, command.organization);
        if (issued.rotated) await untilEveryInstanceHeard(io.config);
        io.out(`${issued.secret}\n`);
        io.err(
          `${issued.rotated ? 'Rotated' : 'Issued'} the SCIM token of ${command.organization}${issued.rotated ? '; the previous one no longer works' : ''}. ` +
            'It is shown only this once: put it in your identity provider now.\n',
        );
        return 0;
      }
      case 'revoke-scim-token': {
        const revoked = await new ScimCredentials(orm, changes, io.clock).revoke(command.organization);
        if (revoked === null) return noSuchOrganization(io, command.organization);
        if (revoked) await untilEveryInstanceHeard(io.config);
        io.out(
          revoked
            ? `Revoked the SCIM token of ${command.organization}.\n`
            : `${command.organization} had no SCIM token; nothing changed.\n`,
        );
        return 0;
      }
      case 'add-domain':
      case 'remove-domain':
      case 'list-domains':
        return await runDomainCommand(command, new OrganizationDomains(changes, io.clock), io);
    }
  } catch (error) {
    if (!(error instanceof BadUserInputError)) throw error;
    const field = error.extensions['field'];
    io.err(`${error.message}${typeof field === 'string' ? ` (${OPTION_OF_FIELD[field] ?? field})` : ''}\n`);
    return 1;
  } finally {
    await orm.close();
  }
}

/** Which option a validation error's field came from. */
const OPTION_OF_FIELD: Record<string, string> = { name: '--name', email: '--admin', adminName: '--admin-name', domain: '--domain' };

type DomainCommand = Extract<AdminCommand, { kind: 'add-domain' | 'remove-domain' | 'list-domains' }>;

async function runDomainCommand(command: DomainCommand, domains: OrganizationDomains, io: CliIo): Promise<number> {
  const organization = command.organization;
  if (command.kind === 'list-domains') {
    const list = await domains.list(organization);
    if (list === null) return noSuchOrganization(io, organization);
    io.out(list.map((domain) => `${domain}\n`).join(''));
    if (list.length === 0) io.err(`${organization} has no domains: its users may have any address no other organisation claimed.\n`);
    return 0;
  }
  const domain = command.domain.toLowerCase();
  const outcome = command.kind === 'add-domain' ? await domains.add(organization, domain) : await domains.remove(organization, domain);
  switch (outcome.kind) {
    case 'no-organization':
      return noSuchOrganization(io, organization);
    case 'claimed':
      io.err(`${domain} belongs to another organisation; nothing was changed. Remove it there first if it was claimed by mistake.\n`);
      return 1;
    case 'added':
      io.out(`Added ${domain} to ${organization}: its users are now created only at its domains.\n`);
      break;
    case 'removed':
      io.out(`Removed ${domain} from ${organization}.\n`);
      break;
    case 'unchanged':
      io.out(
        command.kind === 'add-domain'
          ? `${organization} already has ${domain}; nothing changed.\n`
          : `${organization} did not have ${domain}; nothing changed.\n`,
      );
      break;
  }
  if (outcome.othersUsers > 0) {
    io.err(
      `Note: ${outcome.othersUsers} user(s) of other organisations already have addresses at ${domain}; they keep their accounts. Review them.\n`,
    );
  }
  return 0;
}

/**
 * Waits one log-follower lease after a SCIM token's rotation or revocation:
 * running instances cache verified SCIM tokens and hear of the change only
 * from the stored log (this process runs no event hub), and once the lease
 * has passed each has read it or stopped trusting its cache. So when the
 * command returns, the old token works nowhere.
 */
async function untilEveryInstanceHeard(config: Config): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, followerLeaseMs(config.eventPollInterval.ms)));
}

function noSuchOrganization(io: CliIo, name: string): number {
  io.err(
    `No organisation named "${name}". Create it first: npm run -s admin -- create-organization --name ${JSON.stringify(name)} --admin <email>\n`,
  );
  return 1;
}
