import { main, type JobDefinition } from './runtime/runner.js';

/** bin/<job> runs `node dist/cli.js <job> …`; each job module is loaded only when asked for. */
const JOBS: Record<string, () => Promise<JobDefinition<never>>> = {
  'score-campaigns': async () => (await import('./jobs/score-campaigns.js')).scoreCampaignsJob as JobDefinition<never>,
  'fetch-facebook': async () => (await import('./jobs/fetch-facebook.js')).fetchFacebookJob as JobDefinition<never>,
  'send-alerts': async () => (await import('./jobs/send-alerts.js')).sendAlertsJob as JobDefinition<never>,
  'backup-db': async () => (await import('./jobs/backup-db.js')).backupDbJob as JobDefinition<never>,
  'status-server': async () => (await import('./jobs/status-server.js')).statusServerJob as JobDefinition<never>,
  'import-csv': async () => (await import('./jobs/import-csv.js')).importCsvJob as JobDefinition<never>,
  migrate: async () => (await import('./jobs/migrate.js')).migrateJob as JobDefinition<never>,
  'backtest-scoring': async () =>
    (await import('./jobs/backtest-scoring.js')).backtestScoringJob as JobDefinition<never>,
  'crm-webhook': async () => (await import('./jobs/crm-webhook.js')).crmWebhookJob as JobDefinition<never>,
};

// The Node.js line the jobs are built and tested on (runtime/package.json; scripts/runtime.sh installs it).
const NODE_MAJOR = 26;
const [name, ...rest] = process.argv.slice(2);
// `backup-db restore …` is its own definition: it works on --target, not DATABASE_URL. So is `status-server users …`:
// it writes, with the owner's DATABASE_URL, where the server only reads.
const load =
  name === 'backup-db' && rest[0] === 'restore'
    ? async () => (await import('./jobs/backup-db.js')).restoreDbJob as JobDefinition<never>
    : name === 'status-server' && rest[0] === 'users'
      ? async () => (await import('./jobs/status-users.js')).statusUsersJob as JobDefinition<never>
      : name === 'crm-webhook' && rest[0] === 'keys'
        ? async () => (await import('./jobs/crm-webhook.js')).crmKeysJob as JobDefinition<never>
        : name === 'crm-webhook' && rest[0] === 'dead-letters'
          ? async () =>
              (await import('./commands/crm-webhook/dead-letters.js')).deadLettersCommand as JobDefinition<never>
          : name === undefined
            ? undefined
            : JOBS[name];
if (Number(process.versions.node.split('.')[0]) < NODE_MAJOR) {
  process.stderr.write(
    `Node.js ${process.versions.node} is older than the ${NODE_MAJOR} these jobs run on: run make deps ` +
      `(it installs Node.js ${NODE_MAJOR} under runtime/, which bin/* then use), or install Node.js ${NODE_MAJOR}\n`,
  );
  process.exitCode = 78;
} else if (!load) {
  process.stderr.write(`usage: node dist/cli.js <job> [options]; jobs: ${Object.keys(JOBS).join(', ')}\n`);
  process.exitCode = 64;
} else {
  main(await load(), rest);
}
