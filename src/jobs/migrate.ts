import { migrateDatabase } from '../db/migrate.js';
import { SQL_DIR } from '../runtime/paths.js';
import type { JobDefinition } from '../runtime/runner.js';

export const migrateJob: JobDefinition<Record<string, never>> = {
  name: 'migrate',
  description:
    'Apply the SQL migrations in sql/ in order, each in its own ' +
    'transaction. Refuses to run when an applied file was edited.',
  examples: [
    'bin/migrate',
    'bin/migrate --dry-run',
    'DATABASE_URL=postgresql://leadsmart@db/leadsmart bin/migrate --json',
  ],
  writes: true,
  // job_runs does not exist before the first migration.
  bookkeeping: false,
  parseOptions: () => ({}),
  async run(ctx) {
    const result = await migrateDatabase(ctx.database, SQL_DIR, {
      dryRun: ctx.dryRun,
      onApplied: (filename, ms) => ctx.logger.info(`applied ${filename}`, { filename, ms }),
    });
    const verb = ctx.dryRun ? 'would apply' : 'applied';
    const text =
      result.applied.length === 0
        ? `Database schema is up to date (${result.alreadyApplied} migrations applied).`
        : `${ctx.dryRun ? 'Would apply' : 'Applied'} ${result.applied.length} ` +
          `migration${result.applied.length === 1 ? '' : 's'}: ${result.applied.join(', ')}.`;
    ctx.logger.info(`${verb} ${result.applied.length} migrations`, { applied: result.applied });
    return {
      counts: { migrations_applied: ctx.dryRun ? 0 : result.applied.length },
      summary: { dry_run: ctx.dryRun, applied: result.applied, already_applied: result.alreadyApplied },
      text,
    };
  },
};
