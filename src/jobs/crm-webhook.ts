import { randomBytes } from 'node:crypto';
import { hashPassword } from '../core/security/passwords.js';
import { ConfigError, UsageError } from '../errors.js';
import type { JobContext, JobDefinition, JobOutcome } from '../runtime/runner.js';
import { serveUntilSignal } from '../runtime/serve.js';
import { parseClientList } from './client-list.js';

export interface CrmWebhookOptions {
  host: string;
  port: number;
}

const port = (text: string, flag: string) => {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new UsageError(`${flag} ${text}: expected a port 0–65535`);
  return Number(text);
};

/**
 * `bin/crm-webhook`: receives lead status changes from the CRM until SIGTERM/SIGINT, then stops accepting, finishes
 * the requests in flight and exits 0. It writes (DATABASE_URL, the jobs' role); several instances may run.
 */
export const crmWebhookJob: JobDefinition<CrmWebhookOptions> = {
  name: 'crm-webhook',
  description:
    'Receive lead status changes from the CRM: POST /webhooks/leads (the project format, a key from `keys create`) ' +
    'and POST /webhooks/hubspot (HubSpot webhooks, v3 signature). Each request is committed before it is answered.',
  examples: [
    'bin/crm-webhook',
    'bin/crm-webhook --port 8090',
    'bin/crm-webhook keys create --name crm-prod --clients acme',
  ],
  writes: false,
  bookkeeping: false,
  poolSize: 16,
  drainOnSignal: true,
  lock: false,
  addOptions(cmd) {
    cmd
      .option('--host <address>', 'address to bind (default: CRM_WEBHOOK_HOST or 127.0.0.1)')
      .option('--port <port>', 'port (default: CRM_WEBHOOK_PORT or 8090; 0 = any free port)');
  },
  parseOptions(raw, args, { config }) {
    if (args.length > 0) throw new UsageError(`unexpected argument ${args[0]}; to manage keys: crm-webhook keys …`);
    return {
      host: raw.host === undefined ? config.crm.host : String(raw.host),
      port: raw.port === undefined ? config.crm.port : port(String(raw.port), '--port'),
    };
  },
  async run(ctx) {
    const { createCrmService } = await import('../crm/server.js');
    const { startHousekeeping } = await import('../crm/housekeeping.js');
    const c = ctx.config.crm;
    const { app, refusals } = await createCrmService({
      db: ctx.db,
      now: () => ctx.clock.now().getTime(),
      statusMap: c.statusMap,
      hubspot: {
        secret: c.hubspotAppSecret ?? null,
        publicUrl: c.publicUrl ?? null,
        statusProperty: c.hubspotStatusProperty,
        leadIdProperty: c.hubspotLeadIdProperty ?? null,
      },
      trustedProxies: ctx.config.trustedProxies,
      maxInFlight: c.maxInFlight,
      log: (level, message, meta) => ctx.logger[level](ctx.redact(message), meta),
    });
    const housekeeping = startHousekeeping({
      db: ctx.db,
      refusals,
      retention: { keepDays: c.keepDays, pendingExpireDays: c.pendingExpireDays },
      now: () => ctx.clock.now(),
      log: (level, message, meta) => ctx.logger[level](ctx.redact(message), meta),
    });
    let served: { url: string; served: number };
    try {
      served = await serveUntilSignal(ctx as JobContext<unknown>, app, {
        host: ctx.options.host,
        port: ctx.options.port,
        settings: 'CRM_WEBHOOK_PORT/--port',
      });
    } finally {
      await housekeeping.stop();
    }
    const { url } = served;
    return {
      counts: { requests: served.served },
      summary: { url, requests: served.served },
      text: `crm-webhook stopped after ${served.served} requests.`,
    };
  },
};

export interface CrmKeysOptions {
  command: 'create' | 'list' | 'revoke';
  name: string | null;
  clientIds: string[] | null;
}

