import type { Readable } from 'node:stream';
import { ConfigError, UsageError } from '../errors.js';
import type { JobDefinition, JobOutcome } from '../runtime/runner.js';
import { parseClientList } from './client-list.js';
import { generatePassword, hashPassword, passwordProblem } from '../core/security/passwords.js';

export interface StatusUsersOptions {
  command: 'add' | 'remove' | 'list' | 'passwd';
  username: string | null;
  /** add: null for an agency-wide user, else the clients it is limited to. */
  clientIds: string[] | null;
  passwordStdin: boolean;
}

const COMMANDS = ['add', 'remove', 'list', 'passwd'] as const;
const USERNAME = /^[A-Za-z0-9._@+-]{1,64}$/;

/** The first line of standard input: a password piped in, never typed on the command line (ps shows those). */
async function readPassword(stdin: Readable): Promise<string> {
  if ((stdin as { isTTY?: boolean }).isTTY)
    throw new UsageError('--password-stdin: standard input is a terminal; pipe the password in, e.g. from a file');
  let text = '';
  for await (const chunk of stdin) {
    text += chunk.toString();
    if (text.includes('\n') || text.length > 4096) break;
  }
  const password = text.split(/\r?\n/)[0] ?? '';
  const problem = passwordProblem(password);
  if (problem) throw new UsageError(`--password-stdin: the password must have ${problem}`);
  return password;
}

/**
 * `bin/status-server users add|remove|list|passwd`: the people who may sign in to the pages. Run with the owner's
 * DATABASE_URL: the server itself connects read-only and never writes.
 */
export const statusUsersJob: JobDefinition<StatusUsersOptions> = {
  name: 'status-server',
  description:
    "Manage who may sign in to status-server's pages: add a user (agency-wide, or limited to some clients), remove " +
    'one, list them, or set a new password. Passwords are stored only as scrypt hashes. Uses DATABASE_URL (the owner).',
  examples: [
    'bin/status-server users add alice --agency                     # prints a generated password once',
    'bin/status-server users add bob --clients acme,globex',
    'printf \'%s\\n\' "$NEW_PASSWORD" | bin/status-server users passwd alice --password-stdin',
    'bin/status-server users list',
    'bin/status-server users remove bob',
  ],
  writes: false,
  // An administrator's command, not a scheduled job: no job_runs row, no lock.
  bookkeeping: false,
  lock: false,
  addOptions(cmd) {
    cmd
      .argument('<users>', 'the word "users"')
      .argument('<command>', `one of ${COMMANDS.join(', ')}`)
      .argument('[username]', 'the user (add, remove, passwd): letters, digits and . _ @ + -, at most 64')
      .option('--agency', 'add: the user sees every client')
      .option('--clients <ids>', 'add: the user sees only these clients (comma-separated client_ids)')
      .option('--password-stdin', 'add, passwd: read the password from the first line of standard input');
  },
  parseOptions(raw, args) {
    const [, command, username] = args; // commander refuses more arguments itself (exit 64)
    if (!COMMANDS.includes(command as (typeof COMMANDS)[number]))
      throw new UsageError(`users ${command ?? ''}: unknown command; expected one of ${COMMANDS.join(', ')}`);
    const cmd = command as StatusUsersOptions['command'];
    if (cmd === 'list') {
      if (username !== undefined) throw new UsageError(`users list takes no user name (got ${username})`);
    } else if (username === undefined) throw new UsageError(`users ${cmd}: name the user, e.g. users ${cmd} alice`);
    else if (!USERNAME.test(username))
      throw new UsageError(`user name ${JSON.stringify(username.slice(0, 80))}: use letters, digits and . _ @ + -`);
    let clientIds: string[] | null = null;
    if (cmd === 'add') {
      if ((raw.agency === true) === (raw.clients !== undefined))
        throw new UsageError('users add: give exactly one of --agency (every client) or --clients a,b');
      if (raw.clients !== undefined) clientIds = parseClientList(raw.clients);
    } else if (raw.agency !== undefined || raw.clients !== undefined)
      throw new UsageError(`users ${cmd}: --agency and --clients are for add (to change a scope: remove, then add)`);
    if (raw.passwordStdin && cmd !== 'add' && cmd !== 'passwd')
      throw new UsageError(`users ${cmd}: --password-stdin is for add and passwd`);
    return { command: cmd, username: username ?? null, clientIds, passwordStdin: raw.passwordStdin === true };
  },
  async run(ctx): Promise<JobOutcome> {
    const repo = await import('../db/repositories/users.repository.js');
    const { command, username, clientIds } = ctx.options;
    const scope = (ids: string[] | null) => (ids === null ? 'agency-wide' : `clients ${ids.join(', ')}`);
    try {
      if (command === 'list') {
        const users = await repo.listUsers(ctx.db);
        const lines = users.map(
          (u) =>
            `${u.username.padEnd(24)} ${scope(u.clientIds).padEnd(32)} ` +
            `password set ${u.passwordChangedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
        );
        return {
          counts: { users: users.length },
          summary: {
            users: users.map((u) => ({
              username: u.username,
              agency_wide: u.clientIds === null,
              client_ids: u.clientIds ?? [],
              created_at: u.createdAt.toISOString(),
              password_changed_at: u.passwordChangedAt.toISOString(),
            })),
          },
          text:
            users.length === 0
              ? 'No users yet: add one with bin/status-server users add NAME --agency'
              : lines.join('\n'),
        };
      }
      const name = username!;
      if (command === 'remove') {
        if (!(await repo.removeUser(ctx.db, name))) throw new UsageError(`no user ${name}; see users list`);
        return { counts: { removed: 1 }, summary: { removed: name }, text: `Removed ${name}; signs in no more.` };
      }
      if (command === 'add' && clientIds !== null) {
        const unknown = await repo.unknownClients(ctx.db, clientIds);
        if (unknown.length > 0)
          throw new UsageError(
            `--clients: no client ${unknown.join(', ')} in the clients table; ` +
              'import it first (import-csv --kind clients)',
          );
      }
      const generated = ctx.options.passwordStdin ? null : generatePassword();
      const password = generated ?? (await readPassword(ctx.stdin));
      const hash = await hashPassword(password);
      const shown = generated ? `\nIts password, shown this once: ${generated}` : '';
      if (command === 'add') {
        if (!(await repo.addUser(ctx.db, { username: name, passwordHash: hash, clientIds })))
          throw new UsageError(
            `user ${name} exists already (names are compared without regard to case); choose another name, or set ` +
              `a new password with users passwd`,
          );
        return {
          counts: { added: 1 },
          summary: { added: name, agency_wide: clientIds === null, client_ids: clientIds ?? [] },
          text: `Added ${name} (${scope(clientIds)}).${shown}`,
        };
      }
      if (!(await repo.setPassword(ctx.db, name, hash))) throw new UsageError(`no user ${name}; see users list`);
      return {
        counts: { passwords_set: 1 },
        summary: { password_set: name },
        text: `New password for ${name}; the old one stops working within 5 seconds.${shown}`,
      };
    } catch (error) {
      if ((error as { code?: string }).code === '42P01')
        throw new ConfigError('the dashboard_users table does not exist yet: run bin/migrate first', { cause: error });
      throw error;
    }
  },
};
