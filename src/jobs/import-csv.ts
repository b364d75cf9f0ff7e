import { resolve } from 'node:path';
import { CONTRACT_COLUMNS, KIND_NAMES, type KindName, normalizeHeaderName } from '../core/csv-import/kinds.js';
import { DATE_FORMATS, type DateFormat, isDateFormat, parseColumnMap } from '../core/csv-import/meta-export.js';
import { reportImportCsv } from '../core/reports/import-csv.js';
import { UsageError } from '../errors.js';
import type { JobDefinition } from '../runtime/runner.js';
import { type ImportCsvOptions, importCsv } from './import-csv/import.js';

export { checkRejectsPath, guardFormula } from './import-csv/import.js';
export type { ImportCsvOptions };

export const importCsvJob: JobDefinition<ImportCsvOptions> = {
  name: 'import-csv',
  description:
    'Import clients, campaigns, metrics, leads or lead-status CSV ' +
    'files (or standard input) per docs/csv-import.md: all rows or ' +
    'none, upserted on their keys.',
  examples: [
    'bin/import-csv metrics.csv                       # kind inferred from the header',
    'cat export.csv | bin/import-csv --kind metrics   # a Meta Ads Manager daily export, from standard input',
    'bin/import-csv clients.csv campaigns.csv metrics.csv leads.csv lead-status.csv',
    'bin/import-csv --skip-invalid --rejects rejects.csv leads.csv',
    'bin/import-csv --dry-run --json metrics.csv',
    'bin/import-csv --client acme "Ads Manager export.csv"   # a Meta export keyed by campaign name, per ad or per day',
    "bin/import-csv --map 'Spent=spend,Date=date' --date-format DD/MM/YYYY other-export.csv",
  ],
  writes: true,
  textTo: 'stderr',
  addOptions(cmd) {
    cmd
      .argument(
        '[files...]',
        'CSV files, imported in the order given, in one transaction; none or "-" reads standard input',
      )
      .option('--kind <kind>', `${KIND_NAMES.join('|')} (default: inferred from each header)`)
      .option(
        '--skip-invalid',
        'write the valid rows and reject the others, instead of writing nothing when a row is invalid',
      )
      .option(
        '--rejects <file>',
        'write every invalid row there, as in the input plus a reason column (a new file, or --force)',
      )
      .option('--force', 'overwrite an existing --rejects file (never a symbolic link or a device)')
      .option('--map <pairs>', "read columns under other names: 'Their column=our_column,…' (any kind, any column)")
      .option('--date-format <format>', `dates written ${DATE_FORMATS.join(', ')} instead of YYYY-MM-DD`)
      .option(
        '--decimal-comma',
        'numbers written 1.234,56 (a comma before the decimals, points between thousands), ' +
          'as many spreadsheets save them',
      )
      .option(
        '--client <client_id>',
        'metrics: look campaigns up by name within this client, and give the campaigns created to it',
      );
  },
  parseOptions(raw, args) {
    let kind: KindName | undefined;
    if (raw.kind !== undefined) {
      if (!KIND_NAMES.includes(raw.kind as KindName))
        throw new UsageError(`--kind ${String(raw.kind)}: not a kind; use one of ${KIND_NAMES.join(', ')}`);
      kind = raw.kind as KindName;
    }
    const inputs = args.length === 0 ? ['-'] : args;
    if (inputs.filter((i) => i === '-').length > 1)
      throw new UsageError('standard input ("-") can be read only once; name it once');
    const rejects = typeof raw.rejects === 'string' ? raw.rejects : undefined;
    if (rejects !== undefined && inputs.length > 1)
      throw new UsageError(
        `--rejects takes one input, and ${inputs.length} were given: ` +
          `rejected rows keep their file's columns; import the files one by one`,
      );
    if (rejects !== undefined && inputs.some((i) => i !== '-' && resolve(i) === resolve(rejects)))
      throw new UsageError(`--rejects ${rejects} would overwrite the input`);
    let renames = new Map<string, string>();
    if (raw.map !== undefined) {
      const parsed = parseColumnMap(String(raw.map), CONTRACT_COLUMNS, normalizeHeaderName);
      if ('problems' in parsed) throw new UsageError(`--map ${String(raw.map)}: ${parsed.problems.join('; ')}`);
      renames = parsed.map;
    }
    let dateFormat: DateFormat | null = null;
    if (raw.dateFormat !== undefined) {
      const f = String(raw.dateFormat).toUpperCase();
      if (!isDateFormat(f))
        throw new UsageError(
          `--date-format ${String(raw.dateFormat)}: not a format this ` +
            `import reads; use one of ${DATE_FORMATS.join(', ')} (YYYY-MM-DD ` +
            `needs no flag)`,
        );
      dateFormat = f;
    }
    let client: string | null = null;
    if (raw.client !== undefined) {
      client = String(raw.client).trim();
      if (client === '') throw new UsageError('--client: empty; name a client_id');
    }
    return {
      kind,
      skipInvalid: raw.skipInvalid === true,
      rejects,
      force: raw.force === true,
      inputs,
      renames,
      dateFormat,
      decimalComma: raw.decimalComma === true,
      client,
    };
  },
  async run(ctx) {
    const openStore = async () => {
      const { openBlobStore } = await import('../integrations/storage/blob-store.js');
      return openBlobStore(ctx.config.blobUrl);
    };
    return reportImportCsv(await importCsv({ ...ctx, openStore }, ctx.options));
  },
};