/** `bin/crm-webhook keys create|list|revoke`: the keys senders of POST /webhooks/leads authenticate with. */
export const crmKeysJob: JobDefinition<CrmKeysOptions> = {
  name: 'crm-webhook',
  description:
    'Manage the keys of POST /webhooks/leads: create one (printed once; only a scrypt hash is stored), optionally ' +
    'limited to some clients; list them; revoke one (refused within 5 seconds).',
  examples: [
    'bin/crm-webhook keys create --name salesforce-prod',
    'bin/crm-webhook keys create --name acme-crm --clients acme',
    'bin/crm-webhook keys list',
    'bin/crm-webhook keys revoke --name acme-crm',
  ],
  writes: false,
  bookkeeping: false,
  lock: false,
  addOptions(cmd) {
    cmd
      .argument('<keys>', 'the word "keys"')
      .argument('<command>', 'create, list or revoke')
      .option('--name <name>', 'the key (create, revoke): letters, digits and . _ @ + -, at most 64')
      .option('--clients <ids>', 'create: the key may write only for these clients (comma-separated client_ids)');
  },
  parseOptions(raw, args) {
    const [, command] = args; // commander refuses more arguments itself (exit 64)
    if (command !== 'create' && command !== 'list' && command !== 'revoke')
      throw new UsageError(`keys ${command ?? ''}: unknown command; expected create, list or revoke`);
    const name = raw.name === undefined ? null : String(raw.name);
    if (command !== 'list' && name === null) throw new UsageError(`keys ${command}: --name is required`);
    if (name !== null && !/^[A-Za-z0-9._@+-]{1,64}$/.test(name))
      throw new UsageError(`--name ${JSON.stringify(name.slice(0, 80))}: use letters, digits and . _ @ + -`);
    if (raw.clients !== undefined && command !== 'create')
      throw new UsageError(`keys ${command}: --clients is for create`);
    const clientIds = raw.clients === undefined ? null : parseClientList(raw.clients);
    return { command, name, clientIds };
  },
  async run(ctx): Promise<JobOutcome> {
    const repo = await import('../db/repositories/crm.repository.js');
    const users = await import('../db/repositories/users.repository.js');
    const { command, name, clientIds } = ctx.options;
    try {
      if (command === 'list') {
        const keys = await repo.listKeys(ctx.db);
        const scope = (ids: string[] | null) => (ids === null ? 'every client' : `clients ${ids.join(', ')}`);
        return {
          counts: { keys: keys.length },
          summary: {
            keys: keys.map((k) => ({
              name: k.name,
              prefix: `lsk_${k.prefix}`,
              client_ids: k.clientIds,
              created_at: k.createdAt.toISOString(),
              revoked_at: k.revokedAt?.toISOString() ?? null,
            })),
          },
          text:
            keys.length === 0
              ? 'No keys yet: bin/crm-webhook keys create --name NAME'
              : keys
                  .map(
                    (k) =>
                      `${k.name.padEnd(24)} lsk_${k.prefix}_…  ${scope(k.clientIds).padEnd(28)} ` +
                      (k.revokedAt ? `revoked ${k.revokedAt.toISOString().slice(0, 16)}` : 'active'),
                  )
                  .join('\n'),
        };
      }
      if (command === 'revoke') {
        if (!(await repo.revokeKey(ctx.db, name!))) throw new UsageError(`no active key ${name}; see keys list`);
        return {
          counts: { revoked: 1 },
          summary: { revoked: name },
          text: `Revoked ${name}: refused within 5 seconds.`,
        };
      }
      if (clientIds !== null) {
        const unknown = await users.unknownClients(ctx.db, clientIds);
        if (unknown.length > 0)
          throw new UsageError(
            `--clients: no client ${unknown.join(', ')}; import it first (import-csv --kind clients)`,
          );
      }
      const prefix = [...randomBytes(8)].map((b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
      const secret = randomBytes(32).toString('base64url');
      const hash = await hashPassword(`${prefix}_${secret}`);
      if (!(await repo.createKey(ctx.db, { name: name!, prefix, hash, clientIds })))
        throw new UsageError(`a key named ${name} exists already; choose another name, or revoke it first`);
      return {
        counts: { created: 1 },
        summary: { created: name, prefix: `lsk_${prefix}`, client_ids: clientIds },
        text:
          `Created ${name}${clientIds ? ` (clients ${clientIds.join(', ')})` : ''}. The key, shown this once:\n` +
          `lsk_${prefix}_${secret}`,
      };
    } catch (error) {
      if ((error as { code?: string }).code === '42P01')
        throw new ConfigError('the crm_keys table does not exist yet: run bin/migrate first', { cause: error });
      throw error;
    }
  },
};
